package history

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Event names what a record is about.
type Event string

// Events the reconciler records.
const (
	RevisionApplied   Event = "revision.applied"
	RevisionRefused   Event = "revision.refused"
	RevisionFailed    Event = "revision.failed"
	AdapterInstalled  Event = "adapter.installed"
	AdapterUpgraded   Event = "adapter.upgraded"
	AdapterUninstall  Event = "adapter.uninstalled"
	AdapterRolledBack Event = "adapter.rolled-back"
	AdapterFailed     Event = "adapter.failed"
	AdapterWaiting    Event = "adapter.waiting"
	DriftDetected     Event = "drift.detected"
	DriftCorrected    Event = "drift.corrected"
	HistoryRewritten  Event = "branch.rewritten"
	// Access events, from the API: a request allowed (at audit level
	// standard and above), refused for its credentials, or denied by RBAC;
	// a manual sync.
	AccessAllowed         Event = "access.allowed"
	AccessUnauthenticated Event = "access.unauthenticated"
	AccessDenied          Event = "access.denied"
	SyncRequested         Event = "sync.requested"
	// Browser logins through single sign-on.
	LoginSucceeded Event = "auth.login"
	LoginFailed    Event = "auth.login-failed"
	LoggedOut      Event = "auth.logout"
)

// Outcome is how the recorded action ended.
type Outcome string

// Outcomes.
const (
	Succeeded Outcome = "succeeded"
	Failed    Outcome = "failed"
	Refused   Outcome = "refused"
	Waiting   Outcome = "waiting"
)

// Person is a Git identity as the commit states it. Git does not prove it:
// see Commit.Signature.
type Person struct {
	Name  string    `json:"name"`
	Email string    `json:"email"`
	When  time.Time `json:"when"`
}

// Commit is one commit a revision brings to the branch.
type Commit struct {
	Hash      string `json:"hash"`
	Author    Person `json:"author"`
	Committer Person `json:"committer"`
	Subject   string `json:"subject"`
	// Signature is "unsigned", "unverified" (signed, no key to check it
	// against, or a key that does not match) or "verified".
	Signature string   `json:"signature"`
	Files     []string `json:"files,omitempty"`
	// PullRequest is the number of the pull request that merged the commit,
	// Approvers the logins whose approvals the change policy counted, and
	// Merger the login that merged it; empty where unknown (a direct push,
	// or no GitHub connection).
	PullRequest int      `json:"pullRequest,omitempty"`
	Approvers   []string `json:"approvers,omitempty"`
	Merger      string   `json:"merger,omitempty"`
}

// Change is one field-level change of an adapter, by JSON pointer.
type Change struct {
	Pointer string `json:"pointer"`
	Kind    string `json:"kind"`
	Before  any    `json:"before,omitempty"`
	After   any    `json:"after,omitempty"`
	Risk    string `json:"risk"`
}

// Record is one audit entry. Seq, PrevHash and Hash are assigned by the
// store that appends it.
type Record struct {
	Time     time.Time `json:"time"`
	Event    Event     `json:"event"`
	Revision string    `json:"revision,omitempty"`
	// Previous is the revision applied before this one, for revision events.
	Previous    string   `json:"previous,omitempty"`
	Commits     []Commit `json:"commits,omitempty"`
	Adapter     string   `json:"adapter,omitempty"`
	Environment string   `json:"environment,omitempty"`
	Changes     []Change `json:"changes,omitempty"`
	// Release and HelmVersion name the Helm release and the revision Helm
	// stored; ValuesDigest is the digest of the values (never the values).
	Release      string        `json:"release,omitempty"`
	HelmVersion  int           `json:"helmVersion,omitempty"`
	ValuesDigest string        `json:"valuesDigest,omitempty"`
	Outcome      Outcome       `json:"outcome"`
	Error        string        `json:"error,omitempty"`
	Actor        string        `json:"actor"`
	Duration     time.Duration `json:"duration"`
	// Note says something unusual about the record, such as that it was
	// written after a restart for a change made before it.
	Note string `json:"note,omitempty"`
	// Access describes an API request, on access and sync records.
	Access *Access `json:"access,omitempty"`
	// Checkpoint is set on HistoryPruned records.
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
}

// Access is an API request as the access trail keeps it: who (actor), what
// (action, resource), how (request) and why it was refused (reason). The
// shape follows the security configuration reference's audit record, so
// its masking paths (actor.ip, request.headers.authorization) apply to it.
type Access struct {
	// Action is the permission the route needs ("adapters:read"), or what
	// was done ("sync.create").
	Action   string         `json:"action"`
	Actor    AccessActor    `json:"actor"`
	Resource AccessResource `json:"resource,omitzero"`
	Request  AccessRequest  `json:"request"`
	// Reason says why a request was refused or denied (a stable code).
	Reason string `json:"reason,omitempty"`
}

// AccessActor is who made a request.
type AccessActor struct {
	// Type is user, serviceAccount or anonymous; ID the user or account.
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	// Method is how it authenticated: apikey, jwt, session or mtls; KeyID
	// names the API key.
	Method    string `json:"method,omitempty"`
	KeyID     string `json:"keyId,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// AccessResource is what a request was about.
type AccessResource struct {
	Type string `json:"type,omitempty"`
	ID   string `json:"id,omitempty"`
}

// AccessRequest is the HTTP request.
type AccessRequest struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Route     string `json:"route,omitempty"`
	Status    int    `json:"status"`
	RequestID string `json:"requestId"`
	// Query is kept at audit level verbose, masked.
	Query string `json:"query,omitempty"`
}

// Recorder appends records. Append must not block the caller for long; a
// store that cannot keep up buffers or returns an error.
type Recorder interface {
	Append(ctx context.Context, r Record) error
}

// Log writes records as structured log lines at Info.
type Log struct{ Logger *slog.Logger }

// Append logs r.
func (l Log) Append(ctx context.Context, r Record) error {
	attrs := []slog.Attr{slog.String("event", string(r.Event)), slog.String("outcome", string(r.Outcome))}
	for _, kv := range [][2]string{{"revision", r.Revision}, {"adapter", r.Adapter},
		{"environment", r.Environment}, {"release", r.Release}, {"error", r.Error}} {
		if kv[1] != "" {
			attrs = append(attrs, slog.String(kv[0], kv[1]))
		}
	}
	if r.HelmVersion > 0 {
		attrs = append(attrs, slog.Int("helmVersion", r.HelmVersion))
	}
	attrs = append(attrs, slog.Duration("duration", r.Duration))
	l.Logger.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
	return nil
}

// Memory keeps records in memory, in order. It is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	records []Record
}

// Append keeps r.
func (m *Memory) Append(_ context.Context, r Record) error {
	m.mu.Lock()
	m.records = append(m.records, r)
	m.mu.Unlock()
	return nil
}

// Records returns a copy of the records kept so far.
func (m *Memory) Records() []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Record(nil), m.records...)
}

// BatchRecorder appends several records at once, all or none.
type BatchRecorder interface {
	AppendAll(ctx context.Context, records []Record) error
}

// AppendAll appends records to rec: at once when rec is a BatchRecorder,
// else one by one (stopping at the first error).
func AppendAll(ctx context.Context, rec Recorder, records []Record) error {
	if b, ok := rec.(BatchRecorder); ok {
		return b.AppendAll(ctx, records)
	}
	for _, r := range records {
		if err := rec.Append(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// Tee appends to every recorder in turn and returns the first error.
type Tee []Recorder

// AppendAll appends records to each recorder.
func (t Tee) AppendAll(ctx context.Context, records []Record) error {
	var first error
	for _, rec := range t {
		if err := AppendAll(ctx, rec, records); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Append appends r to each recorder.
func (t Tee) Append(ctx context.Context, r Record) error {
	var first error
	for _, rec := range t {
		if err := rec.Append(ctx, r); err != nil && first == nil {
			first = err
		}
	}
	return first
}
