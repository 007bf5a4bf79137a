package v1alpha1

// DefaultApprovals is the approvals a revision needs when policy.json does
// not say.
const DefaultApprovals = 1

// ChangePolicy is policy.json: what a revision needs before cairn applies it.
type ChangePolicy struct {
	TypeMeta
	Metadata ObjectMeta       `json:"metadata"`
	Spec     ChangePolicySpec `json:"spec"`
}

// ChangePolicySpec is the body of a ChangePolicy.
type ChangePolicySpec struct {
	Approvals  *Approvals  `json:"approvals,omitempty"`
	Paths      []PathRule  `json:"paths,omitempty"`
	Risk       *Risk       `json:"risk,omitempty"`
	Checks     *Checks     `json:"checks,omitempty"`
	Signatures *Signatures `json:"signatures,omitempty"`
	// Windows are the change windows keyed by environment name.
	Windows    map[string]ChangeWindow `json:"windows,omitempty"`
	Prune      *Prune                  `json:"prune,omitempty"`
	Exceptions *Exceptions             `json:"exceptions,omitempty"`
	DirectPush *DirectPush             `json:"directPush,omitempty"`
}

// Approvals are the pull request approvals every revision needs. Approvals
// by the author never count.
type Approvals struct {
	Required *int `json:"required,omitempty"`
	// DismissStale counts only approvals on the final head commit; nil means true.
	DismissStale *bool `json:"dismissStale,omitempty"`
	// RequireWritePermission counts only approvers with write access; nil means true.
	RequireWritePermission *bool `json:"requireWritePermission,omitempty"`
}

// RequiredApprovals returns the approvals every revision needs, defaulting
// to DefaultApprovals. It is nil-safe.
func (a *Approvals) RequiredApprovals() int {
	if a == nil || a.Required == nil {
		return DefaultApprovals
	}
	return *a.Required
}

// OnlyFinalHead reports whether only approvals on the final head commit
// count (the default). It is nil-safe.
func (a *Approvals) OnlyFinalHead() bool { return a == nil || on(a.DismissStale) }

// OnlyWriters reports whether only approvals from users with write access
// count (the default). It is nil-safe.
func (a *Approvals) OnlyWriters() bool { return a == nil || on(a.RequireWritePermission) }

// PathRule adds requirements for revisions touching files that match Pattern.
type PathRule struct {
	Pattern   string   `json:"pattern"`
	Approvals *int     `json:"approvals,omitempty"`
	Teams     []string `json:"teams,omitempty"`
	Reviewers []string `json:"reviewers,omitempty"`
}

// Risk adds requirements by the highest risk of a revision's changes.
type Risk struct {
	High   *RiskRule `json:"high,omitempty"`
	Medium *RiskRule `json:"medium,omitempty"`
}

// RiskRule is the approvals and teams a risk level needs.
type RiskRule struct {
	Approvals *int     `json:"approvals,omitempty"`
	Teams     []string `json:"teams,omitempty"`
}

// Checks names the check runs or status contexts that must have succeeded.
type Checks struct {
	Required []string `json:"required,omitempty"`
}

// Signatures requires verified commit signatures, optionally from listed signers.
type Signatures struct {
	Required       *bool    `json:"required,omitempty"`
	AllowedSigners []string `json:"allowedSigners,omitempty"`
}

// IsRequired reports whether signatures are required. It is nil-safe.
func (s *Signatures) IsRequired() bool { return s != nil && s.Required != nil && *s.Required }

// ChangeWindow is when changes may apply to one environment, in its time zone.
// With Allow set, changes apply only inside an allow period; never inside a
// deny period.
type ChangeWindow struct {
	Timezone string   `json:"timezone"`
	Allow    []Period `json:"allow,omitempty"`
	Deny     []Period `json:"deny,omitempty"`
}

// Period is weekly hours HH:MM to HH:MM on Days (all days when empty); an
// End at or before Start runs past midnight.
type Period struct {
	Days  []string `json:"days,omitempty"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

// Prune limits removals per revision.
type Prune struct {
	// MaxDeletions is the most releases one revision may uninstall; nil means no limit.
	MaxDeletions *int `json:"maxDeletions,omitempty"`
}

// Exceptions are explicit grants for what the rules otherwise refuse.
type Exceptions struct {
	OpenAcceptors []OpenAcceptorException `json:"openAcceptors,omitempty"`
}

// OpenAcceptorException lets one acceptor admit any source, for a reason,
// until Expires (RFC 3339; empty means no expiry).
type OpenAcceptorException struct {
	Environment string `json:"environment"`
	Adapter     string `json:"adapter"`
	Reason      string `json:"reason"`
	Expires     string `json:"expires,omitempty"`
}

// DirectPush says whether commits without a merged pull request may apply.
type DirectPush struct {
	Allowed *bool `json:"allowed,omitempty"`
}

// IsAllowed reports whether direct pushes may apply (off by default). It is nil-safe.
func (d *DirectPush) IsAllowed() bool { return d != nil && d.Allowed != nil && *d.Allowed }
