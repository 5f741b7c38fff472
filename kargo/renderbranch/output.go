package renderbranch

// Output is what a run reports, under the names Kargo's built-in steps use
// for the same values (git-push's branch and commit, git-open-pr's and
// git-wait-for-pr's pr).
type Output struct {
	// Branch is where the render went: the stage branch, or the pull
	// request's head branch.
	Branch string
	// TargetBranch is the deployment's stage branch (deployment.yaml's
	// branch), the pull request's base for a review deployment.
	TargetBranch string
	// Commit is the commit of TargetBranch that holds the render: the new
	// commit, the existing tip when nothing changed, or the pull request's
	// merge commit; "" while the pull request is open.
	Commit string
	// Changed is false when TargetBranch already held the render: nothing
	// was pushed and no pull request opened.
	Changed bool
	// PolicyCommit is the GitOps repository commit the policy was read at.
	PolicyCommit string
	// Objects counts the rendered Kubernetes objects.
	Objects int
	// PR is the pull request of a review deployment, nil when there was
	// nothing to review.
	PR *PullRequest
}

// PullRequest is the state of a review deployment's pull request.
type PullRequest struct {
	ID     int    // its number
	URL    string // its web page
	Open   bool   // still waiting for review
	Merged bool   // merged; Output.Commit is the merge commit
}

// Waiting reports whether the run waits for a pull request to be merged.
func (o Output) Waiting() bool { return o.PR != nil && o.PR.Open }

// Map returns the Output as JSON-like values only — strings, bools, int64
// and map[string]any — as Kargo stores step output (it deep-copies it as
// JSON, where an int would panic). Keys: branch, targetBranch, commit,
// changed, objects, policyCommit (when known), pr {id, url, open, merged}
// (when there is one).
func (o Output) Map() map[string]any {
	m := map[string]any{
		"branch":       o.Branch,
		"targetBranch": o.TargetBranch,
		"commit":       o.Commit,
		"changed":      o.Changed,
		"objects":      int64(o.Objects),
	}
	if o.PolicyCommit != "" {
		m["policyCommit"] = o.PolicyCommit
	}
	if o.PR != nil {
		m["pr"] = map[string]any{
			"id":     int64(o.PR.ID),
			"url":    o.PR.URL,
			"open":   o.PR.Open,
			"merged": o.PR.Merged,
		}
	}
	return m
}

// OutputFromMap is the inverse of [Output.Map], for an output read back
// from where Kargo keeps it (a Promotion's shared state, round-tripped
// through JSON: numbers may be float64 or int64). ok is false when m is
// not such an output; unknown keys are ignored.
func OutputFromMap(m map[string]any) (out Output, ok bool) {
	if m == nil {
		return Output{}, false
	}
	str := func(k string) (string, bool) {
		v, present := m[k]
		if !present {
			return "", true
		}
		s, isStr := v.(string)
		return s, isStr
	}
	var okB, okT, okC, okP bool
	out.Branch, okB = str("branch")
	out.TargetBranch, okT = str("targetBranch")
	out.Commit, okC = str("commit")
	out.PolicyCommit, okP = str("policyCommit")
	if !okB || !okT || !okC || !okP {
		return Output{}, false
	}
	if v, present := m["changed"]; present {
		if out.Changed, ok = v.(bool); !ok {
			return Output{}, false
		}
	}
	if v, present := m["objects"]; present {
		n, isInt := jsonInt(v)
		if !isInt {
			return Output{}, false
		}
		out.Objects = n
	}
	if v, present := m["pr"]; present {
		pm, isMap := v.(map[string]any)
		if !isMap {
			return Output{}, false
		}
		id, isInt := jsonInt(pm["id"])
		url, isStr := pm["url"].(string)
		open, isOpen := pm["open"].(bool)
		merged, isMerged := pm["merged"].(bool)
		if !isInt || !isStr || !isOpen || !isMerged || id <= 0 {
			return Output{}, false
		}
		out.PR = &PullRequest{ID: id, URL: url, Open: open, Merged: merged}
	}
	return out, true
}

// jsonInt accepts the integer forms a JSON round trip leaves: int64, or a
// float64 holding a whole number in int32's range.
func jsonInt(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		if n >= 0 && n <= 1<<31-1 {
			return int(n), true
		}
	case float64:
		if n >= 0 && n <= 1<<31-1 && n == float64(int(n)) {
			return int(n), true
		}
	}
	return 0, false
}
