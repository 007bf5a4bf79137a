package manifest

import (
	"strconv"

	"github.com/google/go-jsonnet/ast"
	"github.com/google/go-jsonnet/formatter"
	"github.com/google/go-jsonnet/toolutils"

	"github.com/cairn-gitops/cairn/internal/jsonptr"
)

// jsonnetLocator maps a JSON pointer in a Jsonnet program's output back to
// the program's source. Jsonnet keeps no map from output to source, so the
// mapping is a best effort: the object field in the file whose chain of
// enclosing field names best matches the pointer's trailing names (a field
// set through a library call's arguments matches too), falling back to the
// list element and then to the start of the file.
type jsonnetLocator struct {
	fields   []fieldLoc
	elements []Position // top-level list elements, when the program is a list literal
	elem     int        // the element being walked, or -1
}

type fieldLoc struct {
	chain []string // enclosing field names, outermost first, ending with this field's
	pos   Position
	elem  int // the top-level list element holding the field, or -1
}

func newJsonnetLocator(file, src string) *jsonnetLocator {
	l := &jsonnetLocator{elem: -1}
	node, _, err := formatter.SnippetToRawAST(file, src)
	if err != nil {
		return l
	}
	arr, isList := unwrapLocals(node).(*ast.Array)
	if !isList {
		l.walk(node, nil)
		return l
	}
	for local := node; local != ast.Node(arr); local = local.(*ast.Local).Body {
		for _, b := range local.(*ast.Local).Binds {
			l.walk(b.Body, nil)
		}
	}
	for i, el := range arr.Elements {
		l.elements = append(l.elements, begin(el.Expr.Loc()))
		l.elem = i
		l.walk(el.Expr, nil)
	}
	l.elem = -1
	return l
}

// unwrapLocals skips `local x = ...;` wrappers around a program's body.
func unwrapLocals(n ast.Node) ast.Node {
	for {
		local, ok := n.(*ast.Local)
		if !ok {
			return n
		}
		n = local.Body
	}
}

func (l *jsonnetLocator) walk(n ast.Node, chain []string) {
	if n == nil {
		return
	}
	if obj, ok := n.(*ast.Object); ok {
		for _, f := range obj.Fields {
			name, ok := fieldName(f)
			if !ok {
				l.walkChildren(f.Expr2, chain)
				continue
			}
			c := append(append([]string(nil), chain...), name)
			l.fields = append(l.fields, fieldLoc{chain: c, pos: begin(&f.LocRange), elem: l.elem})
			l.walk(f.Expr2, c)
		}
		return
	}
	l.walkChildren(n, chain)
}

func (l *jsonnetLocator) walkChildren(n ast.Node, chain []string) {
	if n == nil {
		return
	}
	if _, ok := n.(*ast.Object); ok {
		l.walk(n, chain)
		return
	}
	for _, c := range toolutils.Children(n) {
		l.walk(c, chain)
	}
}

func fieldName(f ast.ObjectField) (string, bool) {
	if f.Kind == ast.ObjectFieldID && f.Id != nil {
		return string(*f.Id), true
	}
	if f.Kind == ast.ObjectFieldStr {
		if s, ok := f.Expr1.(*ast.LiteralString); ok {
			return s.Value, true
		}
	}
	return "", false
}

func begin(r *ast.LocationRange) Position {
	if r == nil || !r.IsSet() {
		return Position{Line: 1, Column: 1}
	}
	return Position{Line: r.Begin.Line, Column: r.Begin.Column}
}

// position finds the source position for ptr in the output's element idx.
func (l *jsonnetLocator) position(idx int, ptr string) Position {
	var names []string
	for _, t := range jsonptr.Tokens(ptr) {
		if _, err := strconv.Atoi(t); err != nil {
			names = append(names, t)
		}
	}
	best, bestDepth, bestLen := Position{}, 0, 0
	for _, f := range l.fields {
		if f.elem != -1 && f.elem != idx {
			continue // a field of another document of the list
		}
		for j := len(names); j >= 1 && j >= bestDepth; j-- {
			n := suffixMatch(f.chain, names[:j])
			if n > 0 && (j > bestDepth || n > bestLen || (n == bestLen && j == bestDepth && f.elem == idx)) {
				best, bestDepth, bestLen = f.pos, j, n
			}
		}
	}
	if bestDepth > 0 {
		return best
	}
	return l.element(idx)
}

// element is the position of the idx-th element of a top-level list literal.
func (l *jsonnetLocator) element(idx int) Position {
	if idx >= 0 && idx < len(l.elements) {
		return l.elements[idx]
	}
	return Position{Line: 1, Column: 1}
}

// suffixMatch counts how many trailing names of chain equal the trailing
// names of want; zero unless the last ones match.
func suffixMatch(chain, want []string) int {
	n := 0
	for n < len(chain) && n < len(want) && chain[len(chain)-1-n] == want[len(want)-1-n] {
		n++
	}
	return n
}
