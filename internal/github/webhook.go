package github

import (
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v60/github"
)

// PullRequestEvent is what cairn reads of a pull_request webhook.
type PullRequestEvent struct {
	// Action is opened, synchronize, reopened, closed, edited, ...
	Action string
	// Owner and Repo name the base repository.
	Owner, Repo string
	PullRequest PullRequest
	// Sender is the login that caused the event.
	Sender string
}

// Decision says whether cairn checks a pull request event, and why not.
type Decision struct {
	Check  bool
	Reason string
}

// ParsePullRequestEvent reads a pull_request webhook payload (already
// verified, see VerifyWebhook).
func ParsePullRequestEvent(payload []byte) (PullRequestEvent, error) {
	ev, err := gh.ParseWebHook("pull_request", payload)
	if err != nil {
		return PullRequestEvent{}, fmt.Errorf("pull_request webhook: %w", err)
	}
	pe, ok := ev.(*gh.PullRequestEvent)
	if !ok || pe.PullRequest == nil || pe.Repo == nil {
		return PullRequestEvent{}, errors.New("pull_request webhook: no pull request or repository in the payload")
	}
	out := PullRequestEvent{
		Action: pe.GetAction(), Owner: pe.GetRepo().GetOwner().GetLogin(), Repo: pe.GetRepo().GetName(),
		PullRequest: pullRequest(pe.PullRequest), Sender: pe.GetSender().GetLogin(),
	}
	if out.PullRequest.BaseRepo == "" {
		out.PullRequest.BaseRepo = pe.GetRepo().GetFullName()
	}
	if out.Owner == "" || out.Repo == "" || out.PullRequest.Number <= 0 || out.PullRequest.HeadSHA == "" {
		return PullRequestEvent{}, errors.New("pull_request webhook: repository, number or head commit missing")
	}
	return out, nil
}

// Decide says whether to run `cairn pr check` for an event: only for
// opened, synchronize and reopened, and never for a fork's pull request
// ("fork: not checked"), whose code cairn does not fetch with its
// credentials.
func Decide(ev PullRequestEvent) Decision {
	switch ev.Action {
	case "opened", "synchronize", "reopened":
	default:
		return Decision{Reason: fmt.Sprintf("action %q: nothing to check", ev.Action)}
	}
	if ev.PullRequest.Fork() {
		return Decision{Reason: "fork: not checked"}
	}
	if ev.PullRequest.State == "closed" {
		return Decision{Reason: "closed: nothing to check"}
	}
	return Decision{Check: true}
}

// VerifyWebhook checks a webhook request's X-Hub-Signature-256 against
// secret and returns its event type (X-GitHub-Event), delivery id
// (X-GitHub-Delivery, for deduplication) and payload.
func VerifyWebhook(r *http.Request, secret []byte) (event, delivery string, payload []byte, err error) {
	if len(secret) == 0 {
		return "", "", nil, errors.New("webhook: no secret configured")
	}
	payload, err = gh.ValidatePayload(r, secret)
	if err != nil {
		return "", "", nil, fmt.Errorf("webhook: %w", err)
	}
	return gh.WebHookType(r), gh.DeliveryID(r), payload, nil
}
