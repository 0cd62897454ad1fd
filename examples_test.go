package weft_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// libraryPackages are the directories of the module's public packages.
var libraryPackages = []string{".", "coalesce", "retry", "pool", "pipeline", "fanin", "fanout", "breaker", "shutdown"}

// exampleExempt names the exported functions and types that need no
// example of their own, each with the reason. Keep it short: a name belongs
// here only when an example would show nothing its neighbours' do not.
var exampleExempt = map[string]string{
	"coalesce.Result":         "what DoChan delivers, shown by ExampleFlight_DoChan",
	"retry.Attempt":           "the loop variable of ExampleLoop",
	"retry.DeadLetter":        "the sink interface, shown by ExampleProcess",
	"retry.DeadLetterFunc":    "the sink adapter, shown by ExampleProcess",
	"retry.Letter":            "what a sink receives, shown by ExampleProcess",
	"retry.Event":             "what an OnEvent hook receives, shown by ExampleOnEvent",
	"pipeline.Event":          "what an OnEvent hook receives, shown by ExampleOnEvent",
	"pool.CloseError":         "shown by ExampleWorkers_Close",
	"fanout.Call":             "built by Required and Optional, shown by ExampleGather",
	"fanout.Result":           "an element of what Gather returns, shown by ExampleGather",
	"fanout.Status":           "an enum, printed by ExampleGather",
	"fanout.Distributor":      "returned by Distribute, shown by ExampleDistribute",
	"fanin.Merger":            "returned by NewMerger, shown by ExampleMerger",
	"fanin.Sorted":            "returned by MergeSorted, shown by ExampleMergeSorted",
	"breaker.State":           "an enum, printed by ExampleBreaker_Stats",
	"breaker.Reason":          "an enum carried by Event, printed by ExampleOnStateChange",
	"breaker.Event":           "what a listener receives, shown by ExampleOnStateChange",
	"breaker.Outcome":         "an enum, printed by ExampleDefaultOutcome",
	"breaker.Ticket":          "returned by Allow, shown by ExampleBreaker_Allow",
	"shutdown.Component":      "the interface Func, HTTPServer and Graceful return, shown by their examples",
	"shutdown.GracefulServer": "the interface Graceful takes, shown by ExampleGraceful",
	"shutdown.StartError":     "an error type matched with errors.As, like StopError",
	"shutdown.StopError":      "an error type matched with errors.As, like StartError",
	"shutdown.SignalError":    "the cause OnSignal's context carries, shown by ExampleOnSignal",
}

// TestEveryEntryPointHasAnExample checks that every exported function and
// type of every package has a runnable example on pkg.go.dev: an Example
// named for it (ExampleX, ExampleX_suffix, ExampleX_Method); for an option,
// an example that passes it; for a constructor NewT, an example of T that
// calls it. Option interfaces are covered by their constructors. Anything
// else must be listed in exampleExempt with a reason.
func TestEveryEntryPointHasAnExample(t *testing.T) {
	for _, dir := range libraryPackages {
		fset := token.NewFileSet()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var pkgName string
		var exported []decl
		exampleNames := map[string]bool{}
		var exampleBodies strings.Builder
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".go") {
				continue
			}
			path := filepath.Join(dir, name)
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(name, "_test.go") {
				pkgName = f.Name.Name
				exported = append(exported, exportedDecls(f)...)
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv != nil || !strings.HasPrefix(fd.Name.Name, "Example") || fd.Body == nil {
					continue
				}
				exampleNames[fd.Name.Name] = true
				exampleBodies.Write(src[fset.Position(fd.Body.Pos()).Offset:fset.Position(fd.Body.End()).Offset])
			}
		}
		bodies := exampleBodies.String()
		for _, d := range exported {
			qualified := pkgName + "." + d.name
			if _, ok := exampleExempt[qualified]; ok {
				continue
			}
			if hasExampleFor(exampleNames, d.name) {
				continue
			}
			if d.option && (strings.Contains(bodies, pkgName+"."+d.name+"(") || strings.Contains(bodies, pkgName+"."+d.name+"[")) {
				continue
			}
			if strings.HasPrefix(d.name, "New") && d.result != "" && !strings.HasSuffix(d.result, "Option") &&
				hasExampleFor(exampleNames, d.result) && strings.Contains(bodies, pkgName+"."+d.name) {
				continue // a constructor, shown by its type's example
			}
			if strings.HasSuffix(d.name, "Option") && !d.option && d.result == "" {
				continue // an option interface: its constructors are checked
			}
			t.Errorf("%s has no Example (add Example%s, or list it in exampleExempt with a reason)", qualified, d.name)
		}
	}
	for name := range exampleExempt {
		if !strings.Contains(name, ".") {
			t.Errorf("exampleExempt: %q is not package-qualified", name)
		}
	}
}

type decl struct {
	name   string
	option bool   // a function returning one of the package's option types
	result string // for a function, the package type it returns, if any
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

// resultType returns the name of the type a constructor returns (T or *T),
// or "".
func resultType(fd *ast.FuncDecl) string {
	res := fd.Type.Results
	if res == nil || len(res.List) != 1 {
		return ""
	}
	t := res.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if ix, ok := t.(*ast.IndexListExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok && id.IsExported() {
		return id.Name
	}
	return ""
}

func returnsOption(fd *ast.FuncDecl) bool {
	res := fd.Type.Results
	if res == nil || len(res.List) != 1 {
		return false
	}
	id, ok := res.List[0].Type.(*ast.Ident)
	return ok && strings.HasSuffix(id.Name, "Option")
}

// hasExampleFor reports whether an example is named for name: ExampleName,
// ExampleName_suffix or ExampleName_Method.
func hasExampleFor(examples map[string]bool, name string) bool {
	want := "Example" + name
	return examples[want] || slices.ContainsFunc(mapKeys(examples), func(e string) bool {
		return strings.HasPrefix(e, want+"_")
	})
}

func mapKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
