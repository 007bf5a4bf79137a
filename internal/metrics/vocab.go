package metrics

import (
	"net/url"
	"strconv"
	"strings"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// Other is the label value recorded in place of a value outside a label's
// vocabulary (or beyond a label's bound).
const Other = "other"

// Unmatched is the route label of a request that matched no route (an
// empty route pattern).
const Unmatched = "unmatched"

// MaxRoutes bounds the distinct route labels: a route seen after this many
// others is recorded as [Other]. cairn's route table is far smaller; a
// caller that passes raw paths instead of patterns hits this bound.
const MaxRoutes = 128

// MaxAuditDestinations bounds the audit destinations exported one by one;
// the rest are folded into one series named [Other].
const MaxAuditDestinations = 32

// maxLabelLen cuts free-form label values (routes, destination names).
const maxLabelLen = 256

// Fixed vocabularies. The auth reasons mirror internal/auth's Reason
// constants, the methods internal/auth/identity's Method constants plus
// "none" (no credentials presented), the phases internal/status's Phase
// values a revision's attempt ends in, and the health codes
// internal/health's Status constants; a test reads those packages' sources
// so the lists cannot drift.
var (
	authMethods  = newSet("apikey", "jwt", "session", "mtls", "none")
	authOutcomes = newSet("success", "failure")
	authReasons  = newSet(
		"no-credentials", "malformed", "bad-scheme", "method-disabled", "too-large",
		"bad-alg", "unknown-key", "bad-signature", "bad-issuer", "bad-audience",
		"expired", "not-yet-valid", "missing-claim", "keys-unavailable", "revoked",
		"bad-secret", "disabled", "unknown-session", "no-identity",
	)
	authzOutcomes    = newSet("allowed", "denied")
	rateLimitScopes  = newSet("global", "client")
	certificateNames = newSet("server", "client-ca")
	webhookOutcomes  = newSet("accepted", "duplicate", "bad-signature", "ignored")
	reconcilePhases  = newSet("Applied", "Stalled", "Waiting", "Failed")
	httpMethods      = newSet("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")

	// healthCodes are gitops-engine's six codes, in internal/health's order.
	healthCodes = []string{"Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"}

	permissionResources = newSet(v1.ResourceAdapters, v1.ResourceHistory, v1.ResourceChangeRequests,
		v1.ResourceSync, v1.ResourceStatus, v1.ResourceSecurity, v1.ResourceWebhooks)
	permissionActions = newSet(v1.ActionRead, v1.ActionCreate, v1.ActionUpdate, v1.ActionDelete,
		v1.ActionSync, v1.ActionExport, v1.ActionApprove)
)

// set is a fixed vocabulary; its values are in insertion order for
// pre-initialising series.
type set struct {
	m      map[string]struct{}
	values []string
}

func newSet(values ...string) set {
	s := set{m: make(map[string]struct{}, len(values)), values: values}
	for _, v := range values {
		s.m[v] = struct{}{}
	}
	return s
}

// label returns v if it is in the set, else Other.
func (s set) label(v string) string {
	if _, ok := s.m[v]; ok {
		return v
	}
	return Other
}

// permissionLabel returns p if it is resource:action in the schema's
// vocabulary (no wildcards), else Other.
func permissionLabel(p string) string {
	r, a, ok := strings.Cut(p, ":")
	if !ok || permissionResources.label(r) == Other || permissionActions.label(a) == Other {
		return Other
	}
	return p
}

// healthLabel returns one of the six health codes; anything else (an empty
// code not yet checked, a typo) counts as Unknown, as internal/health ranks
// an unknown code.
func healthLabel(h string) string {
	for _, c := range healthCodes {
		if h == c {
			return c
		}
	}
	return "Unknown"
}

// codeLabel is an HTTP status code as a label: three digits, else Other.
func codeLabel(code int) string {
	if code < 100 || code > 599 {
		return Other
	}
	return strconv.Itoa(code)
}

// clean makes a free-form value safe as a label value: valid UTF-8 (a
// rune split by the cut, or any invalid byte, becomes U+FFFD), no control
// characters, at most about maxLabelLen bytes.
func clean(s string) string {
	if len(s) > maxLabelLen {
		s = s[:maxLabelLen]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return s
}

// destinationLabel makes an audit destination's name safe to export: the
// URL of an "http URL" name loses its user information, query and fragment
// (where credentials could hide); a name that does not parse keeps only its
// type.
func destinationLabel(name string) string {
	typ, rest, _ := strings.Cut(name, " ")
	if typ == "http" || typ == "https" {
		u, err := url.Parse(rest)
		if err != nil || u.Host == "" {
			return clean(typ + " (URL not shown)")
		}
		u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
		return clean(typ + " " + u.String())
	}
	return clean(name)
}
