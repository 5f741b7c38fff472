// Package apilist writes the exported API of Go packages as sorted text,
// one declaration per line, from their source alone (go/parser and
// go/printer, no type checking): the committed api.txt that CI compares, so
// that an incompatible change to the public API cannot land unnoticed.
package apilist

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Package lists the exported API of the non-test Go files in dir, each
// line prefixed with "pkg <importPath>, ".
func Package(dir, importPath string) ([]string, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if f.Name.Name == "main" || !buildable(f) {
			continue
		}
		for _, d := range f.Decls {
			lines = append(lines, decl(fset, d)...)
		}
	}
	for i := range lines {
		lines[i] = "pkg " + importPath + ", " + lines[i]
	}
	sort.Strings(lines)
	return lines, nil
}

// buildable skips files constrained to other systems than linux.
func buildable(f *ast.File) bool {
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "//go:build ") && strings.Contains(c.Text, "!unix") {
				return false
			}
		}
	}
	return true
}

// Module lists the exported API of every package under root (the module
// directory, whose path is module), skipping internal, testdata, examples
// and nested modules, and packages named main.
func Module(root, module string) ([]string, error) {
	var all []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		base := d.Name()
		if rel != "." {
			if base == "internal" || base == "testdata" || base == "examples" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module
			}
		}
		importPath := module
		if rel != "." {
			importPath += "/" + filepath.ToSlash(rel)
		}
		lines, err := Package(p, importPath)
		if err != nil {
			return err
		}
		all = append(all, lines...)
		return nil
	})
	return all, err
}

func decl(fset *token.FileSet, d ast.Decl) []string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() {
			return nil
		}
		prefix := "func "
		if d.Recv != nil {
			recv := d.Recv.List[0].Type
			if !exportedType(recv) {
				return nil
			}
			prefix = "method (" + node(fset, recv) + ") "
		}
		return []string{prefix + d.Name.Name + strings.TrimPrefix(node(fset, d.Type), "func")}
	case *ast.GenDecl:
		var out []string
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				if !s.Name.IsExported() {
					continue
				}
				out = append(out, typeLines(fset, s)...)
			case *ast.ValueSpec:
				kind := "var "
				if d.Tok == token.CONST {
					kind = "const "
				}
				for i, n := range s.Names {
					if !n.IsExported() {
						continue
					}
					line := kind + n.Name
					switch {
					case s.Type != nil:
						line += " " + node(fset, s.Type)
					case d.Tok == token.CONST && i < len(s.Values):
						line += " = " + node(fset, s.Values[i])
					}
					out = append(out, line)
				}
			}
		}
		return out
	}
	return nil
}

func typeLines(fset *token.FileSet, s *ast.TypeSpec) []string {
	name := s.Name.Name
	if s.TypeParams != nil {
		name += node(fset, s.TypeParams)
	}
	if s.Assign.IsValid() {
		return []string{"type " + name + " = " + node(fset, s.Type)}
	}
	switch t := s.Type.(type) {
	case *ast.StructType:
		out := []string{"type " + name + " struct"}
		for _, f := range t.Fields.List {
			typ := node(fset, f.Type)
			if len(f.Names) == 0 {
				if exportedType(f.Type) {
					out = append(out, "type "+name+" struct, embedded "+typ)
				}
				continue
			}
			for _, n := range f.Names {
				if n.IsExported() {
					out = append(out, "type "+name+" struct, "+n.Name+" "+typ)
				}
			}
		}
		return out
	case *ast.InterfaceType:
		out := []string{"type " + name + " interface"}
		for _, m := range t.Methods.List {
			if len(m.Names) == 0 {
				out = append(out, "type "+name+" interface, embedded "+node(fset, m.Type))
				continue
			}
			for _, n := range m.Names {
				if n.IsExported() {
					out = append(out, "type "+name+" interface, "+n.Name+strings.TrimPrefix(node(fset, m.Type), "func"))
				} else {
					out = append(out, "type "+name+" interface, unexported methods")
				}
			}
		}
		return out
	}
	return []string{"type " + name + " " + node(fset, s.Type)}
}

func exportedType(e ast.Expr) bool {
	switch t := e.(type) {
	case *ast.StarExpr:
		return exportedType(t.X)
	case *ast.Ident:
		return t.IsExported()
	case *ast.IndexExpr:
		return exportedType(t.X)
	case *ast.IndexListExpr:
		return exportedType(t.X)
	case *ast.SelectorExpr:
		return t.Sel.IsExported()
	}
	return false
}

func node(fset *token.FileSet, n ast.Node) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, fset, n); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
