package goldentest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestArchive(t *testing.T) {
	text := "a comment\n-- suites/s.yaml --\nname: s\n-- ../outside --\nx\n-- error --\ns.yaml: bad\n"
	a := Parse(text)
	if a.Comment != "a comment\n" || len(a.Files) != 3 || a.Files[0].Data != "name: s\n" {
		t.Fatalf("Parse = %+v", a)
	}
	if got := a.Format(); got != text {
		t.Errorf("Format = %q, want %q", got, text)
	}
	fsys, first := a.FS()
	if first != "suites/s.yaml" || len(fsys) != 1 {
		t.Errorf("FS = %v, %q: want only suites/s.yaml", fsys, first)
	}
	if got := Of("a", "1\n", "b", "2\n").Format(); got != "-- a --\n1\n-- b --\n2\n" {
		t.Errorf("Of = %q", got)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "one.txt"), []byte("-- s.yaml --\nx\n-- error --\ns.yaml: no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var loaded []string
	Errors(t, filepath.Join(dir, "*.txt"), "Load", "suite", func(fsys fs.FS, first string) error {
		data, _ := fs.ReadFile(fsys, first)
		loaded = append(loaded, first+"="+string(data))
		return errors.New("s.yaml: no")
	})
	if len(loaded) != 1 || loaded[0] != "s.yaml=x\n" {
		t.Errorf("loaded %q", loaded)
	}
}
