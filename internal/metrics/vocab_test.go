package metrics

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// constsOfType reads the string constants of type typ declared in the Go
// file at path (relative to this package), in declaration order.
func constsOfType(t *testing.T, path, typ string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.FromSlash(path), nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s: a %s constant that is not a string literal", path, typ)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no constants of type %s (moved?)", path, typ)
	}
	return out
}

func sameSet(t *testing.T, what string, source []string, s set) {
	t.Helper()
	for _, v := range source {
		if s.label(v) == Other {
			t.Errorf("%s %q is not in this package's vocabulary: it would be recorded as %q", what, v, Other)
		}
	}
	for _, v := range s.values {
		if !slices.Contains(source, v) {
			t.Errorf("%s %q of this package's vocabulary is no longer declared", what, v)
		}
	}
}

// TestVocabulariesMatchSources reads the packages the label values come
// from, so that a new reason, method, phase or health code cannot end up
// as "other" unnoticed.
func TestVocabulariesMatchSources(t *testing.T) {
	sameSet(t, "auth reason", constsOfType(t, "../auth/errors.go", "Reason"), authReasons)
	sameSet(t, "auth method", append(constsOfType(t, "../auth/identity/identity.go", "Method"), "none"), authMethods)

	health := constsOfType(t, "../health/health.go", "Status")
	if !slices.Equal(health, healthCodes) {
		t.Errorf("health codes %v, internal/health declares %v", healthCodes, health)
	}

	phases := constsOfType(t, "../status/status.go", "Phase")
	for _, p := range reconcilePhases.values {
		if !slices.Contains(phases, p) {
			t.Errorf("reconcile phase %q is not a status.Phase (%v)", p, phases)
		}
	}

	for _, p := range constsOfType(t, "../auth/rbac/permission.go", "Permission") {
		if permissionLabel(p) != p {
			t.Errorf("permission %q would be recorded as %q", p, Other)
		}
	}
	for _, p := range []string{"*:*", "adapters:*", "adapters", "", "adapters:read:x", "nope:read"} {
		if permissionLabel(p) != Other {
			t.Errorf("permission %q should be recorded as %q", p, Other)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"GET /api/v1/status": "GET /api/v1/status",
		"a\nb\x00c\x7f":      "abc",
		"\xff\xfeok":         "\uFFFDok",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("é", maxLabelLen) // two bytes each: the cut splits one
	got := clean(long)
	if len(got) > maxLabelLen+3 || !strings.HasPrefix(got, "éé") {
		t.Errorf("clean(long) = %d bytes", len(got))
	}
}
