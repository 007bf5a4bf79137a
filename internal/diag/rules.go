package diag

// Rule describes one rule: its code, a one-line summary and the help a
// person needs to fix a finding.
type Rule struct {
	Code     string
	Severity Severity
	Summary  string
	Help     string
}

// The rule codes. They are stable: CI configurations and suppressions refer
// to them.
const (
	RuleSyntax             = "syntax"
	RuleEncoding           = "encoding"
	RuleTooLarge           = "too-large"
	RuleTooDeep            = "too-deep"
	RuleDuplicateKey       = "duplicate-key"
	RuleJsonnet            = "jsonnet"
	RuleImportEscape       = "import-escape"
	RulePathEscape         = "path-escape"
	RuleSymlink            = "symlink"
	RuleUnexpectedFile     = "unexpected-file"
	RuleNotADocument       = "not-a-document"
	RuleAPIVersion         = "api-version"
	RuleUnknownKind        = "unknown-kind"
	RuleWrongKind          = "wrong-kind"
	RuleSchema             = "schema"
	RuleMissingRepository  = "missing-repository"
	RuleDuplicateAdapter   = "duplicate-adapter"
	RuleUnknownEnvironment = "unknown-environment"
	RulePortConflict       = "port-conflict"
	RuleOpenAcceptor       = "open-acceptor"
	RuleInvalidCIDR        = "invalid-cidr"
	RuleLiteralCredential  = "literal-credential"
	RuleUnknownTimezone    = "unknown-timezone"
	RuleUnknownRole        = "unknown-role"
	RuleUnknownReference   = "unknown-reference"
	RuleDuplicateName      = "duplicate-name"
	RuleExpired            = "expired"
	RuleReservedPort       = "reserved-port"
	RuleAcceptorName       = "acceptor-name"
	RuleImage              = "image"
	RuleResources          = "resources"
	RuleChartPath          = "chart-path"
)

// Rules is the catalogue of every rule, in the order they are documented.
var Rules = []Rule{
	{RuleSyntax, Error, "The file is not well-formed JSON or Jsonnet.", "Fix the syntax at the position given; a truncated file ends early."},
	{RuleEncoding, Error, "The file is not valid UTF-8.", "Save the file as UTF-8."},
	{RuleTooLarge, Error, "The file is larger than the size limit.", "Split it into smaller documents; the limit guards the reconciler's memory."},
	{RuleTooDeep, Error, "The document nests deeper than the limit.", "No cairn document needs deep nesting; flatten the value."},
	{RuleDuplicateKey, Error, "An object names the same key twice.", "Remove one of them: JSON decoders silently keep only the last, so a reviewer may read the wrong one."},
	{RuleJsonnet, Error, "A Jsonnet file failed to evaluate.", "Fix the error at the position given; evaluation is bounded in stack depth and time."},
	{RuleImportEscape, Error, "A Jsonnet import leads outside the repository.", "Import only files inside the repository, relative to the importing file or from lib/."},
	{RulePathEscape, Error, "A symbolic link leads outside the repository.", "Replace the link with the file itself: everything cairn applies must be reviewed in this repository."},
	{RuleSymlink, Warning, "A symbolic link inside the repository is not followed.", "Replace the link with the file, or import it from Jsonnet."},
	{RuleUnexpectedFile, Warning, "A JSON or Jsonnet file sits where cairn reads no documents.", "Adapters go under adapters/; cairn.json, security.json and policy.json at the root; libraries under lib/."},
	{RuleNotADocument, Error, "The file does not hold a document object.", "A document is a JSON object; a .jsonnet file under adapters/ may also yield a list of them."},
	{RuleAPIVersion, Error, "The apiVersion is missing or not cairn.dev/v1alpha1.", "Set apiVersion to cairn.dev/v1alpha1."},
	{RuleUnknownKind, Error, "The kind is missing or not one cairn knows.", "Use Repository, Adapter, SecurityConfig or ChangePolicy."},
	{RuleWrongKind, Error, "The document's kind does not belong at this path.", "cairn.json holds the Repository, security.json the SecurityConfig, policy.json the ChangePolicy, adapters/ the Adapters."},
	{RuleSchema, Error, "The document does not match its JSON Schema.", "Run `cairn schema export DIR` and point your editor at the schemas to see every field."},
	{RuleMissingRepository, Error, "The repository has no cairn.json.", "Add cairn.json (kind Repository) at the root, declaring the environments."},
	{RuleDuplicateAdapter, Error, "Two adapters share a name in one environment.", "Each adapter is one Helm release: rename one of them."},
	{RuleUnknownEnvironment, Error, "An adapter names an environment cairn.json does not declare.", "Declare the environment in cairn.json, or fix the name."},
	{RulePortConflict, Error, "Two acceptors listen on one port in one environment.", "Give each acceptor its own port."},
	{RuleOpenAcceptor, Error, "An acceptor admits no source, or any source.", "List the counterparty's ranges in listen.allowedSources; an open acceptor needs an exception in policy.json."},
	{RuleInvalidCIDR, Error, "An IP range is not a valid prefix.", "Write the network address with its prefix length, such as 203.0.113.0/24."},
	{RuleLiteralCredential, Error, "A value looks like a literal credential.", "Store it in a Kubernetes Secret and reference it with secretRef; rotate it, since it is now in Git history."},
	{RuleUnknownTimezone, Error, "A time zone is not a known IANA zone.", "Use a name such as Europe/London, America/New_York or UTC."},
	{RuleUnknownRole, Error, "An RBAC binding names a role that does not exist.", "Bind a built-in role (admin, operator, developer, viewer) or one declared under rbac.roles."},
	{RuleUnknownReference, Error, "A document refers to an environment or adapter that does not exist.", "Fix the name, or remove the stale reference."},
	{RuleDuplicateName, Error, "A name that must be unique appears twice.", "Rename one of them."},
	{RuleReservedPort, Error, "An acceptor listens on the adapter's health port, 8080.", "Choose another port: 8080 serves the pod's liveness and readiness probes."},
	{RuleAcceptorName, Error, "An acceptor's name does not start with a letter.", "Rename it: its Service is named after it, and a Service name (DNS-1035) starts with a letter."},
	{RuleImage, Error, "An adapter has no image to run.", "Set spec.image in cairn.json (repository, and a tag or digest), or in the adapter."},
	{RuleResources, Error, "A resource request is above its limit.", "Lower the request or raise the limit: Kubernetes refuses such a pod."},
	{RuleChartPath, Error, "The chart cairn.json names is not in the repository.", "Commit the chart directory (with its Chart.yaml), or remove spec.chart to use the embedded chart."},
	{RuleExpired, Warning, "An API key or an exception has expired.", "Remove it, or replace it with a new one; an expired grant is never honoured."},
}

// Lookup returns the rule with the given code.
func Lookup(code string) (Rule, bool) {
	for _, r := range Rules {
		if r.Code == code {
			return r, true
		}
	}
	return Rule{}, false
}
