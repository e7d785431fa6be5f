package evald_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/evald/evald"

// packages lists the repo's package folders (those with non-test Go files).
func packages(t *testing.T) map[string][]string {
	t.Helper()
	pkgs := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dir := filepath.ToSlash(filepath.Dir(path))
			pkgs[dir] = append(pkgs[dir], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// imports returns the imports of a package's non-test files.
func imports(t *testing.T, files []string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[p] = true
		}
	}
	return out
}

// TestPackageDocs: every package states its boundary in a package comment.
func TestPackageDocs(t *testing.T) {
	fset := token.NewFileSet()
	for dir, files := range packages(t) {
		documented := false
		for _, f := range files {
			af, err := parser.ParseFile(fset, f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if af.Doc != nil && len(strings.TrimSpace(af.Doc.Text())) > 40 {
				documented = true
			}
		}
		if !documented {
			t.Errorf("package %s has no package doc saying what it owns and never does", dir)
		}
	}
}

// TestImportFences keeps the floors of DESIGN.md: pure packages stay pure,
// lower floors never import higher ones, and sim imports nothing of ours.
func TestImportFences(t *testing.T) {
	pure := []string{"net/http", "database/sql", module + "/store", module + "/runner", module + "/daemon",
		module + "/server", module + "/alerts", module + "/sim", "modernc.org/sqlite", "github.com/slack-go/slack"}
	fences := map[string][]string{
		"scoring":    pure,
		"drift":      pure,
		"evals":      pure,
		"configs":    pure,
		"governance": pure,
		"api":        {"net/http", "database/sql", module + "/daemon", module + "/runner", module + "/server", module + "/alerts"},
		"store":      {module + "/alerts", module + "/daemon", module + "/runner", module + "/server", module + "/drift", module + "/scoring"},
		"runner":     {module + "/store", module + "/daemon", module + "/server", module + "/alerts", module + "/drift", "database/sql"},
		"alerts":     {module + "/store", module + "/daemon", module + "/server", module + "/runner", "database/sql"},
		"daemon":     {module + "/server", "database/sql", "net/http/httptest"},
		// telemetry exports what a run did; it stores, pages and decides
		// nothing.
		"telemetry": {module + "/store", module + "/daemon", module + "/server", module + "/alerts", module + "/drift", "database/sql"},
		// server reads the store and asks the daemon; it never runs SQL,
		// calls a model, pages anyone or schedules anything itself.
		"server": {"database/sql", "modernc.org/sqlite", module + "/alerts", module + "/sim",
			"github.com/sashabaranov/go-openai", "github.com/slack-go/slack", "github.com/robfig/cron/v3"},
	}
	pkgs := packages(t)
	for dir, banned := range fences {
		files, ok := pkgs[dir]
		if !ok {
			t.Errorf("fenced package %s has no Go files: if it moved or was renamed, move its fence too", dir)
			continue
		}
		imps := imports(t, files)
		for _, b := range banned {
			if imps[b] {
				t.Errorf("package %s imports %s, which its floor forbids (DESIGN.md)", dir, b)
			}
		}
	}
	files, ok := pkgs["sim"]
	if !ok {
		t.Errorf("fenced package sim has no Go files: if it moved or was renamed, move its fence too")
	}
	for imp := range imports(t, files) {
		if strings.HasPrefix(imp, module) {
			t.Errorf("package sim imports %s: it stands in for a stranger's server and must not", imp)
		}
	}
}
