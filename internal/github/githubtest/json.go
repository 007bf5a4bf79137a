package githubtest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The payloads below follow the GitHub REST reference: the same field
// names and types, a representative subset of the fields.

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) userID(login string) int64 {
	key := strings.ToLower(login)
	id, ok := s.userIDs[key]
	if !ok {
		id = s.id()
		s.userIDs[key] = id
	}
	return id
}

func (s *Server) userJSON(r *http.Request, login string) any {
	if login == "" {
		return nil
	}
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	id := s.userID(login)
	return map[string]any{
		"login": login, "id": id, "node_id": fmt.Sprintf("U_%d", id),
		"avatar_url": "https://avatars.githubusercontent.com/u/" + fmt.Sprint(id),
		"url":        s.base(r) + "users/" + login, "html_url": "https://github.com/" + login,
		"type": typ, "site_admin": false,
	}
}

func (s *Server) repoJSON(r *http.Request, full string, fork bool) any {
	owner, name, _ := strings.Cut(full, "/")
	id := s.userID("repo:" + full)
	return map[string]any{
		"id": id, "node_id": fmt.Sprintf("R_%d", id), "name": name, "full_name": full,
		"owner": s.userJSON(r, owner), "private": true, "fork": fork,
		"html_url": "https://github.com/" + full, "url": s.base(r) + "repos/" + full,
		"default_branch": "main", "visibility": "private",
	}
}

func (s *Server) branchJSON(r *http.Request, full, ref, sha string, fork bool) any {
	owner, _, _ := strings.Cut(full, "/")
	return map[string]any{
		"label": owner + ":" + ref, "ref": ref, "sha": sha,
		"user": s.userJSON(r, owner), "repo": s.repoJSON(r, full, fork),
	}
}

// pullJSON is a pull request; full adds the fields only the single pull
// request has (merged, merged_by, comments, ...), as GitHub's "pull
// request" versus "pull request simple" schemas.
func (s *Server) pullJSON(r *http.Request, rp *repo, pr *PullRequest, full bool) any {
	base := rp.owner + "/" + rp.name
	head, fork := pr.HeadRepo, pr.HeadRepo != "" && !strings.EqualFold(pr.HeadRepo, base)
	if head == "" {
		head = base
	}
	url := s.base(r) + "repos/" + base + "/pulls/" + fmt.Sprint(pr.Number)
	out := map[string]any{
		"url": url, "id": s.userID(fmt.Sprintf("pr:%s#%d", base, pr.Number)),
		"node_id":  fmt.Sprintf("PR_%d", pr.Number),
		"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", base, pr.Number),
		"number":   pr.Number, "state": pr.State, "locked": false, "title": pr.Title,
		"user": s.userJSON(r, pr.Author), "body": nil, "labels": s.labelsJSON(r, rp, rp.labels[pr.Number]),
		"created_at": ts(pr.CreatedAt), "updated_at": ts(pr.CreatedAt),
		"closed_at": ts(pr.MergedAt), "merged_at": ts(pr.MergedAt),
		"merge_commit_sha": nilIfEmpty(pr.MergeCommitSHA), "draft": false,
		"head":               s.branchJSON(r, head, pr.HeadRef, pr.HeadSHA, fork),
		"base":               s.branchJSON(r, base, pr.BaseRef, "", false),
		"author_association": "MEMBER",
		"commits_url":        url + "/commits", "review_comments_url": url + "/comments",
		"statuses_url": s.base(r) + "repos/" + base + "/statuses/" + pr.HeadSHA,
	}
	if full {
		out["merged"] = pr.Merged
		out["merged_by"] = s.userJSON(r, pr.MergedBy)
		out["mergeable"] = nil
		out["comments"] = len(rp.comments[pr.Number])
		out["commits"] = len(pr.Commits)
		out["additions"], out["deletions"], out["changed_files"] = 1, 0, 1
	}
	return out
}

func (s *Server) reviewJSON(r *http.Request, rp *repo, pr *PullRequest, rv review) any {
	base := rp.owner + "/" + rp.name
	return map[string]any{
		"id": rv.id, "node_id": fmt.Sprintf("PRR_%d", rv.id), "user": s.userJSON(r, rv.user),
		"body": rv.body, "state": rv.state, "commit_id": rv.commit,
		"html_url":           fmt.Sprintf("https://github.com/%s/pull/%d#pullrequestreview-%d", base, pr.Number, rv.id),
		"pull_request_url":   s.base(r) + "repos/" + base + "/pulls/" + fmt.Sprint(pr.Number),
		"author_association": "MEMBER", "submitted_at": ts(rv.submitted),
	}
}

func (s *Server) checkRunJSON(r *http.Request, rp *repo, sha string, c checkRun) any {
	var conclusion any
	if c.status == "completed" {
		conclusion = c.conclusion
	}
	return map[string]any{
		"id": c.id, "node_id": fmt.Sprintf("CR_%d", c.id), "head_sha": sha, "external_id": "",
		"url":      s.base(r) + "repos/" + rp.owner + "/" + rp.name + "/check-runs/" + fmt.Sprint(c.id),
		"html_url": fmt.Sprintf("https://github.com/%s/%s/runs/%d", rp.owner, rp.name, c.id),
		"status":   c.status, "conclusion": conclusion, "name": c.name,
		"started_at": ts(c.started), "completed_at": ts(c.completed),
		"output":        map[string]any{"title": nil, "summary": nil, "text": nil, "annotations_count": 0},
		"check_suite":   map[string]any{"id": c.id + 1},
		"app":           map[string]any{"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
		"pull_requests": []any{},
	}
}

func (s *Server) statusJSON(r *http.Request, rp *repo, sha string, st Status) any {
	return map[string]any{
		"url":        s.base(r) + "repos/" + rp.owner + "/" + rp.name + "/statuses/" + sha,
		"avatar_url": nil, "id": st.ID, "node_id": fmt.Sprintf("SC_%d", st.ID),
		"state": st.State, "description": nilIfEmpty(st.Description),
		"target_url": nilIfEmpty(st.TargetURL), "context": st.Context,
		"created_at": ts(st.CreatedAt), "updated_at": ts(st.CreatedAt),
		"creator": s.userJSON(r, st.Creator),
	}
}

func (s *Server) commitJSON(r *http.Request, rp *repo, sha string) any {
	v, ok := rp.verifications[sha]
	if !ok {
		v = verification{reason: "unsigned"}
	}
	person := map[string]any{"name": "A U Thor", "email": "author@example.com", "date": ts(epoch)}
	return map[string]any{
		"sha": sha, "node_id": "C_" + sha[:8],
		"url":      s.base(r) + "repos/" + rp.owner + "/" + rp.name + "/commits/" + sha,
		"html_url": fmt.Sprintf("https://github.com/%s/%s/commit/%s", rp.owner, rp.name, sha),
		"commit": map[string]any{
			"author": person, "committer": person, "message": "commit", "comment_count": 0,
			"tree": map[string]any{"sha": sha},
			"verification": map[string]any{"verified": v.verified, "reason": v.reason,
				"signature": nil, "payload": nil},
		},
		"author": nil, "committer": nil, "parents": []any{}, "files": []any{},
	}
}

func (s *Server) commentJSON(r *http.Request, rp *repo, number int, c *Comment) any {
	base := rp.owner + "/" + rp.name
	return map[string]any{
		"id": c.ID, "node_id": fmt.Sprintf("IC_%d", c.ID),
		"url":       s.base(r) + "repos/" + base + "/issues/comments/" + fmt.Sprint(c.ID),
		"html_url":  fmt.Sprintf("https://github.com/%s/pull/%d#issuecomment-%d", base, number, c.ID),
		"issue_url": s.base(r) + "repos/" + base + "/issues/" + fmt.Sprint(number),
		"body":      c.Body, "user": s.userJSON(r, c.User),
		"created_at": ts(c.CreatedAt), "updated_at": ts(c.UpdatedAt), "author_association": "NONE",
	}
}

func (s *Server) labelsJSON(r *http.Request, rp *repo, names []string) []any {
	out := []any{}
	for _, n := range names {
		id := s.userID("label:" + n)
		out = append(out, map[string]any{
			"id": id, "node_id": fmt.Sprintf("LA_%d", id), "name": n, "color": "d73a4a",
			"description": nil, "default": false,
			"url": s.base(r) + "repos/" + rp.owner + "/" + rp.name + "/labels/" + n,
		})
	}
	return out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
