package githubtest

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

type callerKey struct{}

func withCaller(ctx context.Context, login string) context.Context {
	return context.WithValue(ctx, callerKey{}, login)
}

func caller(r *http.Request) string {
	login, _ := r.Context().Value(callerKey{}).(string)
	return login
}

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{sha}/pulls", s.pullsForCommit)
	m.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", s.getPull)
	m.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}/reviews", s.listReviews)
	m.HandleFunc("GET /repos/{owner}/{repo}/collaborators/{user}/permission", s.permission)
	m.HandleFunc("GET /orgs/{org}/teams/{team}/memberships/{user}", s.membership)
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{sha}/check-runs", s.checkRuns)
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{sha}/status", s.combinedStatus)
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{sha}", s.getCommit)
	m.HandleFunc("POST /repos/{owner}/{repo}/statuses/{sha}", s.createStatus)
	m.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/comments", s.listComments)
	m.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/comments", s.createComment)
	m.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{id}", s.editComment)
	m.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/labels", s.listLabels)
	m.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/labels", s.addLabels)
	m.HandleFunc("DELETE /repos/{owner}/{repo}/issues/{number}/labels/{name}", s.removeLabel)
	m.HandleFunc("POST /app/installations/{id}/access_tokens", s.accessToken)
	m.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeError(w, http.StatusNotFound, "Not Found") })
	return m
}

// pullOf finds the repository and pull request a path names.
func (s *Server) pullOf(w http.ResponseWriter, r *http.Request) (*repo, *PullRequest, bool) {
	rp, ok := s.findRepo(r.PathValue("owner"), r.PathValue("repo"))
	n, err := strconv.Atoi(r.PathValue("number"))
	if !ok || err != nil || rp.pulls[n] == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil, nil, false
	}
	return rp, rp.pulls[n], true
}

func (s *Server) repoOf(w http.ResponseWriter, r *http.Request) (*repo, bool) {
	rp, ok := s.findRepo(r.PathValue("owner"), r.PathValue("repo"))
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
	}
	return rp, ok
}

func (s *Server) pullsForCommit(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.repoOf(w, r)
	if !ok {
		return
	}
	sha := r.PathValue("sha")
	var items []any
	for _, n := range sortedKeys(rp.pulls) {
		pr := rp.pulls[n]
		if pr.MergeCommitSHA == sha || slices.Contains(pr.Commits, sha) {
			items = append(items, s.pullJSON(r, rp, pr, false))
		}
	}
	s.page(w, r, items, nil)
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request) {
	rp, pr, ok := s.pullOf(w, r)
	if ok {
		s.writeJSON(w, r, http.StatusOK, s.pullJSON(r, rp, pr, true))
	}
}

func (s *Server) listReviews(w http.ResponseWriter, r *http.Request) {
	rp, pr, ok := s.pullOf(w, r)
	if !ok {
		return
	}
	var items []any
	for _, rv := range rp.reviews[pr.Number] {
		items = append(items, s.reviewJSON(r, rp, pr, rv))
	}
	s.page(w, r, items, nil)
}

func (s *Server) permission(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.repoOf(w, r)
	if !ok {
		return
	}
	user := r.PathValue("user")
	role, ok := rp.perms[strings.ToLower(user)]
	if !ok {
		role = "none"
	}
	// The permission field folds maintain into write and triage into read.
	perm := map[string]string{"admin": "admin", "maintain": "write", "write": "write",
		"triage": "read", "read": "read"}[role]
	if perm == "" {
		perm = "none"
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"permission": perm, "role_name": role, "user": s.userJSON(r, user),
	})
}

func (s *Server) membership(w http.ResponseWriter, r *http.Request) {
	team := strings.ToLower(r.PathValue("org") + "/" + r.PathValue("team"))
	state, ok := s.teams[team][strings.ToLower(r.PathValue("user"))]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"url":   s.base(r) + strings.TrimPrefix(r.URL.Path, "/"),
		"role":  "member",
		"state": state,
	})
}

func (s *Server) checkRuns(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.repoOf(w, r)
	if !ok {
		return
	}
	sha := r.PathValue("sha")
	runs := slices.Clone(rp.checkRuns[sha])
	slices.Reverse(runs) // newest first, as GitHub lists them
	var items []any
	for _, c := range runs {
		items = append(items, s.checkRunJSON(r, rp, sha, c))
	}
	total := len(items)
	s.page(w, r, items, func(page []any) any {
		return map[string]any{"total_count": total, "check_runs": page}
	})
}

func (s *Server) combinedStatus(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.repoOf(w, r)
	if !ok {
		return
	}
	sha := r.PathValue("sha")
	latest := map[string]Status{}
	var contexts []string
	for _, st := range rp.statuses[sha] {
		if _, seen := latest[st.Context]; !seen {
			contexts = append(contexts, st.Context)
		}
		latest[st.Context] = st
	}
	var items []any
	overall := "success"
	for _, c := range contexts {
		st := latest[c]
		items = append(items, s.statusJSON(r, rp, sha, st))
		overall = combine(overall, st.State)
	}
	if len(items) == 0 {
		overall = "pending"
	}
	total := len(items)
	s.page(w, r, items, func(page []any) any {
		return map[string]any{
			"state": overall, "statuses": page, "sha": sha, "total_count": total,
			"repository": s.repoJSON(r, rp.owner+"/"+rp.name, false),
			"commit_url": s.base(r) + "repos/" + rp.owner + "/" + rp.name + "/commits/" + sha,
			"url":        s.base(r) + "repos/" + rp.owner + "/" + rp.name + "/commits/" + sha + "/status",
		}
	})
}

func combine(overall, state string) string {
	switch {
	case overall == "failure" || state == "failure" || state == "error":
		return "failure"
	case overall == "pending" || state == "pending":
		return "pending"
	}
	return "success"
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

func (s *Server) getCommit(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.repoOf(w, r)
	if !ok {
		return
	}
	sha := r.PathValue("sha")
	if !shaPattern.MatchString(sha) {
		writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+sha)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.commitJSON(r, rp, sha))
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.repoOf(w, r)
	if !ok {
		return
	}
	var in struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !slices.Contains([]string{"error", "failure", "pending", "success"}, in.State) ||
		utf8.RuneCountInString(in.Description) > 140 {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed")
		return
	}
	if in.Context == "" {
		in.Context = "default"
	}
	sha := r.PathValue("sha")
	st := Status{ID: s.id(), Context: in.Context, State: in.State, Description: in.Description,
		TargetURL: in.TargetURL, Creator: caller(r), CreatedAt: s.now()}
	rp.statuses[sha] = append(rp.statuses[sha], st)
	s.writeJSON(w, r, http.StatusCreated, s.statusJSON(r, rp, sha, st))
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	rp, pr, ok := s.pullOf(w, r)
	if !ok {
		return
	}
	var items []any
	for _, c := range rp.comments[pr.Number] {
		items = append(items, s.commentJSON(r, rp, pr.Number, c))
	}
	s.page(w, r, items, nil)
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	rp, pr, ok := s.pullOf(w, r)
	if !ok {
		return
	}
	var in struct {
		Body string `json:"body"`
	}
	if !decode(w, r, &in) || !validBody(w, in.Body) {
		return
	}
	now := s.now()
	c := &Comment{ID: s.id(), User: caller(r), Body: in.Body, CreatedAt: now, UpdatedAt: now}
	rp.comments[pr.Number] = append(rp.comments[pr.Number], c)
	s.writeJSON(w, r, http.StatusCreated, s.commentJSON(r, rp, pr.Number, c))
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.repoOf(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for n, cs := range rp.comments {
		for _, c := range cs {
			if c.ID != id {
				continue
			}
			if !strings.EqualFold(c.User, caller(r)) {
				writeError(w, http.StatusForbidden, "Resource not accessible by integration")
				return
			}
			var in struct {
				Body string `json:"body"`
			}
			if !decode(w, r, &in) || !validBody(w, in.Body) {
				return
			}
			c.Body, c.UpdatedAt = in.Body, s.now()
			s.writeJSON(w, r, http.StatusOK, s.commentJSON(r, rp, n, c))
			return
		}
	}
	writeError(w, http.StatusNotFound, "Not Found")
}

func validBody(w http.ResponseWriter, body string) bool {
	if body == "" || utf8.RuneCountInString(body) > 65536 {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed: body is too long (maximum is 65536 characters)")
		return false
	}
	return true
}

func (s *Server) listLabels(w http.ResponseWriter, r *http.Request) {
	rp, pr, ok := s.pullOf(w, r)
	if ok {
		s.page(w, r, s.labelsJSON(r, rp, rp.labels[pr.Number]), nil)
	}
}

func (s *Server) addLabels(w http.ResponseWriter, r *http.Request) {
	rp, pr, ok := s.pullOf(w, r)
	if !ok {
		return
	}
	names, ok := decodeLabels(w, r)
	if !ok {
		return
	}
	for _, n := range names {
		if !slices.Contains(rp.labels[pr.Number], n) {
			rp.labels[pr.Number] = append(rp.labels[pr.Number], n)
		}
	}
	s.writeJSON(w, r, http.StatusOK, s.labelsJSON(r, rp, rp.labels[pr.Number]))
}

// decodeLabels reads ["a", "b"] or {"labels": ["a", "b"]}, both of which
// GitHub accepts.
func decodeLabels(w http.ResponseWriter, r *http.Request) ([]string, bool) {
	var raw json.RawMessage
	if !decode(w, r, &raw) {
		return nil, false
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err == nil {
		return names, true
	}
	var obj struct {
		Labels []string `json:"labels"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed")
		return nil, false
	}
	return obj.Labels, true
}

func (s *Server) removeLabel(w http.ResponseWriter, r *http.Request) {
	rp, pr, ok := s.pullOf(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	i := slices.Index(rp.labels[pr.Number], name)
	if i < 0 {
		writeError(w, http.StatusNotFound, "Label does not exist")
		return
	}
	rp.labels[pr.Number] = slices.Delete(rp.labels[pr.Number], i, i+1)
	s.writeJSON(w, r, http.StatusOK, s.labelsJSON(r, rp, rp.labels[pr.Number]))
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}
