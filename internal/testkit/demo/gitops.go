package demo

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// deployments of App in promotion order; each uses the env type of the same
// name.
var deployments = []string{"staging", "test", "levelbuilder", "production"}

// envData is the data of the GitOps fixtures under an ENV path element.
type envData struct {
	Name         string // the deployment
	EnvType      string
	Namespace    string
	Host         string // dashboard host
	PegasusHost  string
	RackEnv      string
	LogLevel     string
	ReadOnly     bool
	Levelbuilder bool
	Production   bool
	Autoscaling  bool
}

func envFor(d string) envData {
	e := envData{Name: d, EnvType: d, Namespace: App + "-" + d, RackEnv: d, LogLevel: "info",
		Host: d + "-studio.code.example", PegasusHost: d + ".code.example"}
	switch d {
	case "staging":
		e.LogLevel = "debug"
	case "levelbuilder":
		e.Levelbuilder = true
	case "production":
		e.Host, e.PegasusHost, e.LogLevel = "studio.code.example", "code.example", "warn"
		e.Production, e.Autoscaling = true, true
	}
	return e
}

// renderGitOpsFixtures returns the policy files of the GitOps repository's
// main branch.
func renderGitOpsFixtures() (map[string][]byte, error) {
	return renderFixtures("gitops", func(rel string) []instance {
		elems := strings.Split(rel, "/")
		i := slices.Index(elems, envPlaceholder)
		if i < 0 {
			return []instance{{rel, nil}}
		}
		var out []instance
		for _, d := range deployments {
			elems[i] = d
			out = append(out, instance{strings.Join(elems, "/"), envFor(d)})
		}
		return out
	})
}

// legacyWindow is how many of the newest commits of the watched branch the
// legacy gitflow records cover.
const legacyWindow = 50

// legacyRecords decides which commits (newest first) have a legacy gitflow
// merge record per environment: staging, test and levelbuilder every
// commit with an image in the window, production every other one starting
// at the third newest with an image (production merges lag).
func legacyRecords(commits []Commit) map[string][]string {
	out := map[string][]string{}
	k := 0
	for _, c := range commits[:min(len(commits), legacyWindow)] {
		if !c.HasImage {
			continue
		}
		for _, d := range deployments {
			if d == "production" && (k < 2 || k%2 != 0) {
				continue
			}
			out[d] = append(out[d], c.ID)
		}
		k++
	}
	return out
}

// legacyRecord is the content of one record file.
func legacyRecord(c Commit, mergedAt time.Time) []byte {
	return fmt.Appendf(nil, "revision: %s\ntag: git-%s\nmergedAt: %q\n", c.ID, c.ID, mergedAt.Format(time.RFC3339))
}

// writeGitOps writes the GitOps repository's history: the policy, then one
// commit per monorepo commit recording its legacy gitflow merges, oldest
// first.
func writeGitOps(s *stream, commits []Commit, legacy map[string][]string) error {
	policy, err := renderGitOpsFixtures()
	if err != nil {
		return err
	}
	ref := "refs/heads/" + Branch
	mark := 1
	when := commits[min(len(commits), legacyWindow)-1].Time.Add(-time.Hour)
	s.commit(ref, mark, authors[0].name, authors[0].email, when, "Add codeai deployment policy\n", 0)
	for _, p := range slices.Sorted(maps.Keys(policy)) {
		s.file(modeFile, p, policy[p])
	}
	byCommit := map[string][]string{}
	for _, d := range deployments {
		for _, id := range legacy[d] {
			byCommit[id] = append(byCommit[id], d)
		}
	}
	for i := min(len(commits), legacyWindow) - 1; i >= 0; i-- {
		c := commits[i]
		envs := byCommit[c.ID]
		if len(envs) == 0 {
			continue
		}
		mark++
		merged := c.Time.Add(40 * time.Minute)
		msg := fmt.Sprintf("legacy-gitflow: git-%s merged into %s\n", c.ID[:12], strings.Join(envs, ", "))
		s.commit(ref, mark, "Legacy Gitflow Bot", "gitflow-bot@example.org", merged, msg, 0)
		for j, d := range envs {
			p := fmt.Sprintf("warehouses/%s/legacy-gitflow/%s/merged/git-%s.yaml", App, d, c.ID)
			s.file(modeFile, p, legacyRecord(c, merged.Add(time.Duration(j)*time.Minute)))
		}
	}
	return nil
}
