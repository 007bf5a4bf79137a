// Package githubtest is a fake GitHub REST API for tests: an httptest
// server with an in-memory model of repositories, pull requests, reviews,
// collaborator permissions, team memberships, commit statuses, check runs,
// commit signature verification, issue comments and labels.
//
// It implements exactly the endpoints cairn calls, answering with payloads
// shaped like GitHub's documented ones (field names and types of the REST
// reference; go-github's JSON tags were the cross-check):
//
//	GET    /repos/{owner}/{repo}/commits/{sha}/pulls
//	GET    /repos/{owner}/{repo}/pulls/{number}
//	GET    /repos/{owner}/{repo}/pulls/{number}/reviews
//	GET    /repos/{owner}/{repo}/collaborators/{user}/permission
//	GET    /orgs/{org}/teams/{team}/memberships/{user}
//	GET    /repos/{owner}/{repo}/commits/{sha}/check-runs
//	GET    /repos/{owner}/{repo}/commits/{sha}/status
//	GET    /repos/{owner}/{repo}/commits/{sha}
//	POST   /repos/{owner}/{repo}/statuses/{sha}
//	GET    /repos/{owner}/{repo}/issues/{number}/comments
//	POST   /repos/{owner}/{repo}/issues/{number}/comments
//	PATCH  /repos/{owner}/{repo}/issues/comments/{id}
//	GET    /repos/{owner}/{repo}/issues/{number}/labels
//	POST   /repos/{owner}/{repo}/issues/{number}/labels
//	DELETE /repos/{owner}/{repo}/issues/{number}/labels/{name}
//	POST   /app/installations/{id}/access_tokens
//
// Like GitHub it requires a credential on every call (a token added with
// AddToken, or an installation token it issued to a GitHub App whose JWT
// it verified: RS256, issuer = the App id), paginates lists with Link
// headers (MaxPerPage forces small pages), answers conditional GETs with
// 304 Not Modified, sends X-RateLimit-* headers, and can be told to answer
// with primary or secondary rate-limit errors (Inject). Options.Prefix
// "/api/v3" mounts it as GitHub Enterprise Server does.
//
// Every request is recorded (Requests), so a test can assert what was
// called, with which credential, and what was answered. It is for tests
// only and never linked into cairn.
package githubtest
