package changereq_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/internal/changereq"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/gittest"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/validate"
)

func TestMain(m *testing.M) {
	if code, served := manifest.ServeChild(); served { // the Jsonnet sandbox
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestPlan: a valid head is planned against the base (only what changed);
// an invalid head is a Result with its findings; an invalid base is an
// error.
func TestPlan(t *testing.T) {
	g := gittest.New(t)
	g.CopyDir("../../examples/config-repo")
	base := g.Commit("base")
	g.Write("adapters/prod/lse-fix-primary.json", strings.Replace(g.Read("adapters/prod/lse-fix-primary.json"),
		`"heartbeatSeconds": 30`, `"heartbeatSeconds": 45`, 1))
	head := g.Commit("heartbeat")
	g.Write("adapters/prod/broken.json", `{"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter"}`)
	broken := g.Commit("broken")
	repo, err := gitsource.Open(g.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	v, err := validate.New(validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	commit := func(h string) gitsource.Commit {
		c, err := repo.Resolve(h)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	res, err := changereq.Plan(ctx, repo, v, commit(base), commit(head))
	if err != nil || !res.Valid || res.Plan == nil || res.Plan.Summary.Changed != 1 || res.Plan.Adapters[0].Key != "prod/lse-fix-primary" {
		t.Fatalf("plan of a valid head: %+v, %v", res.Plan, err)
	}
	res, err = changereq.Plan(ctx, repo, v, commit(base), commit(broken))
	if err != nil || res.Valid || res.Plan != nil || len(res.Findings) == 0 || res.Findings[0].File != "adapters/prod/broken.json" {
		t.Fatalf("plan of an invalid head: valid %v, %d findings, %v", res.Valid, len(res.Findings), err)
	}
	if _, err := changereq.Plan(ctx, repo, v, commit(broken), commit(head)); err == nil {
		t.Error("an invalid base planned without an error")
	}
}
