package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

// Pods per kwok node: testcluster's nodes take 110 pods and 32 CPUs, and
// the chart requests 250m by default (up to 500m), so a node is filled to
// 80 pods at most to leave the scheduler room.
const podsPerNode = 80

// input is what the benchmark runs on: two generated repositories, the
// peer's renders, and the size of the cluster they need.
type input struct {
	srcDir  string // cairn's adapters as generated (namespaces connectivity-uat, -prod)
	repo    string // srcDir committed to a Git repository, branch main
	peerDir string // the peer's adapters (namespaces peer-uat, peer-prod)

	peerReleases []render.Release
	chart        *chart.Chart // the embedded adapter chart, loaded by render
	namespaces   []string     // cairn's
	peerNS       []string
	// fixFiles are adapter files (relative to the repository) with a FIX
	// heartbeat, which one-adapter commits change.
	fixFiles    []string
	nodes, pods int
}

// prepare generates both repositories, commits cairn's, renders both to
// size the cluster and to get the peer's values.
func prepare(ctx context.Context, c config, out io.Writer) (*input, error) {
	in := &input{srcDir: filepath.Join(c.work, "src"), repo: filepath.Join(c.work, "repo"),
		peerDir: filepath.Join(c.work, "peer")}
	for _, g := range []struct {
		dir     string
		n, seed int
	}{{in.srcDir, c.n, 1}, {in.peerDir, c.peer, 2}} {
		if err := generate(c, g.dir, g.n, g.seed); err != nil {
			return nil, err
		}
	}
	if err := renameNamespaces(filepath.Join(in.peerDir, "cairn.json"), "peer"); err != nil {
		return nil, err
	}
	if _, err := gitsource.CommitDir(in.repo, in.srcDir, "main", fmt.Sprintf("Import %d generated adapters", c.n),
		gitsource.Signature{Name: "Bench", Email: "bench@cairn.dev"}); err != nil {
		return nil, err
	}
	mine, _, err := renderDir(ctx, in.srcDir)
	if err != nil {
		return nil, err
	}
	if len(mine) != c.n {
		return nil, fmt.Errorf("%s renders %d releases, want %d", in.srcDir, len(mine), c.n)
	}
	var rd *render.Renderer
	if in.peerReleases, rd, err = renderDir(ctx, in.peerDir); err != nil {
		return nil, err
	}
	in.chart = rd.Chart()
	in.namespaces, in.peerNS = namespacesOf(mine), namespacesOf(in.peerReleases)
	in.pods = podsOf(mine) + podsOf(in.peerReleases)
	in.nodes = max(4, (in.pods+podsPerNode-1)/podsPerNode+1)
	if in.fixFiles, err = fixFiles(in.srcDir); err != nil {
		return nil, err
	}
	if len(in.fixFiles) < c.commits {
		return nil, fmt.Errorf("%d FIX adapters for %d one-adapter commits", len(in.fixFiles), c.commits)
	}
	step(out, "generated %d adapters for cairn (%d pods in %v) and %d for the peer (%v), committed to %s",
		c.n, podsOf(mine), in.namespaces, c.peer, in.peerNS, in.repo)
	return in, nil
}

// generate runs bench/gen into dir; its YAML and schema outputs are unused.
func generate(c config, dir string, n, seed int) error {
	unused := dir + ".unused"
	cmd := exec.Command(c.gen, "-n", strconv.Itoa(n), "-seed", strconv.Itoa(seed), "-schema", c.schema,
		"-repo", dir, "-yaml", filepath.Join(unused, "yaml"), "-schema-out", filepath.Join(unused, "schemas"))
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", c.gen, err, b)
	}
	return os.RemoveAll(unused)
}

// renameNamespaces makes the environments of a generated repository use
// the namespaces prefix-uat and prefix-prod.
func renameNamespaces(path, prefix string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := strings.NewReplacer(`"connectivity-uat"`, `"`+prefix+`-uat"`, `"connectivity-prod"`, `"`+prefix+`-prod"`).Replace(string(b))
	if s == string(b) {
		return fmt.Errorf("%s: no connectivity-uat or connectivity-prod namespace to rename", path)
	}
	return os.WriteFile(path, []byte(s), 0o644)
}

// renderDir validates and renders a repository directory as cairn does.
func renderDir(ctx context.Context, dir string) ([]render.Release, *render.Renderer, error) {
	v, err := validate.New(validate.Options{})
	if err != nil {
		return nil, nil, err
	}
	res, err := v.Validate(ctx, manifest.DirFS(dir))
	if err != nil {
		return nil, nil, err
	}
	if !res.Valid() {
		return nil, nil, fmt.Errorf("%s is not valid: %d findings, first %+v", dir, len(res.Findings), res.Findings[0])
	}
	rd, err := render.ForRepository(nil, res.Repository)
	if err != nil {
		return nil, nil, err
	}
	in := render.Input{Repository: res.Repository}
	for _, a := range res.Adapters {
		in.Adapters = append(in.Adapters, a.Adapter)
	}
	rels, err := rd.Render(ctx, in)
	return rels, rd, err
}

func namespacesOf(rels []render.Release) []string {
	var ns []string
	for _, r := range rels {
		if !slices.Contains(ns, r.Namespace) {
			ns = append(ns, r.Namespace)
		}
	}
	slices.Sort(ns)
	return ns
}

// podsOf sums the releases' replicas.
func podsOf(rels []render.Release) int {
	n := 0
	for _, r := range rels {
		switch v := r.Values["replicas"].(type) {
		case int:
			n += v
		case int64:
			n += int(v)
		case float64:
			n += int(v)
		case json.Number:
			i, _ := v.Int64()
			n += int(i)
		default:
			n++
		}
	}
	return n
}

// fixFiles lists the adapter files of dir that set a FIX heartbeat.
func fixFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "adapters"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		rel := filepath.Join("adapters", e.Name())
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return nil, err
		}
		if strings.Contains(string(b), `"heartbeatSeconds": `) {
			out = append(out, rel)
		}
	}
	return out, nil
}
