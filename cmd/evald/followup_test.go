package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/sim"
)

// pasted finds the `evald SUB ...` command printed in text and returns its
// arguments as a user pasting it would run them, with the placeholders
// NAME and TEXT filled in.
func pasted(t *testing.T, text, sub string) []string {
	t.Helper()
	i := strings.Index(text, "evald "+sub+" ")
	if i < 0 {
		t.Fatalf("no `evald %s` command in:\n%s", sub, text)
	}
	line, _, _ := strings.Cut(text[i:], "\n")
	line, _, _ = strings.Cut(line, "<") // junit's XML
	line, _, _ = strings.Cut(line, "`") // markdown's code span
	args := strings.Fields(line)[1:]
	for i, a := range args {
		switch a {
		case "NAME":
			args[i] = "alice"
		case "TEXT":
			args[i] = "checked by hand"
		}
	}
	return args
}

// inParent moves the test into the folder that holds the project of cfg
// and returns cfg relative to it, as a user who typed `--config
// proj/evald.yaml` gave it.
func inParent(t *testing.T, cfg string) string {
	t.Helper()
	t.Setenv("EVALD_CONFIG", "")
	dir := filepath.Dir(cfg)
	t.Chdir(filepath.Dir(dir))
	if _, err := os.Stat("evald.yaml"); err == nil {
		t.Fatal("the parent folder has an evald.yaml: the test would not tell")
	}
	return filepath.Join(filepath.Base(dir), "evald.yaml")
}

// TestRefusedSignoffCommandWorks: the sign-off command a refused run
// prints (stderr, markdown, junit) works as printed from the folder the
// run was started in, with a relative --config.
func TestRefusedSignoffCommandWorks(t *testing.T) {
	cfg := inParent(t, project(t, simServer(t, sim.Options{WrongRate: -1}), "0.9"))
	if code, _, errOut := evald(t, "run", "--config", cfg, "faq"); code != exitOK {
		t.Fatalf("first run = exit %d: %s", code, errOut)
	}
	edit(t, filepath.Join(filepath.Dir(cfg), "suites/faq.yaml"), "pass_rate: 0.9", "pass_rate: 0.8")
	code, _, errOut := evald(t, "run", "--config", cfg, "faq")
	if code != exitRefused {
		t.Fatalf("run = exit %d, want %d: %s", code, exitRefused, errOut)
	}
	want := pasted(t, errOut, "signoff")
	if !strings.Contains(strings.Join(want, " "), "--config "+cfg) {
		t.Errorf("printed sign-off command %q lacks --config %s", want, cfg)
	}
	for _, format := range []string{"markdown", "junit"} {
		_, out, _ := evald(t, "run", "--config", cfg, "--format", format, "faq")
		if got := pasted(t, out, "signoff"); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("--format %s prints %q, want %q", format, got, want)
		}
	}
	if code, out, errOut := evald(t, want...); code != exitOK || !strings.Contains(out, "signed off by alice") {
		t.Fatalf("the printed %q = exit %d: %s%s", want, code, out, errOut)
	}
	if code, _, errOut := evald(t, "run", "--config", cfg, "faq"); code != exitOK {
		t.Errorf("run after the sign-off = exit %d: %s", code, errOut)
	}
}

// TestRegressionAcceptCommandWorks: a production run that pages prints the
// accept command, and it works as printed, --db included.
func TestRegressionAcceptCommandWorks(t *testing.T) {
	// Three runs build the drift reference; then the simulated provider
	// updates and answers every question wrong.
	base := simServer(t, sim.Options{WrongRate: -1, DriftAfter: 3 * gateCases, DriftShare: 1})
	p := newGateProj(t, base, gateOpts{prodFacts: gateCases})
	cfg := inParent(t, p.cfg)
	db := filepath.Join(filepath.Base(p.dir), "other.db")
	for i := range 3 {
		if code, _, errOut := evald(t, "run", "--config", cfg, "--db", db, "facts"); code != exitOK {
			t.Fatalf("reference run %d = exit %d: %s", i+1, code, errOut)
		}
	}
	code, out, errOut := evald(t, "run", "--config", cfg, "--db", db, "facts")
	if code != exitFailed {
		t.Fatalf("run after the update = exit %d, want %d: %s%s", code, exitFailed, out, errOut)
	}
	args := pasted(t, errOut, "accept")
	if got := strings.Join(args, " "); !strings.Contains(got, "--config "+cfg+" --db "+db) || !strings.Contains(got, "--target prod") {
		t.Errorf("printed accept command %q, want --config %s --db %s --target prod", got, cfg, db)
	}
	if code, out, errOut := evald(t, args...); code != exitOK || !strings.Contains(out, "accepted by alice") {
		t.Fatalf("the printed %q = exit %d: %s%s", args, code, out, errOut)
	}
}

func TestProgName(t *testing.T) {
	for _, tc := range []struct{ arg0, want string }{
		{"evald", "evald"},
		{"/usr/local/bin/evald", "/usr/local/bin/evald"},
		{"./evald", "./evald"},
		{"/tmp/go-build123/b001/exe/evald", "go run ./cmd/evald"},
		{"/tmp/go-build123/b001/evald.test", "evald"},
	} {
		if got := progName(tc.arg0); got != tc.want {
			t.Errorf("progName(%q) = %q, want %q", tc.arg0, got, tc.want)
		}
	}
}
