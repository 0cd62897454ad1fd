// Package examplecheck finds the exported functions and types that have no runnable example.
//
// The root module and the nested library modules (jetstream, otel) share
// it: a module whose path is under github.com/weftgo/weft may import it.
// Each calls [Missing] from a test with the directories of its packages,
// which [Packages] lists, and its exemptions.
package examplecheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Packages returns the directories, under root, of the module's public
// packages: root itself and every directory with Go files below it, except
// internal, testdata and hidden directories and nested modules.
func Packages(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if path != root {
			name := d.Name()
			if name == "internal" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a module of its own
			}
		}
		files, err := filepath.Glob(filepath.Join(path, "*.go"))
		if err != nil {
			return err
		}
		if slices.ContainsFunc(files, func(f string) bool { return !strings.HasSuffix(f, "_test.go") }) {
			dirs = append(dirs, path)
		}
		return nil
	})
	return dirs, err
}

// Missing returns one line for each exported function and type of the
// packages in dirs that has no runnable example and is not in exempt, and
// one for each entry of exempt that names nothing declared there or gives
// no reason. exempt maps "pkg.Name" (the package's name, not its path) to
// the reason the name needs no example of its own.
//
// A name counts as shown by an example named for it (ExampleName,
// ExampleName_suffix, ExampleName_Method); an option (a function returning
// one of the package's ...Option types) by any example that uses it; a
// constructor NewT by an example of T that uses it. Option interfaces are
// covered by the options that return them. Uses are found through the
// package's import path, whatever name an example file imports it under.
func Missing(dirs []string, exempt map[string]string) ([]string, error) {
	var problems []string
	declared := map[string]bool{}
	for _, dir := range dirs {
		pkg, err := parseDir(dir)
		if err != nil {
			return nil, err
		}
		for _, d := range pkg.exported {
			qualified := pkg.name + "." + d.name
			declared[qualified] = true
			if _, ok := exempt[qualified]; ok || pkg.shows(d) {
				continue
			}
			problems = append(problems, fmt.Sprintf(
				"%s (%s) has no runnable example: add Example%s to an example_test.go, with an // Output: comment, or list %q in exampleExempt with the reason it needs none",
				qualified, dir, d.name, qualified))
		}
	}
	names := make([]string, 0, len(exempt))
	for name := range exempt {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case !declared[name]:
			problems = append(problems, fmt.Sprintf("exemption %q names no exported function or type of these packages: remove it", name))
		case strings.TrimSpace(exempt[name]) == "":
			problems = append(problems, fmt.Sprintf("exemption %q gives no reason", name))
		}
	}
	return problems, nil
}

// pkg is what Missing needs to know of one package.
type pkg struct {
	name     string
	exported []decl
	examples map[string]bool // the names of the Example functions
	used     map[string]bool // the package's names the Example functions use
}

type decl struct {
	name   string
	option bool   // a function returning one of the package's option types
	result string // for a function, the exported type it returns, if any
}

func parseDir(dir string) (*pkg, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	path, err := importPath(dir)
	if err != nil {
		return nil, err
	}
	p := &pkg{examples: map[string]bool{}, used: map[string]bool{}}
	fset := token.NewFileSet()
	var tests []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") {
			continue
		}
		path := filepath.Join(dir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(name, "_test.go") {
			tests = append(tests, f)
			continue
		}
		p.name = f.Name.Name
		p.exported = append(p.exported, exportedDecls(f)...)
	}
	if p.name == "" {
		return nil, fmt.Errorf("examplecheck: %s holds no Go package", dir)
	}
	for _, f := range tests {
		p.readExamples(f, path)
	}
	return p, nil
}

// readExamples records the Example functions of the test file f and the
// names of the package (import path path) they use.
func (p *pkg) readExamples(f *ast.File, path string) {
	// In the package's own test files its names are used bare; in an
	// external test package, through the name the file imports it under.
	local := ""
	if f.Name.Name != p.name {
		local = "-" // the package is not imported
		for _, imp := range f.Imports {
			if strings.Trim(imp.Path.Value, "`\"") != path {
				continue
			}
			local = p.name
			if imp.Name != nil {
				local = imp.Name.Name
			}
		}
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || !strings.HasPrefix(fd.Name.Name, "Example") || fd.Body == nil {
			continue
		}
		p.examples[fd.Name.Name] = true
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == local {
					p.used[n.Sel.Name] = true
				}
			case *ast.Ident:
				if local == "" {
					p.used[n.Name] = true
				}
			}
			return true
		})
	}
}

// importPath returns the import path of the package in dir, from the
// module path in the nearest go.mod at or above it.
func importPath(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			mod := modfileModule(data)
			if mod == "" {
				return "", fmt.Errorf("examplecheck: %s has no module line", filepath.Join(d, "go.mod"))
			}
			rel, err := filepath.Rel(d, abs)
			if err != nil || rel == "." {
				return mod, err
			}
			return mod + "/" + filepath.ToSlash(rel), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("examplecheck: no go.mod at or above %s", dir)
		}
	}
}

// modfileModule returns the module path a go.mod declares, or "".
func modfileModule(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// shows reports whether an example of p shows d.
func (p *pkg) shows(d decl) bool {
	used := func(name string) bool { return p.used[name] }
	switch {
	case p.namedFor(d.name):
		return true
	case d.option && used(d.name):
		return true
	case strings.HasPrefix(d.name, "New") && d.result != "" && !strings.HasSuffix(d.result, "Option") &&
		p.namedFor(d.result) && used(d.name):
		return true // a constructor, shown by its type's example
	case strings.HasSuffix(d.name, "Option") && !d.option && d.result == "":
		return true // an option interface: its constructors are checked
	}
	return false
}

// namedFor reports whether an example is named for name: ExampleName,
// ExampleName_suffix or ExampleName_Method.
func (p *pkg) namedFor(name string) bool {
	want := "Example" + name
	if p.examples[want] {
		return true
	}
	for e := range p.examples {
		if strings.HasPrefix(e, want+"_") {
			return true
		}
	}
	return false
}

func exportedDecls(f *ast.File) []decl {
	var out []decl
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil || !d.Name.IsExported() {
				continue
			}
			out = append(out, decl{name: d.Name.Name, option: returnsOption(d), result: resultType(d)})
		case *ast.GenDecl:
			if d.Tok != token.TYPE {
				continue
			}
			for _, s := range d.Specs {
				if ts := s.(*ast.TypeSpec); ts.Name.IsExported() {
					out = append(out, decl{name: ts.Name.Name})
				}
			}
		}
	}
	return out
}

// resultType returns the name of the exported type a function returns (T,
// *T or a generic T[...]), alone or with an error, or "".
func resultType(fd *ast.FuncDecl) string {
	res := fd.Type.Results
	if res == nil || len(res.List[0].Names) > 1 {
		return ""
	}
	switch {
	case len(res.List) == 2 && isIdent(res.List[1].Type, "error"):
		// (T, error): a constructor that can fail
	case len(res.List) != 1:
		return ""
	}
	t := res.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	switch ix := t.(type) {
	case *ast.IndexExpr:
		t = ix.X
	case *ast.IndexListExpr:
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok && id.IsExported() {
		return id.Name
	}
	return ""
}

// returnsOption reports whether fd returns one value of a type of its
// package whose name ends in Option.
func returnsOption(fd *ast.FuncDecl) bool {
	res := fd.Type.Results
	if res == nil || len(res.List) != 1 {
		return false
	}
	id, ok := res.List[0].Type.(*ast.Ident)
	return ok && strings.HasSuffix(id.Name, "Option")
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
