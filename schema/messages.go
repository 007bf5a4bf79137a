package schema

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/cairn-gitops/cairn/internal/jsonptr"
)

// collect flattens a validation error tree into violations a person can act
// on: one per unknown or missing field, one per bad value, and one summary for
// an anyOf or oneOf instead of every branch that did not match.
func (s *Set) collect(ve *jsonschema.ValidationError, doc any, out *[]Violation) {
	kw := lastToken(ve.KeywordLocation)
	if len(ve.Causes) > 0 && kw != "anyOf" && kw != "oneOf" {
		for _, c := range ve.Causes {
			s.collect(c, doc, out)
		}
		return
	}
	node, cond := s.schemaAt(ve.AbsoluteKeywordLocation)
	add := func(ptr, keyword, msg string) {
		if cond != "" {
			msg += " " + cond
		}
		*out = append(*out, Violation{Pointer: ptr, Keyword: keyword, Message: msg})
	}
	loc := instancePointer(ve.InstanceLocation)
	switch kw {
	case "additionalProperties":
		for _, name := range s.unknownFields(ve.AbsoluteKeywordLocation, jsonptr.Resolve(doc, loc)) {
			add(loc+"/"+jsonptr.Escape(name), kw, fmt.Sprintf("unknown field %q", name))
		}
	case "required":
		for _, name := range missingFields(node, jsonptr.Resolve(doc, loc)) {
			add(loc+"/"+jsonptr.Escape(name), kw, fmt.Sprintf("missing required field %q", name))
		}
	case "anyOf", "oneOf":
		add(loc, kw, s.alternatives(ve.AbsoluteKeywordLocation, kw, node))
	case "pattern":
		add(loc, kw, s.describe(ve.AbsoluteKeywordLocation, kw, ve.Message))
	case "format":
		// A subschema of only a format and a description words its own failure.
		if owner, _ := s.schemaAt(strings.TrimSuffix(ve.AbsoluteKeywordLocation, "/format")); len(asMap(owner)) == 2 {
			add(loc, kw, s.describe(ve.AbsoluteKeywordLocation, kw, ve.Message))
			return
		}
		add(loc, kw, ve.Message)
	case "not":
		if d, ok := asMap(node)["description"].(string); ok {
			add(loc, kw, "must not be "+lowerFirst(strings.TrimSuffix(d, ".")))
			return
		}
		owner, _ := s.schemaAt(strings.TrimSuffix(ve.AbsoluteKeywordLocation, "/not"))
		if d, ok := asMap(owner)["description"].(string); ok {
			add(loc, kw, "must be "+lowerFirst(strings.TrimSuffix(d, ".")))
			return
		}
		add(loc, kw, "is one of the values not allowed here")
	default:
		if ve.Message == "not allowed" { // a false schema: the field is forbidden here
			add(loc, "not", fmt.Sprintf("field %q is not allowed", lastToken(loc)))
			return
		}
		add(loc, kw, ve.Message)
	}
}

// instancePointer turns the library's instance location, whose tokens are
// also URL-escaped ("x%0Aspec"), into a plain JSON pointer.
func instancePointer(loc string) string {
	if !strings.Contains(loc, "%") {
		return loc
	}
	toks := strings.Split(loc, "/")
	for i, t := range toks {
		if u, err := url.PathUnescape(t); err == nil {
			toks[i] = u
		}
	}
	return strings.Join(toks, "/")
}

// schemaAt returns the schema keyword value at an absolute keyword location
// and, when the keyword sits under an if/then or if/else, the condition in words.
func (s *Set) schemaAt(absLoc string) (any, string) {
	file, ptr := splitLocation(absLoc)
	root := s.raw[file]
	node := jsonptr.Resolve(root, ptr)
	toks := jsonptr.Tokens(ptr)
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i] != "then" && toks[i] != "else" {
			continue
		}
		parent := jsonptr.Join(toks[:i]...)
		if i == 0 {
			parent = ""
		}
		ifNode := jsonptr.Resolve(root, parent+"/if")
		if c := condition(ifNode); c != "" {
			if toks[i] == "else" {
				return node, "unless " + c
			}
			return node, "when " + c
		}
		break
	}
	return node, ""
}

// unknownFields lists the keys of obj that the schema owning an
// additionalProperties keyword does not declare.
func (s *Set) unknownFields(absLoc string, obj any) []string {
	m, ok := obj.(map[string]any)
	if !ok {
		return nil
	}
	owner, _ := s.schemaAt(strings.TrimSuffix(absLoc, "/additionalProperties"))
	props, _ := asMap(owner)["properties"].(map[string]any)
	var names []string
	for k := range m {
		if _, declared := props[k]; !declared {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// missingFields lists the names of a required keyword absent from obj.
func missingFields(required any, obj any) []string {
	m, _ := obj.(map[string]any)
	list, _ := required.([]any)
	var names []string
	for _, r := range list {
		name, _ := r.(string)
		if _, ok := m[name]; !ok {
			names = append(names, name)
		}
	}
	return names
}

// alternatives words an anyOf or oneOf failure from the owning schema's
// description or, failing that, from the fields each branch requires.
func (s *Set) alternatives(absLoc, kw string, branches any) string {
	owner, _ := s.schemaAt(strings.TrimSuffix(absLoc, "/"+kw))
	if d, ok := asMap(owner)["description"].(string); ok {
		return "must be " + lowerFirst(strings.TrimSuffix(d, "."))
	}
	var req []string
	list, _ := branches.([]any)
	for _, b := range list {
		for _, r := range asSlice(asMap(b)["required"]) {
			req = append(req, fmt.Sprintf("%q", r))
		}
	}
	if kw == "oneOf" && len(req) == len(list) && len(req) > 0 {
		return "set exactly one of " + strings.Join(req, ", ")
	}
	return "matches none of the allowed forms"
}

// describe words a pattern or format failure with the description of the
// schema that holds the keyword, falling back to the library's message.
func (s *Set) describe(absLoc, kw, fallback string) string {
	owner, _ := s.schemaAt(strings.TrimSuffix(absLoc, "/"+kw))
	if d, ok := asMap(owner)["description"].(string); ok {
		return "must be " + lowerFirst(strings.TrimSuffix(d, "."))
	}
	return fallback
}

// condition words an if schema made of const and enum properties, such as
// `role is "initiator" and protocol is one of "fix", "tcp"`.
func condition(ifNode any) string {
	props, _ := asMap(ifNode)["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, name := range names {
		p := asMap(props[name])
		if c, ok := p["const"]; ok {
			parts = append(parts, fmt.Sprintf("%s is %s", name, quoteValue(c)))
			continue
		}
		if e := asSlice(p["enum"]); len(e) == 1 {
			parts = append(parts, fmt.Sprintf("%s is %s", name, quoteValue(e[0])))
		} else if len(e) > 1 {
			vals := make([]string, len(e))
			for i, v := range e {
				vals[i] = quoteValue(v)
			}
			parts = append(parts, fmt.Sprintf("%s is one of %s", name, strings.Join(vals, ", ")))
		}
	}
	return strings.Join(parts, " and ")
}

// splitLocation splits an absolute keyword location into the schema file name
// and the JSON pointer inside it.
func splitLocation(abs string) (file, ptr string) {
	u, frag, _ := strings.Cut(abs, "#")
	return u[strings.LastIndex(u, "/")+1:], frag
}

func lastToken(ptr string) string {
	toks := jsonptr.Tokens(ptr)
	if len(toks) == 0 {
		return ""
	}
	return toks[len(toks)-1]
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asSlice(v any) []any        { s, _ := v.([]any); return s }
func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
