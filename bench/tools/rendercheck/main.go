// Command rendercheck is the helper of bench/render.sh. It reads the JSON
// that `cairn render --output json` prints and
//
//	rendercheck split   OUT.json DIR   writes each release's values to
//	                                   DIR/values/ENV_NAME.json and prints one
//	                                   line per release: FILE-STEM NAME NAMESPACE
//	                                   (tab-separated), for the helm loop;
//	rendercheck compare OUT.json DIR   checks, release by release, that the
//	                                   objects cairn rendered are byte for byte
//	                                   the documents of DIR/helm/ENV_NAME.yaml
//	                                   (`helm template` output).
//
// compare drops helm's "---" separator line and the "# Source: TEMPLATE" line
// that opens each document, and compares document by document in order. If a
// release only differs in document order, it compares again with both sides
// sorted by kind, then name, then text, and counts the release as reordered.
// On the first release that still differs it writes the concatenated documents
// of both sides to DIR/mismatch.cairn.yaml and DIR/mismatch.helm.yaml (for a
// diff) and exits 1 after checking every release.
//
// It uses only the standard library, and none of cairn's packages, so that the
// check does not depend on the code under test.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

type release struct {
	Name        string          `json:"name"`
	Namespace   string          `json:"namespace"`
	Environment string          `json:"environment"`
	Values      json.RawMessage `json:"values"`
	Objects     []struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
		YAML string `json:"yaml"`
	} `json:"objects"`
}

// stem names a release's files: environment and name, which are DNS labels.
func (r *release) stem() string { return r.Environment + "_" + r.Name }

func main() {
	if len(os.Args) != 4 || (os.Args[1] != "split" && os.Args[1] != "compare") {
		fmt.Fprintln(os.Stderr, "usage: rendercheck split|compare OUT.json DIR")
		os.Exit(2)
	}
	releases, err := load(os.Args[2])
	if err == nil {
		if os.Args[1] == "split" {
			err = split(releases, os.Args[3])
		} else {
			err = compare(releases, os.Args[3])
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rendercheck:", err)
		os.Exit(1)
	}
}

func load(path string) ([]release, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []release
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.stem()] {
			return nil, fmt.Errorf("%s: release %s/%s appears twice", path, r.Environment, r.Name)
		}
		seen[r.stem()] = true
	}
	return rs, nil
}

// split writes the values of every release, exactly as cairn printed them
// (cairn's release values, including the cairn.* provenance stamp).
func split(rs []release, dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "values"), 0o755); err != nil {
		return err
	}
	var list strings.Builder
	for _, r := range rs {
		if err := os.WriteFile(filepath.Join(dir, "values", r.stem()+".json"), r.Values, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&list, "%s\t%s\t%s\n", r.stem(), r.Name, r.Namespace)
	}
	_, err := os.Stdout.WriteString(list.String())
	return err
}

// doc is one rendered object: its text and the keys it is sorted by.
type doc struct{ kind, name, text string }

func compare(rs []release, dir string) error {
	var identical, reordered, objects int
	var mismatched []string
	for _, r := range rs {
		out, err := os.ReadFile(filepath.Join(dir, "helm", r.stem()+".yaml"))
		if err != nil {
			return err
		}
		helm, err := helmDocs(string(out))
		if err != nil {
			return fmt.Errorf("helm output of %s/%s: %w", r.Environment, r.Name, err)
		}
		cairn := make([]doc, len(r.Objects))
		for i, o := range r.Objects {
			cairn[i] = doc{kind: o.Kind, name: o.Name, text: o.YAML}
		}
		objects += len(cairn)
		switch {
		case slices.Equal(texts(cairn), texts(helm)):
			identical++
		case slices.Equal(texts(sorted(cairn)), texts(sorted(helm))):
			reordered++
		default:
			if len(mismatched) == 0 {
				if err := writeMismatch(dir, cairn, helm); err != nil {
					return err
				}
			}
			mismatched = append(mismatched, r.Environment+"/"+r.Name)
		}
	}
	fmt.Printf("releases: %d, objects: %d; identical in order: %d, identical once sorted by kind and name: %d, different: %d\n",
		len(rs), objects, identical, reordered, len(mismatched))
	if len(mismatched) > 0 {
		more := ""
		if len(mismatched) > 10 {
			more = fmt.Sprintf(" and %d more", len(mismatched)-10)
			mismatched = mismatched[:10]
		}
		fmt.Printf("different: %s%s\n", strings.Join(mismatched, ", "), more)
		return fmt.Errorf("cairn and helm template rendered different objects")
	}
	return nil
}

// helmDocs splits `helm template` output ("---\n# Source: T\n" before each
// document) into documents, keeping each document's text as printed.
func helmDocs(out string) ([]doc, error) {
	if strings.TrimSpace(out) == "" {
		return nil, nil
	}
	if !strings.HasPrefix(out, "---\n") {
		return nil, fmt.Errorf("does not start with a --- line")
	}
	var docs []doc
	for _, part := range strings.Split(out[len("---\n"):], "\n---\n") {
		head, body, ok := strings.Cut(part, "\n")
		if !ok || !strings.HasPrefix(head, "# Source: ") {
			return nil, fmt.Errorf("a document does not start with a # Source: line: %.60q", part)
		}
		if !strings.HasSuffix(body, "\n") { // the "\n" before the next "---"
			body += "\n"
		}
		kind, name := kindName(body)
		docs = append(docs, doc{kind: kind, name: name, text: body})
	}
	return docs, nil
}

// kindName reads the top-level kind and metadata.name of a block-style YAML
// document: enough to sort documents; the comparison itself is on the text.
func kindName(text string) (kind, name string) {
	inMeta := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "kind:"):
			kind = unquote(line[len("kind:"):])
			inMeta = false
		case line == "metadata:":
			inMeta = true
		case inMeta && strings.HasPrefix(line, "  name:"):
			name = unquote(line[len("  name:"):])
		case line != "" && line[0] != ' ' && line[0] != '#':
			inMeta = false
		}
	}
	return kind, name
}

func unquote(s string) string { return strings.Trim(strings.TrimSpace(s), `"'`) }

func texts(ds []doc) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.text
	}
	return out
}

func sorted(ds []doc) []doc {
	out := slices.Clone(ds)
	slices.SortFunc(out, func(a, b doc) int {
		if c := strings.Compare(a.kind, b.kind); c != 0 {
			return c
		}
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	return out
}

func writeMismatch(dir string, cairn, helm []doc) error {
	for side, ds := range map[string][]doc{"cairn": cairn, "helm": helm} {
		var b bytes.Buffer
		for _, d := range ds {
			b.WriteString(d.text)
		}
		if err := os.WriteFile(filepath.Join(dir, "mismatch."+side+".yaml"), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
