package githubtest

import (
	"slices"
	"strings"
	"time"
)

// PullRequest is a pull request of the model.
type PullRequest struct {
	Number int
	Title  string
	// Author is the login that opened it.
	Author  string
	HeadRef string
	HeadSHA string
	// HeadRepo is owner/name of the head repository; "" means the base
	// repository, another name a fork.
	HeadRepo string
	// BaseRef is the branch it targets (default main).
	BaseRef string
	// Commits are the commits it contains (GitHub associates them with it).
	Commits []string
	// State is open or closed; Merge sets the rest.
	State          string
	Merged         bool
	MergeCommitSHA string
	MergedBy       string
	MergedAt       time.Time
	CreatedAt      time.Time
}

// Comment is an issue comment of the model.
type Comment struct {
	ID        int64
	User      string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Status is a commit status of the model.
type Status struct {
	ID          int64
	Context     string
	State       string
	Description string
	TargetURL   string
	Creator     string
	CreatedAt   time.Time
}

type review struct {
	id                        int64
	user, state, commit, body string
	submitted                 time.Time
}

type checkRun struct {
	id                       int64
	name, status, conclusion string
	started, completed       time.Time
}

type verification struct {
	verified bool
	reason   string
}

type repo struct {
	owner, name   string
	id            int64
	pulls         map[int]*PullRequest
	reviews       map[int][]review
	comments      map[int][]*Comment
	labels        map[int][]string
	perms         map[string]string // lower-case login -> role
	statuses      map[string][]Status
	checkRuns     map[string][]checkRun
	verifications map[string]verification
	nextNumber    int
}

func (s *Server) repo(owner, name string) *repo {
	key := strings.ToLower(owner + "/" + name)
	r, ok := s.repos[key]
	if !ok {
		r = &repo{owner: owner, name: name, id: s.id(), pulls: map[int]*PullRequest{},
			reviews: map[int][]review{}, comments: map[int][]*Comment{}, labels: map[int][]string{},
			perms: map[string]string{}, statuses: map[string][]Status{}, checkRuns: map[string][]checkRun{},
			verifications: map[string]verification{}}
		s.repos[key] = r
	}
	return r
}

func (s *Server) findRepo(owner, name string) (*repo, bool) {
	r, ok := s.repos[strings.ToLower(owner+"/"+name)]
	return r, ok
}

// AddRepo adds an empty repository (any other call adds it too).
func (s *Server) AddRepo(owner, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(owner, name)
}

// OpenPullRequest adds an open pull request and returns its number (the
// next free one when pr.Number is 0).
func (s *Server) OpenPullRequest(owner, name string, pr PullRequest) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo(owner, name)
	if pr.Number == 0 {
		r.nextNumber++
		pr.Number = r.nextNumber
	}
	r.nextNumber = max(r.nextNumber, pr.Number)
	if pr.BaseRef == "" {
		pr.BaseRef = "main"
	}
	if pr.HeadRef == "" {
		pr.HeadRef = "change-" + string(rune('a'+pr.Number%26))
	}
	if pr.State == "" {
		pr.State = "open"
	}
	if pr.Title == "" {
		pr.Title = "Change"
	}
	if pr.HeadSHA != "" && !slices.Contains(pr.Commits, pr.HeadSHA) {
		pr.Commits = append(pr.Commits, pr.HeadSHA)
	}
	pr.CreatedAt = s.now()
	r.pulls[pr.Number] = &pr
	return pr.Number
}

// Push moves a pull request's head to sha (a new commit of it).
func (s *Server) Push(owner, name string, number int, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.repo(owner, name).pulls[number]
	pr.HeadSHA = sha
	pr.Commits = append(pr.Commits, sha)
}

// Merge merges a pull request as login, with mergeSHA the commit it made on
// the base branch.
func (s *Server) Merge(owner, name string, number int, mergeSHA, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.repo(owner, name).pulls[number]
	pr.State, pr.Merged, pr.MergeCommitSHA, pr.MergedBy, pr.MergedAt = "closed", true, mergeSHA, login, s.now()
}

// AddReview submits a review (APPROVED, CHANGES_REQUESTED, COMMENTED or
// DISMISSED) by login on commit and returns its id.
func (s *Server) AddReview(owner, name string, number int, login, state, commit string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo(owner, name)
	rv := review{id: s.id(), user: login, state: state, commit: commit, submitted: s.now()}
	r.reviews[number] = append(r.reviews[number], rv)
	return rv.id
}

// SetPermission gives login a role on the repository: admin, maintain,
// write, triage or read.
func (s *Server) SetPermission(owner, name, login, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(owner, name).perms[strings.ToLower(login)] = role
}

// AddTeamMember makes login a member of org/team, active or pending.
func (s *Server) AddTeamMember(team, login string, pending bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(team)
	if s.teams[key] == nil {
		s.teams[key] = map[string]string{}
	}
	state := "active"
	if pending {
		state = "pending"
	}
	s.teams[key][strings.ToLower(login)] = state
}

// AddCheckRun adds a check run on sha (status queued, in_progress or
// completed; conclusion when completed) and returns its id.
func (s *Server) AddCheckRun(owner, name, sha, check, status, conclusion string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo(owner, name)
	cr := checkRun{id: s.id(), name: check, status: status, conclusion: conclusion, started: s.now()}
	if status == "completed" {
		cr.completed = s.now()
	}
	r.checkRuns[sha] = append(r.checkRuns[sha], cr)
	return cr.id
}

// AddStatus adds a commit status on sha as login.
func (s *Server) AddStatus(owner, name, sha, context, state, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo(owner, name)
	r.statuses[sha] = append(r.statuses[sha], Status{ID: s.id(), Context: context, State: state,
		Creator: login, CreatedAt: s.now()})
}

// SetVerification sets GitHub's verdict on a commit's signature (by
// default unverified, reason "unsigned").
func (s *Server) SetVerification(owner, name, sha string, verified bool, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(owner, name).verifications[sha] = verification{verified: verified, reason: reason}
}

// Comments returns a pull request's comments.
func (s *Server) Comments(owner, name string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.repo(owner, name).comments[number] {
		out = append(out, *c)
	}
	return out
}

// Statuses returns every status set on sha, oldest first.
func (s *Server) Statuses(owner, name, sha string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.repo(owner, name).statuses[sha])
}

// Labels returns a pull request's labels.
func (s *Server) Labels(owner, name string, number int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.repo(owner, name).labels[number])
}
