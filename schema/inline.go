package schema

import (
	"fmt"
	"strings"

	"github.com/cairn-gitops/cairn/internal/jsonptr"
)

// inlineRefs returns a copy of the schema in file with every $ref to an
// embedded schema replaced by the schema it names. The files keep their
// $refs so that they stay small and readable; the compiled form has none,
// because each $ref hop costs the validator a scope entry and a call on
// every document (about a third of its time on an Adapter).
func inlineRefs(raw map[string]any, file string) (any, error) {
	return inlineNode(raw, file, raw[file], 0)
}

const maxInlineDepth = 32

func inlineNode(raw map[string]any, file string, node any, depth int) (any, error) {
	if depth > maxInlineDepth {
		return nil, fmt.Errorf("%s: $ref nesting deeper than %d (a cycle?)", file, maxInlineDepth)
	}
	switch t := node.(type) {
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			c, err := inlineNode(raw, file, v, depth)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, v := range t {
			if k == "$ref" || k == "const" || k == "enum" || k == "default" || k == "examples" {
				out[k] = v
				continue
			}
			c, err := inlineNode(raw, file, v, depth)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		ref, ok := t["$ref"].(string)
		if !ok {
			return out, nil
		}
		target, targetFile, err := resolveRef(raw, file, ref)
		if err != nil {
			return nil, err
		}
		resolved, err := inlineNode(raw, targetFile, target, depth+1)
		if err != nil {
			return nil, err
		}
		return mergeRef(resolved, out), nil
	}
	return node, nil
}

// resolveRef finds the schema a $ref names: "other.json#/ptr" or "#/ptr".
func resolveRef(raw map[string]any, file, ref string) (any, string, error) {
	u, frag, _ := strings.Cut(ref, "#")
	target := file
	if u != "" {
		target = strings.TrimPrefix(u, BaseURL)
	}
	root, ok := raw[target]
	if !ok {
		return nil, "", fmt.Errorf("%s: $ref %q names no embedded schema", file, ref)
	}
	node := jsonptr.Resolve(root, frag)
	if node == nil {
		return nil, "", fmt.Errorf("%s: $ref %q names nothing", file, ref)
	}
	return node, target, nil
}

// mergeRef combines a resolved $ref with the keywords beside it. Beside
// keywords that do not clash are added; a clash keeps both through allOf.
// Messages word a failed pattern with the description of the schema holding
// it, so the resolved schema's description ("a duration such as 30s") wins
// over a beside description that only says what the field is for; a beside
// description wins when it describes beside constraints of its own.
func mergeRef(resolved any, beside map[string]any) any {
	delete(beside, "$ref")
	rm, ok := resolved.(map[string]any)
	if !ok {
		return resolved
	}
	out := make(map[string]any, len(rm)+len(beside))
	for k, v := range rm {
		out[k] = v
	}
	var clash, constrains bool
	for k := range beside {
		constrains = constrains || (k != "description" && k != "title")
	}
	for k, v := range beside {
		if _, exists := out[k]; exists {
			if (k == "description" || k == "title") && constrains {
				out[k] = v
			}
			if k != "description" && k != "title" {
				clash = true
			}
			continue
		}
		out[k] = v
	}
	if clash {
		return map[string]any{"allOf": []any{rm, beside}}
	}
	return out
}
