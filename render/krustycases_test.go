package render

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// This file reads kustomize's own krusty test cases out of the kustomize
// api module the test binary is linked with (its source is in the module
// cache, tests included) and turns each build they run into a file tree
// and a directory to build. Nothing of kustomize's test code is copied or
// compiled: a small interpreter evaluates the subset of Go the tests use to
// write files (string constants and concatenation, fmt.Sprintf, helper
// functions and closures, range loops over literal tables, t.Run) and
// records a case at every th.Run and th.RunWithErr. A test that uses
// anything else is reported as not extracted, with the construct.

// krustyCase is one build of a krusty test.
type krustyCase struct {
	Name    string            // test name, "/"-joined with subtest names and a build number
	Dir     string            // the directory built, clean, relative to the tree's root
	Files   map[string]string // clean relative path -> content
	WantErr bool              // the test expects the build to fail (RunWithErr)
	Options []string          // the test's own krusty options, when not the defaults
	OnDisk  bool              // the test builds on the real file system
}

// krustyModuleDir returns the directory of the kustomize api module this
// package builds with (go list -m, so that GOFLAGS=-modfile=... selects
// another version, as .ci/render-kustomize-v0.20.1 does), in the module
// cache, and its version.
func krustyModuleDir(t testing.TB) (dir, version string) {
	t.Helper()
	kustomizeModule.once.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}\t{{.Version}}{{with .Replace}}\t{{.Dir}}\t{{.Version}}{{end}}", "sigs.k8s.io/kustomize/api").Output()
		if err != nil {
			kustomizeModule.err = fmt.Errorf("go list -m sigs.k8s.io/kustomize/api: %w", err)
			return
		}
		f := strings.Split(strings.TrimSpace(string(out)), "\t")
		if len(f) == 4 { // replaced
			f = f[2:]
		}
		if len(f) != 2 || f[0] == "" {
			kustomizeModule.err = fmt.Errorf("go list -m sigs.k8s.io/kustomize/api: %q", out)
			return
		}
		kustomizeModule.dir, kustomizeModule.version = f[0], f[1]
	})
	require.NoError(t, kustomizeModule.err)
	return kustomizeModule.dir, kustomizeModule.version
}

var kustomizeModule struct {
	once         sync.Once
	dir, version string
	err          error
}

// extractKrustyCases reads every *_test.go file of dir (kustomize's
// api/krusty) and returns the builds its tests run, sorted by name, and the
// tests (or parts of tests) it could not follow, with the reason.
func extractKrustyCases(dir string) (cases []krustyCase, skipped map[string]string, tests int, err error) {
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, nil, 0, err
	}
	if len(names) == 0 {
		return nil, nil, 0, fmt.Errorf("no test files in %s", dir)
	}
	pkg := &interpPackage{dir: dir, funcs: map[string]*ast.FuncDecl{}, globals: map[string]ast.Expr{}, values: map[string]any{}}
	var testFuncs []*ast.FuncDecl
	for _, name := range names {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, nil, 0, err
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil {
					continue
				}
				pkg.funcs[d.Name.Name] = d
				if strings.HasPrefix(d.Name.Name, "Test") && len(d.Type.Params.List) == 1 {
					testFuncs = append(testFuncs, d)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					vs, ok := spec.(*ast.ValueSpec)
					if !ok {
						continue
					}
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							pkg.globals[n.Name] = vs.Values[i]
						}
					}
				}
			}
		}
	}
	skipped = map[string]string{}
	for _, fn := range testFuncs {
		in := &interp{pkg: pkg, name: fn.Name.Name}
		func() {
			defer func() {
				if r := recover(); r != nil {
					u, ok := r.(unsupported)
					if !ok {
						panic(r)
					}
					skipped[in.current()] = string(u)
				}
			}()
			env := newScope(nil)
			env.set(fn.Type.Params.List[0].Names[0].Name, testingT{})
			in.block(fn.Body, env)
		}()
		cases = append(cases, in.cases...)
	}
	slices.SortFunc(cases, func(a, b krustyCase) int { return strings.Compare(a.Name, b.Name) })
	return cases, skipped, len(testFuncs), nil
}

// unsupported aborts the interpretation of one test.
type unsupported string

func unsupportedf(format string, args ...any) unsupported {
	return unsupported(fmt.Sprintf(format, args...))
}

type interpPackage struct {
	dir     string // the package's directory, for os.ReadFile
	funcs   map[string]*ast.FuncDecl
	globals map[string]ast.Expr
	values  map[string]any // evaluated globals
}

// Values of the interpreter: string, int, bool, nil, []any, *record (a
// struct or a map with string keys), *closure, *harness, *krustyOptions,
// testingT, opaque.
type record struct {
	keys []string
	m    map[string]any
}

func (r *record) set(k string, v any) {
	if _, ok := r.m[k]; !ok {
		r.keys = append(r.keys, k)
	}
	r.m[k] = v
}

type closure struct {
	typ  *ast.FuncType
	body *ast.BlockStmt
	env  *scope
}

type harness struct {
	files   map[string]string
	onDisk  bool
	plugins bool // the test prepares exec or Go plugins
}

type krustyOptions struct{ changes []string }

type testingT struct{}

// zero is the zero value of a struct field a literal leaves out: "" where
// a string is wanted.
type zero struct{}

// opaque is a value the interpreter does not model (a ResMap, an error):
// only usable where it is ignored.
type opaque string

type scope struct {
	parent *scope
	vars   map[string]any
}

func newScope(parent *scope) *scope { return &scope{parent: parent, vars: map[string]any{}} }

func (s *scope) set(name string, v any) {
	if name != "_" {
		s.vars[name] = v
	}
}

func (s *scope) lookup(name string) (any, bool) {
	for ; s != nil; s = s.parent {
		if v, ok := s.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (s *scope) assign(name string, v any) {
	for c := s; c != nil; c = c.parent {
		if _, ok := c.vars[name]; ok {
			c.vars[name] = v
			return
		}
	}
	s.set(name, v)
}

type interp struct {
	pkg   *interpPackage
	name  string
	sub   []string
	runs  map[string]int
	cases []krustyCase
}

func (in *interp) current() string {
	return strings.Join(append([]string{in.name}, in.sub...), "/")
}

type returned struct{ v any }

func (in *interp) block(b *ast.BlockStmt, env *scope) *returned {
	inner := newScope(env)
	for _, st := range b.List {
		if r := in.stmt(st, inner); r != nil {
			return r
		}
	}
	return nil
}

func (in *interp) stmt(st ast.Stmt, env *scope) *returned {
	switch s := st.(type) {
	case *ast.ExprStmt:
		in.callStmt(s.X, env)
	case *ast.AssignStmt:
		in.assign(s, env)
	case *ast.DeclStmt:
		gd, ok := s.Decl.(*ast.GenDecl)
		if !ok {
			panic(unsupportedf("declaration %T", s.Decl))
		}
		for _, spec := range gd.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok {
				continue // a local type
			}
			for i, n := range vs.Names {
				var v any
				if i < len(vs.Values) {
					v = in.eval(vs.Values[i], env)
				}
				env.set(n.Name, v)
			}
		}
	case *ast.RangeStmt:
		over := in.eval(s.X, env)
		each := func(k, v any) {
			inner := newScope(env)
			if id, ok := s.Key.(*ast.Ident); ok {
				inner.set(id.Name, k)
			}
			if id, ok := s.Value.(*ast.Ident); ok {
				inner.set(id.Name, v)
			}
			in.block(s.Body, inner)
		}
		switch o := over.(type) {
		case []any:
			for i, v := range o {
				each(i, v)
			}
		case *record:
			keys := slices.Clone(o.keys)
			slices.Sort(keys)
			for _, k := range keys {
				each(k, o.m[k])
			}
		default:
			if containsHarnessCall(s.Body) {
				panic(unsupportedf("range over %T", over))
			}
		}
	case *ast.BlockStmt:
		return in.block(s, env)
	case *ast.ReturnStmt:
		switch len(s.Results) {
		case 0:
			return &returned{}
		case 1:
			return &returned{v: in.eval(s.Results[0], env)}
		}
		panic(unsupportedf("return of %d values", len(s.Results)))
	case *ast.IfStmt:
		// Most conditions check results or skip on missing tools: ignored
		// unless files are written or built under them, which needs a
		// condition the interpreter can decide.
		if !containsHarnessCall(s.Body) && (s.Else == nil || !containsHarnessCall(s.Else)) {
			return nil
		}
		inner := newScope(env)
		if s.Init != nil {
			in.stmt(s.Init, inner)
		}
		cond, ok := in.eval(s.Cond, inner).(bool)
		if !ok {
			panic(unsupportedf("files written or built under an undecidable if"))
		}
		if cond {
			return in.block(s.Body, inner)
		}
		if s.Else != nil {
			return in.stmt(s.Else, inner)
		}
	case *ast.DeferStmt, *ast.IncDecStmt, *ast.EmptyStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt:
	case *ast.ForStmt:
		if containsHarnessCall(s.Body) {
			panic(unsupportedf("files written or built in a for loop"))
		}
	default:
		panic(unsupportedf("statement %T", st))
	}
	return nil
}

// zeroLike returns the zero value of v's type.
func zeroLike(v any) any {
	switch v.(type) {
	case string:
		return ""
	case int:
		return 0
	case bool:
		return false
	}
	return nil
}

// containsHarnessCall reports whether n calls a method named like the
// harness's writers or builders.
func containsHarnessCall(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			switch sel.Sel.Name {
			case "WriteK", "WriteC", "WriteF", "Run", "RunWithErr", "WriteLegacyConfigs":
				found = true
			}
		}
		return !found
	})
	return found
}

func (in *interp) assign(s *ast.AssignStmt, env *scope) {
	if len(s.Lhs) == 2 && len(s.Rhs) == 1 {
		if c, ok := s.Rhs[0].(*ast.CallExpr); ok && exprString(c.Fun) == "os.ReadFile" && len(c.Args) == 1 {
			name, ok := in.eval(c.Args[0], env).(string)
			if !ok || filepath.IsAbs(name) || strings.Contains(name, "..") {
				panic(unsupportedf("os.ReadFile of %v", name))
			}
			data, err := os.ReadFile(filepath.Join(in.pkg.dir, filepath.FromSlash(name)))
			if err != nil {
				panic(unsupportedf("os.ReadFile: %v", err))
			}
			if id, ok := s.Lhs[0].(*ast.Ident); ok {
				env.set(id.Name, string(data))
			}
			if id, ok := s.Lhs[1].(*ast.Ident); ok {
				env.set(id.Name, nil)
			}
			return
		}
	}
	if len(s.Lhs) != len(s.Rhs) {
		// v, err := f(): only harmless if nothing is written through it.
		if containsHarnessCall(s) {
			panic(unsupportedf("multi-value assignment from a harness call"))
		}
		for _, l := range s.Lhs {
			if id, ok := l.(*ast.Ident); ok {
				env.set(id.Name, opaque("multi-value"))
			}
		}
		return
	}
	for i, l := range s.Lhs {
		v := in.eval(s.Rhs[i], env)
		switch lhs := l.(type) {
		case *ast.Ident:
			if s.Tok == token.DEFINE {
				env.set(lhs.Name, v)
			} else {
				env.assign(lhs.Name, v)
			}
		case *ast.SelectorExpr:
			root := lhs.X
			var fields []string
			fields = append(fields, lhs.Sel.Name)
			for {
				sel, ok := root.(*ast.SelectorExpr)
				if !ok {
					break
				}
				fields = append([]string{sel.Sel.Name}, fields...)
				root = sel.X
			}
			target := in.eval(root, env)
			switch tv := target.(type) {
			case *krustyOptions:
				tv.changes = append(tv.changes, strings.Join(fields, ".")+"="+fmt.Sprint(v))
			case *record:
				if len(fields) != 1 {
					panic(unsupportedf("nested field assignment"))
				}
				tv.set(fields[0], v)
			default:
				panic(unsupportedf("assignment to a field of %T", target))
			}
		case *ast.IndexExpr:
			target := in.eval(lhs.X, env)
			rec, ok := target.(*record)
			if !ok {
				panic(unsupportedf("index assignment to %T", target))
			}
			k, ok := in.eval(lhs.Index, env).(string)
			if !ok {
				panic(unsupportedf("non-string map key"))
			}
			rec.set(k, v)
		default:
			panic(unsupportedf("assignment to %T", l))
		}
	}
}

// callStmt evaluates a call whose result is dropped: calls the interpreter
// does not model (assertions, t.Fatal, ...) are ignored there.
func (in *interp) callStmt(e ast.Expr, env *scope) {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return
	}
	if v, handled := in.call(call, env, true); handled {
		_ = v
	}
}

func (in *interp) eval(e ast.Expr, env *scope) any {
	switch x := e.(type) {
	case *ast.BasicLit:
		switch x.Kind {
		case token.STRING:
			s, err := strconv.Unquote(x.Value)
			if err != nil {
				panic(unsupportedf("literal %s", x.Value))
			}
			return s
		case token.INT:
			n, err := strconv.Atoi(x.Value)
			if err != nil {
				panic(unsupportedf("literal %s", x.Value))
			}
			return n
		}
		return opaque(x.Value)
	case *ast.Ident:
		switch x.Name {
		case "true":
			return true
		case "false":
			return false
		case "nil":
			return nil
		}
		if v, ok := env.lookup(x.Name); ok {
			return v
		}
		if v, ok := in.pkg.values[x.Name]; ok {
			return v
		}
		if g, ok := in.pkg.globals[x.Name]; ok {
			v := in.eval(g, newScope(nil))
			in.pkg.values[x.Name] = v
			return v
		}
		if fd, ok := in.pkg.funcs[x.Name]; ok {
			return &closure{typ: fd.Type, body: fd.Body, env: newScope(nil)}
		}
		panic(unsupportedf("identifier %s", x.Name))
	case *ast.ParenExpr:
		return in.eval(x.X, env)
	case *ast.UnaryExpr:
		switch x.Op {
		case token.AND:
			return in.eval(x.X, env)
		case token.NOT:
			if b, ok := in.eval(x.X, env).(bool); ok {
				return !b
			}
		}
		panic(unsupportedf("unary %s", x.Op))
	case *ast.BinaryExpr:
		a, b := in.eval(x.X, env), in.eval(x.Y, env)
		switch x.Op {
		case token.EQL, token.NEQ:
			if _, ok := a.(zero); ok {
				a = zeroLike(b)
			}
			if _, ok := b.(zero); ok {
				b = zeroLike(a)
			}
			if _, isOpaque := a.(opaque); !isOpaque {
				if _, isOpaque := b.(opaque); !isOpaque {
					return (a == b) == (x.Op == token.EQL)
				}
			}
		case token.LAND, token.LOR:
			ab, aok := a.(bool)
			bb, bok := b.(bool)
			if aok && bok {
				if x.Op == token.LAND {
					return ab && bb
				}
				return ab || bb
			}
		}
		if x.Op == token.ADD {
			if as, ok := a.(string); ok {
				if bs, ok := b.(string); ok {
					return as + bs
				}
			}
			if ai, ok := a.(int); ok {
				if bi, ok := b.(int); ok {
					return ai + bi
				}
			}
		}
		panic(unsupportedf("binary %s on %T and %T", x.Op, a, b))
	case *ast.CompositeLit:
		return in.composite(x, env)
	case *ast.FuncLit:
		return &closure{typ: x.Type, body: x.Body, env: env}
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			if _, bound := env.lookup(id.Name); !bound {
				if _, global := in.pkg.globals[id.Name]; !global {
					// A package's exported name, e.g. types.LoadRestrictionsNone.
					return opaque(id.Name + "." + x.Sel.Name)
				}
			}
		}
		v := in.eval(x.X, env)
		if rec, ok := v.(*record); ok {
			if f, ok := rec.m[x.Sel.Name]; ok {
				return f
			}
			return zero{} // a field the literal leaves out
		}
		if h, ok := v.(*harness); ok && x.Sel.Name == "Harness" {
			return h // HarnessEnhanced embeds Harness
		}
		panic(unsupportedf("field %s of %T", x.Sel.Name, v))
	case *ast.IndexExpr:
		v := in.eval(x.X, env)
		idx := in.eval(x.Index, env)
		switch o := v.(type) {
		case []any:
			if i, ok := idx.(int); ok && i >= 0 && i < len(o) {
				return o[i]
			}
		case *record:
			if k, ok := idx.(string); ok {
				return o.m[k]
			}
		}
		panic(unsupportedf("index of %T", v))
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "string" || id.Name == "any") && len(x.Args) == 1 {
			return in.eval(x.Args[0], env) // a conversion
		}
		if at, ok := x.Fun.(*ast.ArrayType); ok && exprString(at.Elt) == "byte" && len(x.Args) == 1 {
			return in.eval(x.Args[0], env)
		}
		v, handled := in.call(x, env, false)
		if !handled {
			// A value the interpreter does not model: fine as long as
			// no file or build depends on it.
			return opaque(exprString(x.Fun) + "()")
		}
		return v
	}
	panic(unsupportedf("expression %T", e))
}

func (in *interp) composite(x *ast.CompositeLit, env *scope) any {
	isMap := false
	if _, ok := x.Type.(*ast.MapType); ok {
		isMap = true
	}
	_, isArray := x.Type.(*ast.ArrayType)
	keyed := len(x.Elts) > 0
	for _, el := range x.Elts {
		if _, ok := el.(*ast.KeyValueExpr); !ok {
			keyed = false
		}
	}
	if isArray || (!isMap && !keyed && x.Type == nil) {
		out := make([]any, 0, len(x.Elts))
		for _, el := range x.Elts {
			out = append(out, in.eval(el, env))
		}
		return out
	}
	rec := &record{m: map[string]any{}}
	for _, el := range x.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			panic(unsupportedf("positional struct literal"))
		}
		var key string
		if id, ok := kv.Key.(*ast.Ident); ok && !isMap {
			key = id.Name
		} else {
			k, ok := in.eval(kv.Key, env).(string)
			if !ok {
				panic(unsupportedf("non-string map key"))
			}
			key = k
		}
		rec.set(key, in.eval(kv.Value, env))
	}
	return rec
}

// call evaluates a call. stmt says its result is dropped, so that calls
// the interpreter does not model may be ignored. It reports whether the
// call was handled.
func (in *interp) call(c *ast.CallExpr, env *scope, stmt bool) (any, bool) {
	args := func() []any {
		out := make([]any, len(c.Args))
		for i, a := range c.Args {
			out[i] = in.eval(a, env)
		}
		return out
	}
	str := func(v any) string {
		if _, ok := v.(zero); ok {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			panic(unsupportedf("%s: argument %T is not a string", exprString(c.Fun), v))
		}
		return s
	}
	switch fn := c.Fun.(type) {
	case *ast.SelectorExpr:
		if id, ok := fn.X.(*ast.Ident); ok {
			recv, bound := env.lookup(id.Name)
			if !bound {
				if _, global := in.pkg.globals[id.Name]; global {
					recv, bound = in.eval(id, env), true
				}
			}
			if !bound {
				return in.packageCall(id.Name, fn.Sel.Name, c, env, args, str, stmt)
			}
			switch r := recv.(type) {
			case *harness:
				return in.harnessCall(r, fn.Sel.Name, c, args, str, stmt)
			case testingT:
				if fn.Sel.Name == "Run" && len(c.Args) == 2 {
					name := str(in.eval(c.Args[0], env))
					body, ok := in.eval(c.Args[1], env).(*closure)
					if !ok {
						panic(unsupportedf("t.Run without a function literal"))
					}
					in.sub = append(in.sub, strings.ReplaceAll(name, " ", "_"))
					func() {
						defer func() { in.sub = in.sub[:len(in.sub)-1] }()
						in.apply(body, []any{testingT{}})
					}()
					return opaque("bool"), true
				}
			}
		}
		if inner, ok := fn.X.(*ast.CallExpr); ok {
			// MakeEnhancedHarness(t).PrepBuiltin(...) and other chains.
			if h, ok := in.eval(inner, env).(*harness); ok {
				return in.harnessCall(h, fn.Sel.Name, c, args, str, stmt)
			}
			if fn.Sel.Name == "WriteFile" || fn.Sel.Name == "Mkdir" || fn.Sel.Name == "MkdirAll" {
				panic(unsupportedf("call chain %s", exprString(c.Fun)))
			}
		}
		if stmt {
			return nil, true // m.X(), th.Assert...(), ... on values not modelled
		}
		return nil, false
	case *ast.Ident:
		v := in.eval(fn, env)
		cl, ok := v.(*closure)
		if !ok {
			if stmt {
				return nil, true
			}
			return nil, false
		}
		return in.apply(cl, args()), true
	case *ast.FuncLit:
		return in.apply(&closure{typ: fn.Type, body: fn.Body, env: env}, args()), true
	}
	if stmt {
		return nil, true
	}
	return nil, false
}

func (in *interp) packageCall(pkgName, name string, c *ast.CallExpr, env *scope, args func() []any, str func(any) string, stmt bool) (any, bool) {
	switch pkgName + "." + name {
	case "kusttest_test.MakeHarness", "kusttest_test.MakeEnhancedHarness":
		return &harness{files: map[string]string{}}, true
	case "kusttest_test.MakeHarnessWithFs", "kusttest_test.MakeEnhancedHarnessWithTmpRoot":
		return &harness{files: map[string]string{}, onDisk: true}, true
	case "krusty.MakeDefaultOptions":
		return &krustyOptions{}, true
	case "fmt.Sprintf":
		a := args()
		if len(a) == 0 {
			break
		}
		return fmt.Sprintf(str(a[0]), a[1:]...), true
	case "filepath.Join", "path.Join":
		var parts []string
		for _, a := range args() {
			parts = append(parts, str(a))
		}
		return path.Join(parts...), true
	case "strings.Repeat":
		a := args()
		if n, ok := a[1].(int); ok && len(a) == 2 {
			return strings.Repeat(str(a[0]), n), true
		}
	case "konfig.DefaultKustomizationFileName":
		return "kustomization.yaml", true
	case "konfig.RecognizedKustomizationFileNames":
		return []any{"kustomization.yaml", "kustomization.yml", "Kustomization"}, true
	case "strings.Replace":
		a := args()
		if n, ok := a[3].(int); ok && len(a) == 4 {
			return strings.Replace(str(a[0]), str(a[1]), str(a[2]), n), true
		}
		if u, ok := c.Args[3].(*ast.UnaryExpr); ok && u.Op == token.SUB {
			return strings.ReplaceAll(str(a[0]), str(a[1]), str(a[2])), true
		}
	case "strings.ReplaceAll":
		a := args()
		return strings.ReplaceAll(str(a[0]), str(a[1]), str(a[2])), true
	case "strings.TrimSpace":
		return strings.TrimSpace(str(args()[0])), true
	}
	if stmt {
		return nil, true // assert.X, require.X, ...
	}
	return nil, false
}

func (in *interp) harnessCall(h *harness, method string, c *ast.CallExpr, args func() []any, str func(any) string, stmt bool) (any, bool) {
	header := map[string]string{
		"WriteK": "\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
		"WriteC": "\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
	}
	switch method {
	case "WriteK", "WriteC":
		a := args()
		h.files[cleanCasePath(path.Join(str(a[0]), "kustomization.yaml"))] = header[method] + str(a[1])
		return nil, true
	case "WriteF":
		a := args()
		h.files[cleanCasePath(str(a[0]))] = str(a[1])
		return nil, true
	case "MakeDefaultOptions", "MakeOptionsPluginsDisabled":
		return &krustyOptions{}, true
	case "MakeOptionsPluginsEnabled":
		return &krustyOptions{changes: []string{"PluginConfig=plugins enabled"}}, true
	case "Run", "RunWithErr":
		a := args()
		o, ok := a[1].(*krustyOptions)
		if !ok {
			panic(unsupportedf("options of type %T", a[1]))
		}
		if in.runs == nil {
			in.runs = map[string]int{}
		}
		name := in.current()
		in.runs[name]++
		if in.runs[name] > 1 {
			name += fmt.Sprintf("#%d", in.runs[name])
		}
		options := slices.Clone(o.changes)
		if h.plugins {
			options = append(options, "plugins prepared")
		}
		files := make(map[string]string, len(h.files))
		for k, v := range h.files {
			files[k] = v
		}
		in.cases = append(in.cases, krustyCase{
			Name: name, Dir: cleanCasePath(str(a[0])), Files: files,
			WantErr: method == "RunWithErr", Options: options, OnDisk: h.onDisk,
		})
		return opaque(method), true
	case "PrepBuiltin":
		return h, true // builtins run statically linked either way
	case "PrepExecPlugin", "BuildGoPlugin":
		h.plugins = true
		return h, true
	case "Reset", "GetT", "AssertActualEqualsExpected", "AssertActualEqualsExpectedNoIdAnnotations",
		"AssertActualEqualsExpectedWithTweak", "ErrIfNoHelm":
		return opaque(method), true
	}
	if stmt {
		panic(unsupportedf("harness method %s", method))
	}
	return nil, false
}

func (in *interp) apply(cl *closure, args []any) any {
	env := newScope(cl.env)
	i := 0
	for _, field := range cl.typ.Params.List {
		if len(field.Names) == 0 {
			i++
			continue
		}
		for _, n := range field.Names {
			if _, variadic := field.Type.(*ast.Ellipsis); variadic {
				env.set(n.Name, slices.Clone(args[min(i, len(args)):]))
				i = len(args)
				continue
			}
			if i >= len(args) {
				panic(unsupportedf("call with too few arguments"))
			}
			env.set(n.Name, args[i])
			i++
		}
	}
	if r := in.block(cl.body, env); r != nil {
		return r.v
	}
	return nil
}

// cleanCasePath turns a path of the harness's in-memory file system
// (relative to its root "/", or absolute) into a clean relative path.
func cleanCasePath(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return p[1:]
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	case *ast.CallExpr:
		return exprString(x.Fun) + "()"
	}
	return fmt.Sprintf("%T", e)
}
