// Package signtest records sign-offs for tests: a project whose suites run
// needs each suite's governed set in its sign-off record, as `evald
// signoff` writes it. It owns nothing else and is imported by tests only.
package signtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/governance"
)

// At is the time of the sign-offs these helpers record.
var At = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Project records the first sign-off of every suite of proj that has none
// in proj.Record (in memory), as "test" for "test setup"; a suite already
// signed off is left alone, whatever its files say now. It returns proj.
func Project(t testing.TB, proj *configs.Project) *configs.Project {
	t.Helper()
	if err := sign(proj); err != nil {
		t.Fatalf("signtest: %v", err)
	}
	return proj
}

// Signed is Project for helpers without a testing.TB; it panics on an
// error, which only a hand-built suite with an unencodable value causes.
func Signed(proj *configs.Project) *configs.Project {
	if err := sign(proj); err != nil {
		panic("signtest: " + err.Error())
	}
	return proj
}

func sign(proj *configs.Project) error {
	es, err := entries(proj, false)
	if err != nil {
		return err
	}
	rec := proj.Record
	for _, e := range es {
		if rec, err = rec.With(e); err != nil {
			return err
		}
	}
	if rec == nil {
		rec = &governance.Record{}
	}
	proj.Record = rec
	return nil
}

// File records the first sign-off of every suite of the project whose
// evald.yaml is at cfg and that has none, appending the entries to its
// record file, and returns cfg.
func File(t testing.TB, cfg string) string {
	t.Helper()
	return write(t, cfg, false)
}

// Update signs off, in the record file of the project at cfg, every suite
// whose files no longer state its latest signed-off set (and every suite
// that has none), as a test that edits a suite and then runs it does after
// review; it returns cfg.
func Update(t testing.TB, cfg string) string {
	t.Helper()
	return write(t, cfg, true)
}

func write(t testing.TB, cfg string, again bool) string {
	t.Helper()
	proj, err := configs.Load(cfg)
	if err != nil {
		t.Fatalf("signtest: load %s: %v", cfg, err)
	}
	es, err := entries(proj, again)
	if err != nil {
		t.Fatalf("signtest: %v", err)
	}
	var b []byte
	for _, e := range es {
		b = append(b, e.Marshal()...)
	}
	path := filepath.Join(filepath.Dir(cfg), governance.RecordFile)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// entries returns the first sign-offs of proj's suites that have none,
// and with again the sign-offs of the suites whose sets changed.
func entries(proj *configs.Project, again bool) ([]governance.RecordEntry, error) {
	var out []governance.RecordEntry
	seen := map[string]bool{}
	for _, s := range proj.Suites {
		if s == nil || seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		prev := proj.Record.Latest(s.Name)
		if prev != nil && !again {
			continue
		}
		e, err := governance.NewRecordEntry(prev, s.Name, proj.GovernedSet(s), "test", "", "test setup", At)
		if errors.Is(err, governance.ErrUnchanged) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
