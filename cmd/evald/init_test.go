package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/governance"
	"github.com/evald/evald/sim"
)

// TestInit: evald init writes a project that loads, runs green against
// the simulator with no other step (its first sign-off is recorded), and
// refuses to overwrite anything.
func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "proj")
	code, out, errOut := evald(t, "init", "--by", "dana", dir)
	if code != exitOK {
		t.Fatalf("init = exit %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(out, "first sign-off of suite support by dana") || !strings.Contains(out, "evald sim &") {
		t.Errorf("init printed %q", out)
	}
	cfg := filepath.Join(dir, "evald.yaml")
	lines := recordLines(t, cfg)
	if len(lines) != 1 || !strings.Contains(lines[0], `"suite":"support"`) || !strings.Contains(lines[0], `"by":"dana"`) {
		t.Errorf("record = %q, want the first sign-off of support by dana", lines)
	}
	// The starter suite asks only for what its three cases can see, so the
	// first validate a new user runs carries no warning.
	if code, out, errOut := evald(t, "validate", "--config", cfg); code != exitOK || strings.Contains(out+errOut, "warning") {
		t.Errorf("validate of the new project = exit %d: %s %s", code, out, errOut)
	}
	// Pointed at a simulator (the config names evald sim's default
	// address), the suite runs and passes.
	edit(t, cfg, "http://127.0.0.1:8090/v1", simServer(t, sim.Options{WrongRate: -1}))
	if code, out, errOut := evald(t, "run", "--config", cfg); code != exitOK {
		t.Errorf("run of the new project = exit %d: %s %s", code, out, errOut)
	}

	before, err := os.ReadFile(filepath.Join(dir, "suites/support.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut = evald(t, "init", dir)
	if code != exitUsage || !strings.Contains(errOut, "refusing to overwrite") || !strings.Contains(errOut, governance.RecordFile) {
		t.Errorf("init over a project = exit %d %q, want %d refusing", code, errOut, exitUsage)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "suites/support.yaml"))
	if string(after) != string(before) || len(recordLines(t, cfg)) != 1 {
		t.Errorf("a refused init changed the project")
	}
}
