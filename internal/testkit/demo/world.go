package demo

import (
	"fmt"
	"slices"
	"time"
)

// Preset names a size of the demo world.
type Preset string

// The presets. Sizes are those of the monorepo's main branch at its tip.
const (
	// Small is for unit tests: 40 commits, about 300 files, builds in well
	// under a second.
	Small Preset = "small"
	// Medium has 1,000 commits and about 20,000 files holding about 100 MB.
	Medium Preset = "medium"
	// Large has 5,200 commits and about 110,000 files holding more than
	// 1 GiB, the scale at which whole clones hurt.
	Large Preset = "large"
)

// DefaultSeed is the seed tests, examples and benchmarks use unless they
// have a reason to vary the world.
const DefaultSeed int64 = 1

// Fixed names of the demo world.
const (
	// App is the application's name in the GitOps repository.
	App = "codeai"
	// Branch is the watched branch of the monorepo and the policy branch of
	// the GitOps repository.
	Branch = "main"
	// FeatureBranch is a branch of the monorepo that forks off main; the
	// image of its tip is a decoy of kind [DecoyOffBranch].
	FeatureBranch = "feature/ai-tutor-preview"
	// DeployPath is the deploy package inside the monorepo; only its base
	// and components subdirectories are rendered.
	DeployPath = "k8s/kustomize"
	// ImageRepo is the repository path of the application image in the
	// registry (the image's name for kustomize is "code-dot-org").
	ImageRepo = "code-dot-org/code-dot-org"
	// ImageName is the image name the deploy package refers to, the key a
	// kustomize `images:` entry matches.
	ImageName = "code-dot-org"
	// MonorepoName and GitOpsName are the repositories' directory names
	// under [World.Dir] and their names on a [gittest.Server].
	MonorepoName = "monorepo.git"
	GitOpsName   = "gitops.git"
)

// Decoy kinds of [Tag.Decoy]. A tag with an empty Decoy is a real promotion
// candidate: "git-" + the full lowercase id of a commit of the watched
// branch, pointing at a multi-arch index.
const (
	// DecoyArch is a per-architecture tag, "git-<sha>-amd64" or "-arm64".
	DecoyArch = "arch-suffix"
	// DecoyShort is "git-" plus an abbreviated commit id.
	DecoyShort = "short"
	// DecoyUpper is "git-" plus the full commit id in upper case.
	DecoyUpper = "upper"
	// DecoyAlias is a moving branch alias: "staging", "latest".
	DecoyAlias = "alias"
	// DecoyOffBranch is "git-<sha>" of a commit not on the watched branch:
	// the tip of [FeatureBranch], or a commit the monorepo does not hold
	// (a build of a since force-pushed pull request).
	DecoyOffBranch = "off-branch"
)

// Arches are the platforms of every multi-arch image, in index order.
var Arches = []string{"amd64", "arm64"}

// World describes a built demo world. It is immutable after [Build] and
// safe for concurrent use.
type World struct {
	// Dir holds the two bare repositories and the build marker.
	Dir string
	// MonorepoDir is Dir/monorepo.git, GitOpsDir is Dir/gitops.git.
	MonorepoDir, GitOpsDir string
	// Preset and Seed are what the world was built from.
	Preset Preset
	Seed   int64
	// Branch is the watched branch of the monorepo: "main".
	Branch string
	// Commits are the commits of Branch, newest first (the order of
	// `git rev-list main`). The last one is the root commit.
	Commits []Commit
	// OffBranch are the commits of [FeatureBranch] that are not on Branch,
	// newest first.
	OffBranch []Commit
	// Tags is everything [Serve] pushes to the registry, in push order:
	// older builds first, so [Tag.Built] never decreases.
	Tags []Tag
	// App is "codeai".
	App string
	// Deployments are the deployments of App, in promotion order:
	// "staging", "test", "levelbuilder", "production". Each one's env type
	// has the same name; only production uses the autoscaling component.
	Deployments []string
	// ImageRepo is the image's repository path in the registry:
	// "code-dot-org/code-dot-org".
	ImageRepo string
	// PolicyCommit is the tip of the GitOps repository's main branch.
	PolicyCommit string
	// Legacy maps an environment (a deployment name) to the commits, newest
	// first, that have a legacy gitflow record
	// warehouses/codeai/legacy-gitflow/<env>/merged/git-<sha>.yaml on the
	// GitOps repository's main. Staging, test and levelbuilder have one for
	// every commit with an image among the newest 50 of Branch; production
	// only for every other one of those, starting at the third newest.
	Legacy map[string][]string
	// Stats describes the monorepo's size and the build.
	Stats Stats
}

// Stats describes a world's monorepo and how long the build took.
type Stats struct {
	// Files is the number of files (blobs and symlinks) in the tip's tree.
	Files int
	// TipBytes is the total size of the tip's blobs.
	TipBytes int64
	// BlobBytes is the total size of all blobs in the history of every
	// branch, before compression.
	BlobBytes int64
	// Commits counts commits on every branch.
	Commits int
	// Build is how long Build took to generate the world; a cached world
	// reports the original build's time.
	Build time.Duration
}

// Commit is a commit of the monorepo.
type Commit struct {
	// ID is the full lowercase commit id.
	ID string
	// Subject is the first line of the commit message.
	Subject string
	// Author is the author's name; Email the author's address. The
	// committer is always "GitHub <noreply@github.com>" (squash merges).
	Author, Email string
	// Time is the author and committer time (UTC, whole seconds).
	Time time.Time
	// DeployChanged says whether the tree at DeployPath differs from the
	// parent's: true for the root commit and for commits changing the
	// deploy package, false for those changing only application content,
	// k8s/bin or the sibling k8s/kustomize-old.
	DeployChanged bool
	// HasImage says whether a real candidate tag "git-<ID>" exists.
	HasImage bool
	// Paths are the files the commit adds or changes (for the root commit
	// only those under k8s/), sorted.
	Paths []string
}

// Tag is one tag of the image repository.
type Tag struct {
	// Name is the tag.
	Name string
	// Commit is the full id of the commit the image was built from; for an
	// off-branch tag of a commit the monorepo does not hold, a made-up id.
	Commit string
	// Decoy is "" for a real promotion candidate, else one of the Decoy
	// constants.
	Decoy string
	// Arches are the image's platforms: both of [Arches] for a multi-arch
	// index, one for a per-arch image.
	Arches []string
	// Late marks the one real candidate whose image was pushed after the
	// images of newer commits (see [World.Late]).
	Late bool
	// Built is when the image was built, which is also its
	// org.opencontainers.image.created annotation.
	Built time.Time
}

// Lagging returns the newest commit of the watched branch. Its image has
// not been built yet: Kargo's newest-image-versus-newest-commit criterion
// pairs nothing while it lags.
func (w *World) Lagging() Commit { return w.Commits[0] }

// Late returns the real candidate whose image landed late: its commit is
// older than commits whose images were pushed before it, so it is the
// newest build although not of the newest commit, and Kargo never pairs it.
func (w *World) Late() Tag {
	for _, t := range w.Tags {
		if t.Late {
			return t
		}
	}
	panic("demo: world has no late tag") // Build always makes one.
}

// Candidates returns the real candidate tags, newest commit first: exactly
// the images a correct pairing over the whole branch pairs.
func (w *World) Candidates() []Tag {
	order := make(map[string]int, len(w.Commits))
	for i, c := range w.Commits {
		order[c.ID] = i
	}
	var out []Tag
	for _, t := range w.Tags {
		if t.Decoy == "" {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b Tag) int { return order[a.Commit] - order[b.Commit] })
	return out
}

// Decoys returns the tags of one decoy kind, in push order.
func (w *World) Decoys(kind string) []Tag {
	var out []Tag
	for _, t := range w.Tags {
		if t.Decoy == kind && kind != "" {
			out = append(out, t)
		}
	}
	return out
}

// Commit returns the commit of the watched branch with the given id.
func (w *World) Commit(id string) (Commit, bool) {
	for _, c := range w.Commits {
		if c.ID == id {
			return c, true
		}
	}
	return Commit{}, false
}

// Image returns the reference of the candidate image of a commit in a
// registry at host, "host/code-dot-org/code-dot-org:git-<id>".
func (w *World) Image(host, commit string) string {
	return fmt.Sprintf("%s/%s:git-%s", host, w.ImageRepo, commit)
}
