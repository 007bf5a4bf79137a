package reconciler

import "time"

// StalledError means retrying the same revision cannot help: the
// documents are invalid, or the gate refused a prune. A new commit is
// needed.
type StalledError struct {
	Reason string
	Err    error
	// Retry: the same revision is judged again on the next pass (the
	// approval gate's refusals: an approval or a check can still arrive).
	Retry bool
}

func (e *StalledError) Error() string { return e.Err.Error() }
func (e *StalledError) Unwrap() error { return e.Err }

// WaitingError means something outside cairn must change first (a Secret
// created, a change window opened); the revision is retried after
// RetryAfter.
type WaitingError struct {
	Reason     string
	RetryAfter time.Duration
	Err        error
}

func (e *WaitingError) Error() string { return e.Err.Error() }
func (e *WaitingError) Unwrap() error { return e.Err }

// Reasons, short CamelCase words as Kubernetes conditions use.
const (
	ReasonValidation      = "ValidationFailed"
	ReasonRenderFailed    = "RenderFailed"
	ReasonPruneRefused    = "PruneRefused"
	ReasonSecretMissing   = "SecretMissing"
	ReasonApplyFailed     = "ApplyFailed"
	ReasonUpgradeRollback = "UpgradeRolledBack"
	ReasonApplied         = "Applied"
	ReasonAuthFailed      = "GitAuthFailed"
)
