// Package testfiles writes the small projects (evald.yaml, suites, prompts)
// that tests build on disk. It is for tests only and does nothing else.
package testfiles

import (
	"os"
	"path/filepath"
	"testing"
)

// Write writes body to name under dir, creating the folders it needs, and
// returns the file's path. A failure ends the test.
func Write(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
