package v1alpha1

// Built-in roles: always defined, never declared in security.json, and no
// custom role may take their names.
const (
	RoleAdmin     = "admin"
	RoleOperator  = "operator"
	RoleDeveloper = "developer"
	RoleViewer    = "viewer"
)

// BuiltinRoles lists the built-in roles, most privileged first.
var BuiltinRoles = []string{RoleAdmin, RoleOperator, RoleDeveloper, RoleViewer}

// Resources of cairn's API and portal that RBAC permissions name.
const (
	ResourceAdapters       = "adapters"
	ResourceHistory        = "history"
	ResourceChangeRequests = "changerequests"
	ResourceSync           = "sync"
	ResourceStatus         = "status"
	ResourceSecurity       = "security"
	ResourceWebhooks       = "webhooks"
	ResourceAll            = "*"
)

// Actions an RBAC permission grants on a resource.
const (
	ActionRead    = "read"
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionDelete  = "delete"
	ActionSync    = "sync"
	ActionExport  = "export"
	ActionApprove = "approve"
	ActionAll     = "*"
)

// ScopeAdmin is the API key scope that allows everything; every other scope
// is written resource:action, such as "history:export".
const ScopeAdmin = "admin"

// Subject types of an RBAC binding.
const (
	SubjectUser           = "user"
	SubjectGroup          = "group"
	SubjectServiceAccount = "serviceAccount"
)

// SecurityConfig is security.json: who may use cairn's API and portal, what
// they may do, and what is recorded about it. It reloads with each applied
// revision.
type SecurityConfig struct {
	TypeMeta
	Metadata ObjectMeta   `json:"metadata"`
	Spec     SecuritySpec `json:"spec"`
}

// SecuritySpec is the body of a SecurityConfig. A nil block is not
// configured; a present block is in force unless its Enabled is false (use
// the On methods, which are nil-safe).
type SecuritySpec struct {
	MTLS            *MTLS            `json:"mtls,omitempty"`
	Authentication  *Authentication  `json:"authentication,omitempty"`
	SSO             *SSO             `json:"sso,omitempty"`
	RBAC            *RBAC            `json:"rbac,omitempty"`
	Audit           *AuditConfig     `json:"audit,omitempty"`
	Network         *Network         `json:"network,omitempty"`
	RateLimit       *RateLimit       `json:"rateLimit,omitempty"`
	Sessions        *Sessions        `json:"sessions,omitempty"`
	DataProtection  *DataProtection  `json:"dataProtection,omitempty"`
	InputValidation *InputValidation `json:"inputValidation,omitempty"`
	Webhooks        *Webhooks        `json:"webhooks,omitempty"`
}

// on reports whether a present block is in force: absent Enabled means true.
func on(enabled *bool) bool { return enabled == nil || *enabled }

// MTLS configures mutual TLS on the API and portal listener.
type MTLS struct {
	Enabled             *bool      `json:"enabled,omitempty"`
	ServerCertSecretRef *SecretRef `json:"serverCertSecretRef,omitempty"`
	ClientCASecretRef   *SecretRef `json:"clientCASecretRef,omitempty"`
	// ClientAuth is "require" (the default when empty), "request" or "none".
	ClientAuth string `json:"clientAuth,omitempty"`
}

// Client certificate modes of MTLS.ClientAuth.
const (
	ClientAuthRequire = "require"
	ClientAuthRequest = "request"
	ClientAuthNone    = "none"
)

// On reports whether mTLS is configured and enabled.
func (m *MTLS) On() bool { return m != nil && on(m.Enabled) }

// Authentication holds the ways machines authenticate besides SSO.
type Authentication struct {
	APIKeys *APIKeys `json:"apiKeys,omitempty"`
	JWT     *JWT     `json:"jwt,omitempty"`
}

// APIKeys configures bearer API keys, stored only as hashes.
type APIKeys struct {
	Enabled *bool    `json:"enabled,omitempty"`
	Keys    []APIKey `json:"keys,omitempty"`
}

// On reports whether API keys are configured and enabled.
func (a *APIKeys) On() bool { return a != nil && on(a.Enabled) }

// APIKey is one API key: its public id, its name, the SHA-256 of the key
// ("sha256:" + hex) and the scopes it is limited to. The key itself is never
// stored.
type APIKey struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Hash   string   `json:"hash"`
	Scopes []string `json:"scopes"`
	// Expires is an RFC 3339 time; empty means the key does not expire.
	Expires     string `json:"expires,omitempty"`
	Disabled    *bool  `json:"disabled,omitempty"`
	Description string `json:"description,omitempty"`
}

// IsDisabled reports whether the key is switched off.
func (k *APIKey) IsDisabled() bool { return k.Disabled != nil && *k.Disabled }

// JWT configures bearer JSON Web Tokens verified against an issuer's keys.
type JWT struct {
	Enabled  *bool    `json:"enabled,omitempty"`
	Issuer   string   `json:"issuer,omitempty"`
	Audience []string `json:"audience,omitempty"`
	// JWKSURI is where signing keys are published; empty means discovered
	// from the issuer.
	JWKSURI string `json:"jwksUri,omitempty"`
	// Algorithms are the accepted asymmetric algorithms; never none or HS*.
	Algorithms    []string `json:"algorithms,omitempty"`
	ClockSkew     string   `json:"clockSkew,omitempty"`
	GroupsClaim   string   `json:"groupsClaim,omitempty"`
	UsernameClaim string   `json:"usernameClaim,omitempty"`
}

// On reports whether JWT authentication is configured and enabled.
func (j *JWT) On() bool { return j != nil && on(j.Enabled) }

// SSO configures portal single sign-on; the block matching Provider is set.
type SSO struct {
	Enabled  *bool      `json:"enabled,omitempty"`
	Provider string     `json:"provider,omitempty"`
	OIDC     *OIDCSSO   `json:"oidc,omitempty"`
	Okta     *OktaSSO   `json:"okta,omitempty"`
	Azure    *AzureSSO  `json:"azure,omitempty"`
	Google   *GoogleSSO `json:"google,omitempty"`
}

// SSO providers.
const (
	ProviderOIDC   = "oidc"
	ProviderOkta   = "okta"
	ProviderAzure  = "azure"
	ProviderGoogle = "google"
)

// On reports whether SSO is configured and enabled.
func (s *SSO) On() bool { return s != nil && on(s.Enabled) }

// OIDCSSO is any OpenID Connect provider, found by discovery from its issuer.
type OIDCSSO struct {
	Issuer          string       `json:"issuer"`
	ClientID        string       `json:"clientId"`
	ClientSecretRef SecretKeyRef `json:"clientSecretRef"`
	Scopes          []string     `json:"scopes,omitempty"`
	RedirectURI     string       `json:"redirectUri"`
	GroupsClaim     string       `json:"groupsClaim,omitempty"`
}

// OktaSSO is an Okta org and authorization server.
type OktaSSO struct {
	Domain                string       `json:"domain"`
	ClientID              string       `json:"clientId"`
	ClientSecretRef       SecretKeyRef `json:"clientSecretRef"`
	AuthorizationServerID string       `json:"authorizationServerId,omitempty"`
}

// AzureSSO is a Microsoft Entra ID tenant.
type AzureSSO struct {
	TenantID        string       `json:"tenantId"`
	ClientID        string       `json:"clientId"`
	ClientSecretRef SecretKeyRef `json:"clientSecretRef"`
}

// GoogleSSO is Google accounts, optionally of one Workspace domain.
type GoogleSSO struct {
	ClientID        string       `json:"clientId"`
	ClientSecretRef SecretKeyRef `json:"clientSecretRef"`
	HostedDomain    string       `json:"hostedDomain,omitempty"`
}

// RBAC holds custom roles and the bindings of roles to subjects.
type RBAC struct {
	Enabled *bool `json:"enabled,omitempty"`
	// DefaultRole is given to authenticated subjects without a binding;
	// empty means they get nothing.
	DefaultRole string    `json:"defaultRole,omitempty"`
	Roles       []Role    `json:"roles,omitempty"`
	Bindings    []Binding `json:"bindings,omitempty"`
}

// On reports whether RBAC is configured and enabled.
func (r *RBAC) On() bool { return r != nil && on(r.Enabled) }

// Role is a custom role: a named set of permissions.
type Role struct {
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Permissions []Permission `json:"permissions"`
}

// Permission grants actions on one resource ("*" for all).
type Permission struct {
	Resource string   `json:"resource"`
	Actions  []string `json:"actions"`
}

// Binding grants a role to a subject, within an optional scope.
type Binding struct {
	Subject Subject       `json:"subject"`
	Role    string        `json:"role"`
	Scope   *BindingScope `json:"scope,omitempty"`
}

// Subject is a user, a group or a service account, by name.
type Subject struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// BindingScope narrows a binding; every field set must match.
type BindingScope struct {
	Environments    []string         `json:"environments,omitempty"`
	AdapterSelector *AdapterSelector `json:"adapterSelector,omitempty"`
	Adapters        []string         `json:"adapters,omitempty"`
}

// AdapterSelector selects adapters by their labels.
type AdapterSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

// AuditConfig configures the access log and where copies of it go.
type AuditConfig struct {
	Enabled *bool `json:"enabled,omitempty"`
	// Level is "minimal", "standard" (the default when empty) or "verbose".
	Level        string             `json:"level,omitempty"`
	Events       []string           `json:"events,omitempty"`
	Retention    string             `json:"retention,omitempty"`
	Destinations []AuditDestination `json:"destinations,omitempty"`
}

// On reports whether audit logging is configured and enabled.
func (a *AuditConfig) On() bool { return a != nil && on(a.Enabled) }

// AuditDestination is one place audit records are copied to; File is set
// for type "file", HTTP for type "http".
type AuditDestination struct {
	Type string     `json:"type"`
	File *AuditFile `json:"file,omitempty"`
	HTTP *AuditHTTP `json:"http,omitempty"`
}

// AuditFile writes records to a local file with rotation.
type AuditFile struct {
	Path     string         `json:"path"`
	Rotation *AuditRotation `json:"rotation,omitempty"`
}

// AuditRotation says when an audit file is rotated and how many are kept.
type AuditRotation struct {
	MaxSize string `json:"maxSize,omitempty"`
	MaxAge  string `json:"maxAge,omitempty"`
	// MaxBackups is the rotated files to keep; 0 keeps all of them.
	MaxBackups *int  `json:"maxBackups,omitempty"`
	Compress   *bool `json:"compress,omitempty"`
}

// AuditHTTP POSTs records as JSON to a URL.
type AuditHTTP struct {
	URL              string     `json:"url"`
	HeadersSecretRef *SecretRef `json:"headersSecretRef,omitempty"`
	Timeout          string     `json:"timeout,omitempty"`
}

// Network holds network-level restrictions.
type Network struct {
	IPAllowlist *IPAllowlist `json:"ipAllowlist,omitempty"`
}

// IPAllowlist admits API and portal clients only from Ranges.
type IPAllowlist struct {
	Enabled *bool    `json:"enabled,omitempty"`
	Ranges  []string `json:"ranges,omitempty"`
}

// On reports whether the allowlist is configured and enabled.
func (l *IPAllowlist) On() bool { return l != nil && on(l.Enabled) }

// RateLimit holds token-bucket limits on API requests.
type RateLimit struct {
	Enabled   *bool  `json:"enabled,omitempty"`
	Global    *Limit `json:"global,omitempty"`
	PerClient *Limit `json:"perClient,omitempty"`
}

// On reports whether rate limiting is configured and enabled.
func (r *RateLimit) On() bool { return r != nil && on(r.Enabled) }

// Limit is a token bucket: a steady rate and a burst.
type Limit struct {
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	BurstSize         int     `json:"burstSize"`
}

// Sessions bounds portal login sessions.
type Sessions struct {
	Timeout       string `json:"timeout,omitempty"`
	MaxConcurrent int    `json:"maxConcurrent,omitempty"`
}

// DataProtection holds the masking of sensitive fields.
type DataProtection struct {
	Masking *Masking `json:"masking,omitempty"`
}

// Masking names fields masked in logs, audit records and API answers.
type Masking struct {
	Enabled *bool    `json:"enabled,omitempty"`
	Fields  []string `json:"fields,omitempty"`
	// Method is "redact" (the default when empty), "hash" or "partial".
	Method string `json:"method,omitempty"`
}

// On reports whether masking is configured and enabled.
func (m *Masking) On() bool { return m != nil && on(m.Enabled) }

// InputValidation limits request bodies.
type InputValidation struct {
	MaxSize             string   `json:"maxSize,omitempty"`
	AllowedContentTypes []string `json:"allowedContentTypes,omitempty"`
}

// Webhooks configures the webhook receivers.
type Webhooks struct {
	GitHub *GitHubWebhook `json:"github,omitempty"`
}

// GitHubWebhook references the shared secret GitHub deliveries are signed with.
type GitHubWebhook struct {
	SecretRef SecretKeyRef `json:"secretRef"`
}

// SecretRefs returns every Secret the configuration references, in a stable
// order, so that cairn can check they exist with the named keys before the
// configuration takes effect.
func (s *SecurityConfig) SecretRefs() []SecretRef {
	var refs []SecretRef
	key := func(k SecretKeyRef) SecretRef { return SecretRef{Name: k.Name, Keys: []string{k.Key}} }
	if m := s.Spec.MTLS; m != nil {
		if m.ServerCertSecretRef != nil {
			refs = append(refs, *m.ServerCertSecretRef)
		}
		if m.ClientCASecretRef != nil {
			refs = append(refs, *m.ClientCASecretRef)
		}
	}
	if o := s.Spec.SSO; o != nil {
		switch {
		case o.OIDC != nil:
			refs = append(refs, key(o.OIDC.ClientSecretRef))
		case o.Okta != nil:
			refs = append(refs, key(o.Okta.ClientSecretRef))
		case o.Azure != nil:
			refs = append(refs, key(o.Azure.ClientSecretRef))
		case o.Google != nil:
			refs = append(refs, key(o.Google.ClientSecretRef))
		}
	}
	if a := s.Spec.Audit; a != nil {
		for _, d := range a.Destinations {
			if d.HTTP != nil && d.HTTP.HeadersSecretRef != nil {
				refs = append(refs, *d.HTTP.HeadersSecretRef)
			}
		}
	}
	if w := s.Spec.Webhooks; w != nil && w.GitHub != nil {
		refs = append(refs, key(w.GitHub.SecretRef))
	}
	return refs
}
