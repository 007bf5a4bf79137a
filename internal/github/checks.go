package github

import (
	"context"
	"fmt"
	"strings"
)

// checkState is a required check's result on one commit.
type checkState struct {
	state  string // success, pending or failed
	detail string // the conclusion or status GitHub gave
}

// checks records the required checks (check runs or status contexts) that
// have not succeeded on sha. A check absent from sha is looked up on
// fallback (the pull request's final head commit), where pull request CI
// reports; a check present on sha decides alone.
func (e *evaluator) checks(ctx context.Context, sha, fallback string, pr int) error {
	if e.spec.Checks == nil || len(e.spec.Checks.Required) == 0 {
		return nil
	}
	onSHA, err := e.results(ctx, sha)
	if err != nil {
		return err
	}
	var onHead map[string]checkState
	for _, name := range e.spec.Checks.Required {
		st, ok := onSHA[name]
		where := "commit " + short(sha)
		if !ok && fallback != "" && fallback != sha {
			if onHead == nil {
				if onHead, err = e.results(ctx, fallback); err != nil {
					return err
				}
			}
			st, ok = onHead[name]
			where = fmt.Sprintf("commit %s or the final commit %s", short(sha), short(fallback))
		}
		e.judgeCheck(name, st, ok, where, sha, pr)
	}
	return nil
}

func (e *evaluator) judgeCheck(name string, st checkState, ok bool, where, sha string, pr int) {
	prefix := ""
	if pr != 0 {
		prefix = fmt.Sprintf("pull request #%d: ", pr)
	}
	switch {
	case !ok:
		e.miss(KindCheck, sha, pr, "%srequired check %s has not reported on %s", prefix, name, where)
	case st.state == "pending":
		e.miss(KindCheck, sha, pr, "%srequired check %s is still %s on %s", prefix, name, st.detail, where)
	case st.state != "success":
		e.miss(KindCheck, sha, pr, "%srequired check %s did not succeed on %s (%s)", prefix, name, where, st.detail)
	}
}

// results reads the check runs and statuses of a commit by name. When a
// name has both, the worse result counts.
func (e *evaluator) results(ctx context.Context, sha string) (map[string]checkState, error) {
	runs, err := e.api.CheckRuns(ctx, e.req.Owner, e.req.Repo, sha)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	statuses, err := e.api.Statuses(ctx, e.req.Owner, e.req.Repo, sha)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	out := map[string]checkState{}
	latest := map[string]int64{}
	for _, r := range runs {
		if id, seen := latest[r.Name]; seen && id > r.ID {
			continue // a re-run supersedes
		}
		latest[r.Name] = r.ID
		out[r.Name] = runState(r)
	}
	for _, s := range statuses {
		st := statusState(s)
		if old, ok := out[s.Context]; !ok || worse(st, old) {
			out[s.Context] = st
		}
	}
	return out, nil
}

func runState(r CheckRun) checkState {
	if r.Status != "completed" {
		return checkState{"pending", strings.ReplaceAll(r.Status, "_", " ")}
	}
	if r.Conclusion == "success" {
		return checkState{"success", r.Conclusion}
	}
	return checkState{"failed", r.Conclusion}
}

func statusState(s Status) checkState {
	switch s.State {
	case "success":
		return checkState{"success", s.State}
	case "pending":
		return checkState{"pending", s.State}
	}
	return checkState{"failed", s.State}
}

func worse(a, b checkState) bool {
	rank := map[string]int{"success": 0, "pending": 1, "failed": 2}
	return rank[a.state] > rank[b.state]
}

// signatures records the commits without a verified signature (or by a
// signer policy.json does not allow), when signatures are required. A
// signature verified locally (gitsource's key ring) counts with its
// signer; otherwise GitHub's verification counts, with the committer's
// email as the signer (GitHub verifies that the key belongs to it).
func (e *evaluator) signatures(ctx context.Context) error {
	sig := e.spec.Signatures
	if !sig.IsRequired() {
		return nil
	}
	for _, c := range e.req.Commits {
		verified, signer, reason := c.Signature.Verified, emailOf(c.Signature.Signer), "unsigned"
		if !verified {
			v, err := e.api.Verification(ctx, e.req.Owner, e.req.Repo, c.Hash)
			if err != nil {
				return fmt.Errorf("gate: %w", err)
			}
			verified, signer, reason = v.Verified, c.Committer.Email, v.Reason
		}
		pr := e.byHash[c.Hash].PullRequest
		switch {
		case !verified:
			e.miss(KindSignature, c.Hash, pr, "commit %s has no verified signature (%s)", short(c.Hash), reason)
		case len(sig.AllowedSigners) > 0 && !containsFold(sig.AllowedSigners, signer):
			e.miss(KindSignature, c.Hash, pr, "commit %s is signed by %s, who is not an allowed signer", short(c.Hash), signer)
		}
	}
	return nil
}

// emailOf returns the email of "Name <email>", or s itself.
func emailOf(s string) string {
	if i, j := strings.LastIndex(s, "<"), strings.LastIndex(s, ">"); i >= 0 && j > i {
		return s[i+1 : j]
	}
	return s
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
