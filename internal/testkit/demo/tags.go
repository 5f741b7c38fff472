package demo

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Commit positions (newest first, C0 is the tip) with a fixed role.
const (
	lateIndex   = 3 // C3's image was pushed after C1's and C2's
	failedIndex = 6 // C6's build failed: no image
)

// planTags decides which commits have images and returns every tag, sorted
// by build time. It sets HasImage on commits (newest first).
func planTags(p params, seed int64, commits, feature []Commit) []Tag {
	r := rand.New(rand.NewPCG(uint64(seed), 0x74616773))
	var tags []Tag
	add := func(t Tag) { tags = append(tags, t) }
	index := func(name string, c Commit, built time.Time) {
		add(Tag{Name: name, Commit: c.ID, Arches: Arches, Built: built})
		for _, a := range Arches {
			add(Tag{Name: name + "-" + a, Commit: c.ID, Decoy: DecoyArch, Arches: []string{a}, Built: built})
		}
	}
	built := map[string]time.Time{}
	k := 0 // index among commits with an image
	for i := range commits {
		c := &commits[i]
		failed := i == failedIndex || (i > failedIndex && r.Float64() < p.failedShare)
		buildTime := time.Duration(12+r.IntN(14)) * time.Minute
		if i == 0 || failed {
			continue
		}
		c.HasImage = true
		built[c.ID] = c.Time.Add(buildTime)
		index("git-"+c.ID, *c, built[c.ID])
		if k%p.shortEvery == 0 {
			add(Tag{Name: "git-" + c.ID[:7], Commit: c.ID, Decoy: DecoyShort, Arches: Arches, Built: built[c.ID]})
		}
		k++
	}
	c1, c2 := commits[1], commits[2]
	// C3's image lands after everything else was built.
	var newest time.Time
	for _, t := range built {
		if t.After(newest) {
			newest = t
		}
	}
	late := commits[lateIndex].ID
	built[late] = newest.Add(20 * time.Minute)
	for i := range tags {
		if tags[i].Commit == late {
			tags[i].Built = built[late]
			tags[i].Late = tags[i].Decoy == ""
		}
	}
	add(Tag{Name: "git-" + c1.ID[:12], Commit: c1.ID, Decoy: DecoyShort, Arches: Arches, Built: built[c1.ID]})
	add(Tag{Name: "git-" + strings.ToUpper(c1.ID), Commit: c1.ID, Decoy: DecoyUpper, Arches: Arches, Built: built[c1.ID]})
	add(Tag{Name: "git-" + strings.ToUpper(c2.ID), Commit: c2.ID, Decoy: DecoyUpper, Arches: Arches, Built: built[c2.ID]})
	add(Tag{Name: "staging", Commit: c1.ID, Decoy: DecoyAlias, Arches: Arches, Built: built[c1.ID]})
	add(Tag{Name: "latest", Commit: late, Decoy: DecoyAlias, Arches: Arches, Built: built[late]})
	tip := feature[0]
	add(Tag{Name: "git-" + tip.ID, Commit: tip.ID, Decoy: DecoyOffBranch, Arches: Arches, Built: tip.Time.Add(15 * time.Minute)})
	gone := unknownCommit(seed)
	add(Tag{Name: "git-" + gone, Commit: gone, Decoy: DecoyOffBranch, Arches: Arches, Built: c2.Time.Add(-3 * time.Hour)})
	slices.SortStableFunc(tags, func(a, b Tag) int { return a.Built.Compare(b.Built) })
	return tags
}

// unknownCommit is a commit id the monorepo does not hold: the build of a
// pull request branch that was force-pushed since.
func unknownCommit(seed int64) string {
	h := sha1.Sum(fmt.Appendf(nil, "railyard demo force-pushed pull request %d", seed))
	return hex.EncodeToString(h[:])
}
