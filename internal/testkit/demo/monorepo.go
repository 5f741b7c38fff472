package demo

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"time"
)

// epoch is the time of the monorepo's root commit.
var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// deployState is the data of the monorepo's fixture templates: the settings
// the deploy package (and its neighbours) vary over history.
type deployState struct {
	Replicas       int
	WebConcurrency int
	MaxThreads     int
	NginxTag       string
	MemoryLimit    string
	CPURequest     string
	CronSchedule   string
	LogLevel       string
	OldReplicas    int // k8s/kustomize-old
	BinRev         int // k8s/bin
}

var initialDeploy = deployState{
	Replicas: 3, WebConcurrency: 4, MaxThreads: 5, NginxTag: "1.27.3-alpine",
	MemoryLimit: "3Gi", CPURequest: "500m", CronSchedule: "17 3 * * *", LogLevel: "info",
	OldReplicas: 2, BinRev: 1,
}

var (
	nginxTags    = []string{"1.27.3-alpine", "1.27.4-alpine", "1.27.5-alpine", "1.28.0-alpine"}
	memoryLimits = []string{"2Gi", "3Gi", "4Gi", "6Gi"}
	cpuRequests  = []string{"250m", "500m", "750m", "1"}
	logLevels    = []string{"info", "debug", "warn"}
)

// mutate changes one setting of the deploy package (base or components)
// and describes the change for a commit subject.
func (d *deployState) mutate(r *rand.Rand) string {
	before := *d
	for *d == before {
		switch r.IntN(8) {
		case 0:
			d.Replicas = 2 + r.IntN(5)
		case 1:
			d.WebConcurrency = 2 + r.IntN(7)
		case 2:
			d.MaxThreads = 3 + r.IntN(6)
		case 3:
			d.NginxTag = nginxTags[r.IntN(len(nginxTags))]
		case 4:
			d.MemoryLimit = memoryLimits[r.IntN(len(memoryLimits))]
		case 5:
			d.CPURequest = cpuRequests[r.IntN(len(cpuRequests))]
		case 6:
			d.CronSchedule = fmt.Sprintf("%d 3 * * *", r.IntN(60))
		case 7:
			d.LogLevel = logLevels[r.IntN(len(logLevels))]
		}
	}
	switch {
	case d.Replicas != before.Replicas:
		return fmt.Sprintf("k8s: run %d dashboard replicas", d.Replicas)
	case d.WebConcurrency != before.WebConcurrency:
		return fmt.Sprintf("k8s: set WEB_CONCURRENCY to %d", d.WebConcurrency)
	case d.MaxThreads != before.MaxThreads:
		return fmt.Sprintf("k8s: set RAILS_MAX_THREADS to %d", d.MaxThreads)
	case d.NginxTag != before.NginxTag:
		return "k8s: bump nginx to " + d.NginxTag
	case d.MemoryLimit != before.MemoryLimit:
		return "k8s: dashboard memory " + d.MemoryLimit
	case d.CPURequest != before.CPURequest:
		return "k8s: dashboard cpu request " + d.CPURequest
	case d.CronSchedule != before.CronSchedule:
		return "k8s: move session cleanup to " + d.CronSchedule
	}
	return "k8s: default log level " + d.LogLevel
}

var authors = []struct{ name, email string }{
	{"Maya Okafor", "maya.okafor@example.org"},
	{"Daniel Brandt", "daniel.brandt@example.org"},
	{"Priya Raman", "priya.raman@example.org"},
	{"Tomás Alvarez", "tomas.alvarez@example.org"},
	{"Hannah Leclerc", "hannah.leclerc@example.org"},
	{"Kenji Watanabe", "kenji.watanabe@example.org"},
	{"Amara Nwosu", "amara.nwosu@example.org"},
	{"Lukas Meyer", "lukas.meyer@example.org"},
	{"Sofia Marino", "sofia.marino@example.org"},
	{"Ethan Cole", "ethan.cole@example.org"},
	{"Ines Duarte", "ines.duarte@example.org"},
	{"Oliver Grant", "oliver.grant@example.org"},
}

var appVerbs = []string{"Fix", "Update", "Add", "Remove", "Refactor", "Translate", "Improve", "Clean up"}

// symlinks are the monorepo's symbolic links, path to target.
var symlinks = map[string]string{
	"k8s/bin/deploy":           "../../bin/cdo-deploy",
	"dashboard/config/locales": "../../i18n/locales",
}

// blob is a file's new mode and content in a commit.
type blob struct {
	mode string
	data []byte
}

// commitKind is what a generated commit changes.
type commitKind int

const (
	kindApp    commitKind = iota // application content only
	kindDeploy                   // the deploy package
	kindOld                      // k8s/kustomize-old only
	kindBin                      // k8s/bin only
)

// monorepo generates the monorepo's fast-import stream.
type monorepo struct {
	p      params
	r      *rand.Rand
	bodies bodyGen
	layout *layout
	files  []*bulkFile
	state  deployState
	fixed  map[string][]byte // rendered fixtures at main's tip
	pr     int               // pull request counter for subjects
	when   time.Time

	main    []Commit // oldest first, without ids
	feature []Commit // oldest first, without ids
	stats   Stats
}

func newMonorepo(p params, seed int64) *monorepo {
	return &monorepo{
		p:      p,
		r:      rand.New(rand.NewPCG(uint64(seed), 0x7261696c79617264)),
		bodies: bodyGen{seed: seed},
		layout: newLayout(p.files),
		state:  initialDeploy,
		pr:     50_000,
		when:   epoch,
	}
}

func renderMonorepoFixtures(d deployState) (map[string][]byte, error) {
	return renderFixtures("monorepo", func(rel string) []instance { return []instance{{rel, d}} })
}

func fixtureMode(p string) string {
	if strings.HasPrefix(p, "k8s/bin/") || strings.HasPrefix(p, "bin/") {
		return modeExec
	}
	return modeFile
}

// kind decides what the j-th of n commits on main changes. A few positions
// are fixed so that every world, even a small one, has each kind near the
// tip: C1 (second newest) changes the deploy package, C2 only
// k8s/kustomize-old, C4 only k8s/bin, C0 only application content.
func (m *monorepo) kind(j int) commitKind {
	n := m.p.commits
	switch j {
	case n - 1:
		return kindApp
	case n - 2, n / 2:
		return kindDeploy
	case n - 3:
		return kindOld
	case n - 5:
		return kindBin
	}
	switch x := m.r.Float64(); {
	case x < m.p.deployShare:
		return kindDeploy
	case x < m.p.deployShare+0.02:
		return kindOld
	case x < m.p.deployShare+0.04:
		return kindBin
	}
	return kindApp
}

// forkAt is the index (oldest first) of the main commit FeatureBranch forks
// from: C8, the ninth newest.
func (m *monorepo) forkAt() int { return m.p.commits - 9 }

// write generates the whole history into s.
func (m *monorepo) write(s *stream) error {
	var err error
	if m.fixed, err = renderMonorepoFixtures(m.state); err != nil {
		return err
	}
	for j := range m.p.commits {
		c := m.newCommit()
		if j == 0 {
			m.root(s, &c)
		} else {
			m.change(s, &c, m.kind(j), "refs/heads/"+Branch, j+1, 0, true)
		}
		m.main = append(m.main, c)
		if j == m.forkAt() {
			m.writeFeature(s, j+1)
		}
	}
	m.stats.Commits = len(m.main) + len(m.feature)
	m.stats.Files = len(m.files) + len(m.fixed) + len(symlinks)
	for _, f := range m.files {
		m.stats.TipBytes += int64(f.written)
	}
	for _, b := range m.fixed {
		m.stats.TipBytes += int64(len(b))
	}
	for _, t := range symlinks {
		m.stats.TipBytes += int64(len(t))
	}
	return nil
}

// newCommit advances the clock and picks an author.
func (m *monorepo) newCommit() Commit {
	m.when = m.when.Add(time.Duration(5+m.r.IntN(90)) * time.Minute)
	a := authors[m.r.IntN(len(authors))]
	m.pr += 1 + m.r.IntN(30)
	return Commit{Author: a.name, Email: a.email, Time: m.when}
}

// root writes the root commit: every fixture, symlink and bulk file.
func (m *monorepo) root(s *stream, c *Commit) {
	c.Subject = "Import code-dot-org"
	c.DeployChanged = true
	s.commit("refs/heads/"+Branch, 1, c.Author, c.Email, c.Time, c.Subject+"\n", 0)
	for _, p := range slices.Sorted(maps.Keys(m.fixed)) {
		m.put(s, fixtureMode(p), p, m.fixed[p])
		if strings.HasPrefix(p, "k8s/") {
			c.Paths = append(c.Paths, p)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(symlinks)) {
		m.put(s, modeLink, p, []byte(symlinks[p]))
		if strings.HasPrefix(p, "k8s/") {
			c.Paths = append(c.Paths, p)
		}
	}
	for i := range m.p.files {
		f := newBulkFile(m.r, m.layout, i, m.p.avgSize)
		m.files = append(m.files, f)
		body := m.bodies.body(f, 0)
		f.written = len(body)
		m.put(s, f.mode(), f.path, body)
	}
	slices.Sort(c.Paths)
}

// put writes one file and counts its bytes.
func (m *monorepo) put(s *stream, mode, p string, data []byte) {
	s.file(mode, p, data)
	m.stats.BlobBytes += int64(len(data))
}

// change writes a non-root commit of the given kind on ref. from is the
// parent's mark when the ref is new; onMain says whether the generator's
// state (bulk file versions, fixtures) advances with it.
func (m *monorepo) change(s *stream, c *Commit, k commitKind, ref string, mark, from int, onMain bool) {
	changed := map[string]blob{}
	var subject string
	switch k {
	case kindApp:
		subject = m.appChange(changed, onMain)
	default:
		st := m.state
		switch k {
		case kindDeploy:
			subject = st.mutate(m.r)
			c.DeployChanged = true
		case kindOld:
			st.OldReplicas = 2 + (st.OldReplicas-1)%4
			subject = fmt.Sprintf("k8s/kustomize-old: ad-hoc environments run %d replicas", st.OldReplicas)
		case kindBin:
			st.BinRev++
			subject = "k8s/bin: tidy render-local"
		}
		files, err := renderMonorepoFixtures(st)
		if err != nil {
			panic(err) // the same templates rendered fine at the root commit
		}
		for p, b := range files {
			if !bytes.Equal(m.fixed[p], b) {
				changed[p] = blob{fixtureMode(p), b}
			}
		}
		if onMain {
			m.state = st
			for p, b := range changed {
				m.fixed[p] = b.data
			}
		}
	}
	c.Subject = fmt.Sprintf("%s (#%d)", subject, m.pr)
	s.commit(ref, mark, c.Author, c.Email, c.Time, c.Subject+"\n", from)
	c.Paths = slices.Sorted(maps.Keys(changed))
	for _, p := range c.Paths {
		m.put(s, changed[p].mode, p, changed[p].data)
	}
}

// appChange edits one to four bulk files (and sometimes adds one) into
// changed and returns the subject.
func (m *monorepo) appChange(changed map[string]blob, onMain bool) string {
	var first *bulkFile
	for range 1 + m.r.IntN(4) {
		f := m.files[m.r.IntN(len(m.files))]
		if _, dup := changed[f.path]; dup {
			continue
		}
		if first == nil {
			first = f
		}
		v := f.version + 1
		if !onMain {
			v += 1 << 20 // a branch's edits never collide with main's
		} else {
			f.version = v
			f.size += f.size/10 - m.r.IntN(f.size/5+1)
		}
		body := bytes.Clone(m.bodies.body(f, v))
		if onMain {
			f.written = len(body)
		}
		changed[f.path] = blob{f.mode(), body}
	}
	if onMain && m.r.IntN(20) == 0 {
		f := newBulkFile(m.r, m.layout, len(m.files), m.p.avgSize)
		m.files = append(m.files, f)
		body := bytes.Clone(m.bodies.body(f, 0))
		f.written = len(body)
		changed[f.path] = blob{f.mode(), body}
	}
	base, _, _ := strings.Cut(path.Base(first.path), ".")
	top, _, _ := strings.Cut(first.path, "/")
	return fmt.Sprintf("%s %s in %s", appVerbs[m.r.IntN(len(appVerbs))], strings.ReplaceAll(base, "_", " "), top)
}

// writeFeature writes FeatureBranch's two commits, forking off the main
// commit with mark from: an application change, then a deploy change.
func (m *monorepo) writeFeature(s *stream, from int) {
	ref := "refs/heads/" + FeatureBranch
	for i, k := range []commitKind{kindApp, kindDeploy} {
		c := m.newCommit()
		parent := 0
		if i == 0 {
			parent = from
		}
		m.change(s, &c, k, ref, m.p.commits+1+i, parent, false)
		m.feature = append(m.feature, c)
	}
}
