package metrics

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/yaml"
)

const alertsFile = "../../examples/prometheus/cairn-alerts.yaml"

// ruleFile is Prometheus's rule file format (and a PrometheusRule's spec).
type ruleFile struct {
	Groups []struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Rules    []struct {
			Alert       string            `json:"alert,omitempty"`
			Record      string            `json:"record,omitempty"`
			Expr        string            `json:"expr"`
			For         string            `json:"for,omitempty"`
			Labels      map[string]string `json:"labels,omitempty"`
			Annotations map[string]string `json:"annotations,omitempty"`
		} `json:"rules"`
	} `json:"groups"`
}

// touchAll records every value of every vocabulary once, so that every
// family and every label value the rules may name is exported.
func touchAll(m *Metrics) {
	for meth := range httpMethods.m {
		m.ObserveRequest("GET /api/v1/status", meth, 200, time.Millisecond)
		m.ObserveRequest("GET /api/v1/status", meth, 503, time.Millisecond)
	}
	for meth := range authMethods.m {
		m.AuthAttempt(meth, "success", "")
		for r := range authReasons.m {
			m.AuthAttempt(meth, "failure", r)
		}
	}
	for r := range permissionResources.m {
		for a := range permissionActions.m {
			for o := range authzOutcomes.m {
				m.AuthzDecision(r+":"+a, o)
			}
		}
	}
	for s := range rateLimitScopes.m {
		m.RateLimited(s)
	}
	m.IPRefused()
	for n := range certificateNames.m {
		m.CertificateExpiry(n, time.Now().Add(30*24*time.Hour))
	}
	m.AuditAccessDropped(1)
	for o := range webhookOutcomes.m {
		m.WebhookDelivery(o)
	}
	for p := range reconcilePhases.m {
		m.ReconcileDone(p, time.Second)
	}
	counts := map[string]int{}
	for _, h := range healthCodes {
		counts[h] = 1
	}
	m.AdaptersByHealth(counts)
	m.AppliedRevisionTimestamp(time.Now())
	m.AuditDestination("file /var/log/cairn/audit.log", 1, 1)
}

// TestAlertRules parses the example alert rules and checks each against
// the registry: every metric an expression names is exported, every label
// it matches on exists on that metric, and every literal value it matches
// with = or a |-list of =~ is one the metric carries. The rules cannot
// drift from the code.
//
// Metric names come from a small PromQL tokenizer (promqlSelectors), not
// Prometheus's parser: github.com/prometheus/prometheus/promql/parser
// would bring the whole Prometheus module graph into go.mod for one test.
func TestAlertRules(t *testing.T) {
	data, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.UnmarshalStrict(data, &rf); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}

	m := New()
	touchAll(m)
	fams := families(t, m)

	seen := map[string]bool{}
	used := map[string]bool{}
	if len(rf.Groups) == 0 {
		t.Fatal("no groups")
	}
	for _, g := range rf.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: needs a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			where := fmt.Sprintf("group %s, alert %s", g.Name, r.Alert)
			if r.Alert == "" || r.Record != "" {
				t.Errorf("%s: every rule should be an alert", where)
			}
			if seen[r.Alert] {
				t.Errorf("%s: alert name used twice", where)
			}
			seen[r.Alert] = true
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", where, r.For, err)
				}
			}
			if !slices.Contains([]string{"info", "warning", "critical"}, r.Labels["severity"]) {
				t.Errorf("%s: severity %q, want info, warning or critical", where, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description", where)
			}

			sels, err := promqlSelectors(r.Expr)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if len(sels) == 0 {
				t.Errorf("%s: the expression names no metric", where)
			}
			for _, sel := range sels {
				mf := family(fams, sel.metric)
				if mf == nil || !strings.HasPrefix(sel.metric, "cairn_") {
					t.Errorf("%s: metric %s is not exported by cairn", where, sel.metric)
					continue
				}
				used[mf.GetName()] = true
				values := labelValues(mf)
				for _, mt := range sel.matchers {
					vs, ok := values[mt.label]
					if !ok {
						t.Errorf("%s: %s has no label %q", where, sel.metric, mt.label)
						continue
					}
					for _, lit := range mt.literals() {
						if !vs[lit] {
							t.Errorf("%s: %s{%s%s%q}: no series carries %q", where, sel.metric, mt.label, mt.op, mt.value, lit)
						}
					}
				}
			}
		}
	}

	// The alerts the issue asks for.
	for _, name := range []string{
		"CairnAuthenticationFailureRatioHigh", "CairnAuthorizationDenialsSpike", "CairnRateLimitHitsSustained",
		"CairnCertificateExpiringSoon", "CairnAuditAccessRecordsDropped", "CairnAuditDestinationLagging",
		"CairnReconcileFailing", "CairnAdaptersDegraded",
	} {
		if !seen[name] {
			t.Errorf("no alert %s", name)
		}
	}
	// Every security metric has an alert.
	for _, name := range []string{
		"cairn_auth_attempts_total", "cairn_authz_decisions_total", "cairn_rate_limit_hits_total",
		"cairn_ip_allowlist_refusals_total", "cairn_certificate_expiry_timestamp_seconds",
		"cairn_audit_access_records_dropped_total", "cairn_webhook_deliveries_total",
		"cairn_audit_destination_lag_records", "cairn_audit_destination_failures_total",
	} {
		if !used[name] {
			t.Errorf("no alert uses %s", name)
		}
	}
}

// family finds the family of a series name, a histogram's _bucket, _sum
// and _count included.
func family(fams map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if mf := fams[name]; mf != nil {
		return mf
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if mf := fams[base]; mf != nil && (mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY) {
				return mf
			}
		}
	}
	return nil
}

// selector is a vector selector of an expression: a metric name and its
// label matchers.
type selector struct {
	metric   string
	matchers []matcher
}

type matcher struct {
	label, op, value string
}

var plainAlternatives = regexp.MustCompile(`^[A-Za-z0-9_\-: ]+(\|[A-Za-z0-9_\-: ]+)*$`)

// literals returns the values an equality matcher, or a regexp matcher
// that is a plain |-list, requires; nil for anything else.
func (m matcher) literals() []string {
	switch {
	case m.op == "=":
		return []string{m.value}
	case m.op == "=~" && plainAlternatives.MatchString(m.value):
		return strings.Split(m.value, "|")
	}
	return nil
}

// PromQL words that are not metric names when not followed by "(":
// operators, modifiers, and the aggregations (followed by by or without).
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
	"inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

// Modifiers followed by a parenthesised list of label names.
var promqlGrouping = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// promqlSelectors extracts the vector selectors of a PromQL expression
// with a tokenizer: strings, comments, range and subquery brackets and
// numbers (durations included) are skipped; an identifier followed by "("
// is a function or an aggregation; the label lists of by, without, on,
// ignoring, group_left and group_right are skipped; keywords and
// aggregation operators are skipped;
// every other identifier is a metric name, with the matchers in the braces
// after it. It does not check the expression's grammar.
func promqlSelectors(expr string) ([]selector, error) {
	var out []selector
	i, n := 0, len(expr)
	skipSpace := func() {
		for i < n && strings.ContainsRune(" \t\r\n", rune(expr[i])) {
			i++
		}
	}
	// closing skips from an opening bracket to its match, strings
	// included.
	closing := func(open, close byte) error {
		depth := 0
		for i < n {
			switch c := expr[i]; {
			case c == '"' || c == '\'' || c == '`':
				if _, err := readString(expr, &i); err != nil {
					return err
				}
				continue
			case c == open:
				depth++
			case c == close:
				depth--
				if depth == 0 {
					i++
					return nil
				}
			}
			i++
		}
		return fmt.Errorf("unbalanced %c", open)
	}
	for i < n {
		c := expr[i]
		switch {
		case c == '#':
			for i < n && expr[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			if _, err := readString(expr, &i); err != nil {
				return nil, err
			}
		case c == '[':
			if err := closing('[', ']'); err != nil {
				return nil, err
			}
		case c == '{': // a selector without a name
			ms, err := readMatchers(expr, &i)
			if err != nil {
				return nil, err
			}
			sel := selector{}
			for _, m := range ms {
				if m.label == "__name__" && m.op == "=" {
					sel.metric = m.value
				} else {
					sel.matchers = append(sel.matchers, m)
				}
			}
			if sel.metric == "" {
				return nil, fmt.Errorf("selector without a metric name")
			}
			out = append(out, sel)
		case isDigit(c) || (c == '.' && i+1 < n && isDigit(expr[i+1])):
			for i < n && (isIdent(expr[i]) || expr[i] == '.' ||
				((expr[i] == '+' || expr[i] == '-') && (expr[i-1] == 'e' || expr[i-1] == 'E') && !isDigit(expr[i-1]))) {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < n && (isIdent(expr[i]) || expr[i] == ':') {
				i++
			}
			word := expr[start:i]
			skipSpace()
			next := byte(0)
			if i < n {
				next = expr[i]
			}
			lower := strings.ToLower(word)
			switch {
			case promqlGrouping[lower]:
				if next == '(' {
					if err := closing('(', ')'); err != nil {
						return nil, err
					}
				}
			case promqlKeywords[lower], next == '(':
				// A keyword, or a function or aggregation: its arguments
				// are read as they come.
			default:
				sel := selector{metric: word}
				if next == '{' {
					ms, err := readMatchers(expr, &i)
					if err != nil {
						return nil, err
					}
					sel.matchers = ms
				}
				out = append(out, sel)
			}
		default:
			i++
		}
	}
	return out, nil
}

// readMatchers reads {label op "value", ...} from expr[*i] == '{'.
func readMatchers(expr string, i *int) ([]matcher, error) {
	n := len(expr)
	*i++
	var out []matcher
	for {
		for *i < n && strings.ContainsRune(" \t\r\n,", rune(expr[*i])) {
			*i++
		}
		if *i >= n {
			return nil, fmt.Errorf("unclosed {")
		}
		if expr[*i] == '}' {
			*i++
			return out, nil
		}
		start := *i
		for *i < n && isIdent(expr[*i]) {
			*i++
		}
		label := expr[start:*i]
		if label == "" {
			return nil, fmt.Errorf("label matcher at %q", expr[start:])
		}
		for *i < n && expr[*i] == ' ' {
			*i++
		}
		var op string
		for _, o := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(expr[*i:], o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, fmt.Errorf("label matcher %s: no operator", label)
		}
		*i += len(op)
		for *i < n && expr[*i] == ' ' {
			*i++
		}
		value, err := readString(expr, i)
		if err != nil {
			return nil, fmt.Errorf("label matcher %s: %w", label, err)
		}
		out = append(out, matcher{label: label, op: op, value: value})
	}
}

// readString reads a PromQL string at expr[*i] ("...", '...' or `...`)
// and returns its value.
func readString(expr string, i *int) (string, error) {
	n := len(expr)
	if *i >= n {
		return "", fmt.Errorf("want a string")
	}
	q := expr[*i]
	if q != '"' && q != '\'' && q != '`' {
		return "", fmt.Errorf("want a string at %q", expr[*i:])
	}
	j := *i + 1
	for j < n && expr[j] != q {
		if expr[j] == '\\' && q != '`' {
			j++
		}
		j++
	}
	if j >= n {
		return "", fmt.Errorf("unterminated string")
	}
	raw := expr[*i+1 : j]
	*i = j + 1
	if q == '`' {
		return raw, nil
	}
	if q == '\'' {
		raw = strings.ReplaceAll(strings.ReplaceAll(raw, `\'`, `'`), `"`, `\"`)
	}
	return strconv.Unquote(`"` + raw + `"`)
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdent(c byte) bool      { return isIdentStart(c) || isDigit(c) }

func TestPromQLSelectors(t *testing.T) {
	expr := `
	  # a comment naming not_a_metric
	  sum by (job, instance) (rate(a_total{x="}", y=~'a|b', z!="q\"uote"}[5m] offset 1h))
	  / on (job) group_left(foo) b_seconds_bucket
	  and c > bool 1e+3 or vector(0) * 14 * 24 * 3600 - time()
	  unless max without(instance) (d:recorded{__name__!=""}[1h:5m]) or {__name__="e_total", le="0.5"}
	  AND histogram_quantile(0.99, f_bucket) > .5`
	sels, err := promqlSelectors(expr)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range sels {
		names = append(names, s.metric)
	}
	if want := []string{"a_total", "b_seconds_bucket", "c", "d:recorded", "e_total", "f_bucket"}; !slices.Equal(names, want) {
		t.Fatalf("metrics %v, want %v", names, want)
	}
	if got, want := sels[0].matchers, []matcher{{"x", "=", "}"}, {"y", "=~", "a|b"}, {"z", "!=", `q"uote`}}; !slices.Equal(got, want) {
		t.Errorf("matchers %v, want %v", got, want)
	}
	if got := sels[0].matchers[1].literals(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("literals %v", got)
	}
	if got := (matcher{"code", "=~", "5.."}).literals(); got != nil {
		t.Errorf("a real regexp has no literals: %v", got)
	}
	for _, bad := range []string{`a{x="1"`, `a{x 1}`, `rate(a[5m)`, `a{x="1}`} {
		if _, err := promqlSelectors(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
