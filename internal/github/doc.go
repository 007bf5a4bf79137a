// Package github is cairn's only door to the GitHub REST API: every use of
// github.com/google/go-github/v60 and github.com/bradleyfalzon/ghinstallation/v2
// lives here.
//
// It does three things:
//
//   - [New] builds a [Client] authenticated with a personal token or as a
//     GitHub App installation (tokens fetched and refreshed by
//     ghinstallation), against github.com or a GitHub Enterprise Server
//     base URL (https://HOST/api/v3/). Every GET is a conditional request
//     (ETag / Last-Modified cached in memory; a 304 is answered from the
//     cache and costs no rate limit), the primary rate limit is waited out
//     when it resets within [Config.MaxRateWait] and otherwise fails with a
//     *[RateLimitError], and secondary limits (403 or 429 with Retry-After)
//     are retried a bounded number of times. A token never appears in a log
//     line, an error or a response this package returns.
//
//   - [Evaluate] is the approval gate of the reconciler: given the commits a
//     revision brings and policy.json, it finds the merged pull request of
//     every commit and says whether the revision may apply ([Verdict]), what
//     is missing, in sentences a reviewer can act on, when a closed change
//     window opens, and, per commit, the pull request, the approvers counted
//     and the merger, for the audit trail. It reads GitHub through the small
//     [GateAPI] interface, which [Client] implements.
//
//   - [PRCheck] reports `cairn pr check` on a pull request: one sticky
//     comment (found again by a hidden marker and edited, never duplicated),
//     the commit statuses cairn/validate and cairn/plan on the head commit,
//     and the label cairn:high-risk. [ParsePullRequestEvent] reads a
//     pull_request webhook and [Decide] says whether to check it.
//
// # Calling the gate
//
// The reconciler prepares a [Request] per revision: the commits from
// gitsource.Repo.Commits(lastApplied, head) (first-parent, oldest first,
// with their files), policy.json of the head, the plan's highest risk
// (plan.Risk.String()), the environments the plan changes, and the time.
// [Gate] binds the repository and branch. Then: Allowed applies and the
// audit records take Verdict.Commits (pull request, approvers, merger);
// Missing refuses the revision (judge it again on later passes: approvals
// given after the merge and checks that finish still count); Wait alone
// retries at Wait.Until; an error (a *RateLimitError among them) means
// GitHub could not be read: retry, never apply.
//
// # Pull requests from forks
//
// A pull request whose head repository is not the base repository is never
// checked with cairn's credentials: [Decide] answers "fork: not checked",
// and [PRCheck] refuses such a report with [ErrFork] before any request, so
// cairn neither fetches the fork's code nor writes to GitHub on its behalf.
// Forks are checked by the `cairn validate --output github` workflow, which
// runs with the fork's own, read-only, token. Once a maintainer merges a
// fork's pull request, the gate treats it like any other merged pull
// request: its approvals, checks and merger are what count.
//
// It does not compute plans, fetch Git objects or decide what the
// reconciler does with a verdict; it does not receive webhooks (the status
// API does, and hands the verified payload to [ParsePullRequestEvent]).
package github
