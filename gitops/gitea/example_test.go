package gitea_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/internal/testkit/gittest"
)

// standIn is NOT Gitea. It is an httptest server that implements only the
// four API endpoints PullRequests calls (list, create, get and edit the
// pull requests of one repository, under /api/v1), in memory, so that the
// examples run without a network. The package's integration tests run the
// same calls against a real Gitea.
type standIn struct {
	srv    *httptest.Server
	gitDir string // the bare repository a merge fast-forwards

	mu  sync.Mutex
	prs []*giteaPull
}

type giteaRef struct {
	Ref string `json:"ref"`
}

type giteaPull struct {
	Number         int      `json:"number"`
	State          string   `json:"state"`
	Title          string   `json:"title"`
	Body           string   `json:"body"`
	HTMLURL        string   `json:"html_url"`
	Head           giteaRef `json:"head"`
	Base           giteaRef `json:"base"`
	Merged         bool     `json:"merged"`
	MergeCommitSHA string   `json:"merge_commit_sha,omitempty"`
}

func newStandIn(token, gitDir string) *standIn {
	s := &standIn{gitDir: gitDir}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/repos/org/gitops/pulls", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		out := []*giteaPull{}
		for _, pr := range s.prs {
			if (pr.State == q.Get("state") || q.Get("state") == "all") && q.Get("page") == "1" { // one page is enough here
				out = append(out, pr)
			}
		}
		reply(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /api/v1/repos/org/gitops/pulls", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Title, Head, Base, Body string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			reply(w, http.StatusUnprocessableEntity, map[string]string{"message": err.Error()})
			return
		}
		n := len(s.prs) + 1
		pr := &giteaPull{Number: n, State: "open", Title: in.Title, Body: in.Body, Head: giteaRef{in.Head}, Base: giteaRef{in.Base},
			HTMLURL: "https://gitea.example.com/org/gitops/pulls/" + strconv.Itoa(n)}
		s.prs = append(s.prs, pr)
		reply(w, http.StatusCreated, pr)
	})
	mux.HandleFunc("GET /api/v1/repos/org/gitops/pulls/{n}", func(w http.ResponseWriter, r *http.Request) {
		if pr := s.pull(r); pr != nil {
			reply(w, http.StatusOK, pr)
			return
		}
		reply(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	})
	mux.HandleFunc("PATCH /api/v1/repos/org/gitops/pulls/{n}", func(w http.ResponseWriter, r *http.Request) {
		pr := s.pull(r)
		if pr == nil {
			reply(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		var in struct{ Body *string }
		if err := json.NewDecoder(r.Body).Decode(&in); err == nil && in.Body != nil {
			pr.Body = *in.Body
		}
		reply(w, http.StatusOK, pr)
	})
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			reply(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	return s
}

func (s *standIn) pull(r *http.Request) *giteaPull {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(s.prs) {
		return nil
	}
	return s.prs[n-1]
}

// merge does what a reviewer's click on "Merge" does (as a fast-forward):
// the base branch moves to the head's tip and the pull request is merged.
func (s *standIn) merge(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.prs[n-1]
	tip, err := gittest.Git(s.gitDir, "rev-parse", "refs/heads/"+pr.Head.Ref)
	if err != nil {
		return err
	}
	tip = strings.TrimSpace(tip)
	if _, err := gittest.Git(s.gitDir, "update-ref", "refs/heads/"+pr.Base.Ref, tip); err != nil {
		return err
	}
	pr.State, pr.Merged, pr.MergeCommitSHA = "closed", true, tip
	return nil
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// The provider on its own: look for an open pull request, open one, read
// it back.
func ExamplePullRequests() {
	api := newStandIn("example-token", "")
	defer api.srv.Close()

	prs, err := gitea.New(api.srv.URL+"/", "org", "gitops", // the stand-in's URL; e.g. https://gitea.example.com/
		gitea.WithBearerToken("example-token"),
		gitea.WithRetries(3, 10*time.Millisecond, 100*time.Millisecond),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	_, err = prs.FindOpen(ctx, "railyard/stage/production/example", "stage/production")
	fmt.Println("none open yet:", errors.Is(err, gitops.ErrNotFound))

	pr, err := prs.Create(ctx, gitops.NewPullRequest{
		Title: "Promote web to production",
		Body:  "Rendered by railyard.",
		Head:  "railyard/stage/production/example",
		Base:  "stage/production",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("opened:", pr.Number, pr.State, pr.Head, "->", pr.Base)

	found, err := prs.FindOpen(ctx, "railyard/stage/production/example", "stage/production")
	if err != nil {
		log.Fatal(err)
	}
	got, err := prs.Get(ctx, found.Number)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("found:", got.Number, got.Title, got.URL)

	_, err = prs.Get(ctx, 42)
	fmt.Println("#42:", errors.Is(err, gitops.ErrNotFound))
	// Output:
	// none open yet: true
	// opened: 1 open railyard/stage/production/example -> stage/production
	// found: 1 Promote web to production https://gitea.example.com/org/gitops/pulls/1
	// #42: true
}

// A review stage: gitops.Repo.Propose pushes the render to a head branch
// and opens a pull request through the provider (or reuses it on a
// re-run); gitops.WaitForMerge polls it until a reviewer merges.
func Example_propose() {
	// A real git server on loopback holds the GitOps repository, with
	// stage/production as the reviewed branch.
	git, err := gittest.Start("")
	if err != nil {
		log.Fatal(err)
	}
	defer git.Close()
	dir, err := git.InitBare("gitops.git")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := gittest.CommitFiles(dir, "stage/production", "initial render", map[string]string{
		"apps/web/deployments/production/deploy/deployment-production-web.yaml": "kind: Deployment\n",
	}); err != nil {
		log.Fatal(err)
	}
	api := newStandIn("example-token", dir)
	defer api.srv.Close()

	repo, err := gitops.NewRepo(git.RepoURL("gitops.git"), gitops.WithAuthor("Kargo", "kargo@example.com"))
	if err != nil {
		log.Fatal(err)
	}
	prs, err := gitea.New(api.srv.URL+"/", "org", "gitops", gitea.WithBearerToken("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	change := gitops.Change{
		Dir: "apps/web/deployments/production/deploy",
		Files: map[string][]byte{
			"deployment-production-web.yaml": []byte("kind: Deployment\nmetadata:\n  name: production-web\n"),
		},
		Message:    "Promote web to production",
		Provenance: &gitops.Provenance{FreightID: "0123456789abcdef0123456789abcdef01234567"},
	}
	ctx := context.Background()
	for range 2 { // the second run reuses the open pull request
		p, err := repo.Propose(ctx, change, "stage/production", prs)
		if err != nil {
			log.Fatal(err)
		}
		pr := p.PullRequest
		fmt.Println("pull request", pr.Number, pr.State, pr.Head, "opened:", p.Opened)
	}

	// A reviewer merges #1 on Gitea (here: on the stand-in).
	if err := api.merge(1); err != nil {
		log.Fatal(err)
	}
	commit, err := gitops.WaitForMerge(ctx, prs, &gitops.PullRequest{Number: 1},
		gitops.WithPollInterval(10*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	tip, err := gittest.Git(dir, "rev-parse", "refs/heads/stage/production")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("merged; stage/production is at the merge commit:", commit == strings.TrimSpace(tip))

	again, err := repo.Propose(ctx, change, "stage/production", prs)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("proposing the same render again changes something:", again.Changed)
	// Output:
	// pull request 1 open railyard/stage/production/0123456789abcdef0123456789abcdef01234567 opened: true
	// pull request 1 open railyard/stage/production/0123456789abcdef0123456789abcdef01234567 opened: false
	// merged; stage/production is at the merge commit: true
	// proposing the same render again changes something: false
}
