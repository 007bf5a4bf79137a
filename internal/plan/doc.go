// Package plan compares two revisions of a config repository and says what
// would change, for a reviewer: per adapter (keyed environment/name) added,
// removed, moved (its environment changed) or changed (its release digest
// changed, or its manifest changed in a way that renders the same); the
// semantic changes of each, with JSON pointers, before and after values and
// a risk; the changes to cairn.json, security.json and policy.json; and a
// unified diff of each changed release's rendered objects.
//
// Compare is pure: it takes what validate and render produced for each
// revision and reads nothing else. It never sees a secret value: manifests
// and chart values hold only references to Secrets (name and keys), and an
// API key's hash is reported as "changed", never shown.
//
// # Risk
//
// Every change has a kind (Kinds lists them all with their advice) and a
// risk; an adapter's risk is its highest change's, the plan's the highest
// of all ("none" when nothing changed). The table:
//
// High: a port opened (a new acceptor or listener, listen.port or nodePort
// changed, a Service type exposed further); listen.allowedSources widened
// (a range added that no old range covers, or one made broader, such as
// /24 to /16); role switched; protocol changed; environment moved; a
// release's namespace changed; an adapter removed from a production
// environment (production: true in cairn.json); TLS turned off, peer
// verification turned off or the minimum TLS version lowered; Kafka moved
// off TLS. In security.json: an RBAC binding added or its scope widened, a
// role granted more, the default role raised, RBAC disabled; mTLS, API keys,
// JWT or SSO disabled or removed, mTLS client certificates relaxed, an API
// key added, re-enabled, given scopes or a later expiry, JWT algorithms or
// audiences added, the clock skew lengthened, the issuer, key set or SSO
// provider changed (or JWT/SSO switched on: a new way in), the session
// timeout lengthened, the IP allowlist disabled or widened, rate limits
// disabled or removed, audit logging or masking disabled or removed,
// security.json removed. In policy.json: approvals lowered (fewer required,
// stale or non-writer approvals counted, a path or risk rule weakened or
// removed), a required check removed, signatures no longer required or
// more signers accepted, a change window removed or opened wider, the
// prune limit raised or removed, an open-acceptor exception added or
// extended, direct pushes allowed, policy.json removed. In cairn.json: an
// environment's production flag cleared or its namespace changed, a
// production environment removed.
//
// Medium: credentials changed (the credentials or TLS secretRef, an env
// var's secretKeyRef); an adapter removed from a non-production
// environment, added to a production one, suspended, or its listener
// closed; connect endpoints, egress widened, FIX session identity
// (version, CompIDs), sequence resets and schedule, Kafka settings; a
// chart change; any field without a rule. Any other security.json or
// policy.json change (tightening included: it can lock people out), API
// keys removed or rotated, rate limits raised; cairn.json's chart path
// and orchestrator.
//
// Low: replicas, resources, image, labels, annotations, description, env
// literals, heartbeat and TCP settings, allowed sources or egress narrowed,
// an adapter added outside production or resumed, values inherited from
// cairn.json defaults, other cairn.json changes.
//
// # Output
//
// The JSON shape is the Plan type, versioned by its "version" field ("v1");
// fields are added, never renamed or removed, within a version. Text output
// is for terminals and prints every diff. Markdown is a pull request
// comment that always fits GitHub's 65,536-character limit: WriteMarkdown
// says which order it cuts in and the comment says what it cut.
package plan
