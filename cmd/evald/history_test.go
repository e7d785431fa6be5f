package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/sim"
	"github.com/evald/evald/store"
)

// TestHistoryRoles: history tells production runs from the gate's runs,
// which share the trigger ci, and a run without a drift verdict has a
// null one.
func TestHistoryRoles(t *testing.T) {
	cfg := project(t, simServer(t, sim.Options{WrongRate: -1}), "0.5")
	for _, args := range [][]string{
		{"faq"}, // production
		{"--model", "sim-2", "--baseline", "side-by-side", "faq"}, // a candidate and production's side
	} {
		if code, _, errOut := evald(t, append([]string{"run", "--config", cfg}, args...)...); code != exitOK {
			t.Fatalf("run %v = exit %d: %s", args, code, errOut)
		}
	}
	edit(t, filepath.Join(filepath.Dir(cfg), "suites/faq.yaml"), "pass_rate: 0.5", "pass_rate: 0.4")
	if code, _, errOut := evald(t, "run", "--config", cfg, "faq"); code != exitRefused {
		t.Fatalf("refused run = exit %d: %s", code, errOut)
	}

	code, out, errOut := evald(t, "history", "--config", cfg, "--json")
	if code != exitOK {
		t.Fatalf("history = exit %d: %s", code, errOut)
	}
	type role struct {
		Status    string  `json:"status"`
		Trigger   string  `json:"trigger"`
		Candidate *bool   `json:"candidate"`
		GateRole  *string `json:"gate_role"`
		Verdict   *string `json:"verdict"`
	}
	got := map[string]role{}
	for line := range strings.Lines(strings.TrimSpace(out)) {
		var r role
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("history line %q: %v", line, err)
		}
		if r.Candidate == nil {
			t.Errorf("history line lacks candidate: %s", line)
			continue
		}
		kind := "production"
		switch {
		case r.GateRole != nil:
			kind = *r.GateRole
		case *r.Candidate:
			kind = "candidate"
		}
		got[kind+" "+r.Status] = r
		if r.Verdict == nil && strings.Contains(line, `"verdict":""`) {
			t.Errorf("empty verdict printed as \"\": %s", line)
		}
	}
	for _, want := range []struct {
		kind      string
		candidate bool
		verdict   bool // a drift verdict is expected
	}{
		{"production passed", false, true},
		{"candidate passed", true, false},
		{"side_by_side_baseline passed", false, false},
		{"production refused", false, false},
	} {
		r, ok := got[want.kind]
		switch {
		case !ok:
			t.Errorf("history lacks a %s run:\n%s", want.kind, out)
		case *r.Candidate != want.candidate || r.Trigger != "ci":
			t.Errorf("%s run: candidate %v, trigger %q; want %v, ci", want.kind, *r.Candidate, r.Trigger, want.candidate)
		case (r.Verdict != nil) != want.verdict:
			t.Errorf("%s run: verdict %v, want one: %v", want.kind, r.Verdict, want.verdict)
		}
	}

	_, table, _ := evald(t, "history", "--config", cfg)
	for _, want := range []string{"ci (candidate)", "ci (side-by-side baseline)"} {
		if !strings.Contains(table, want) {
			t.Errorf("history table lacks %q:\n%s", want, table)
		}
	}
}

// TestHistoryWindow: --limit, --since and --until pick the runs, oldest
// first, and the streamed table keeps its columns aligned.
func TestHistoryWindow(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "evald.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var runs []store.Run
	for i := range 1200 {
		at := t0.Add(time.Duration(i) * time.Hour)
		r := store.Run{Suite: "faq", Target: "prod", Trigger: "schedule", Status: store.StatusPassed, StartedAt: at, FinishedAt: at.Add(time.Minute)}
		if i%100 == 7 {
			r.Suite, r.Target, r.Trigger, r.Role = "a-much-longer-suite-name", "staging-eu-west", "ci", store.RoleReference
		}
		runs = append(runs, r)
	}
	if err := st.ImportRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	st.Close()

	ids := func(args ...string) []int64 {
		t.Helper()
		code, out, errOut := evald(t, append([]string{"history", "--db", db, "--json"}, args...)...)
		if code != exitOK {
			t.Fatalf("history %v = exit %d: %s", args, code, errOut)
		}
		var got []int64
		for line := range strings.Lines(out) {
			var r struct {
				RunID int64 `json:"run_id"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("history line %q: %v", line, err)
			}
			got = append(got, r.RunID)
		}
		return got
	}
	span := func(from, to int64) []int64 {
		var out []int64
		for id := from; id <= to; id++ {
			out = append(out, id)
		}
		return out
	}
	for _, tc := range []struct {
		args []string
		want []int64
	}{
		{[]string{"--limit", "3"}, span(1198, 1200)},
		{[]string{"--since", "2025-03-01T10:00:00Z", "--until", "2025-03-01T13:00:00Z"}, span(11, 13)},
		{[]string{"--until", "2025-03-02", "--limit", "2"}, span(23, 24)},
		{[]string{"--since", "2025-03-01T10:00:00Z", "--limit", "2", "--target", "prod"}, span(1199, 1200)},
		{[]string{"--since", "1h"}, nil}, // the runs are in 2025
	} {
		if diff := cmp.Diff(tc.want, ids(tc.args...)); diff != "" {
			t.Errorf("history %v run IDs (-want +got):\n%s", tc.args, diff)
		}
	}
	if code, _, errOut := evald(t, "history", "--db", db, "--since", "2025-03-02", "--until", "2025-03-01"); code != exitUsage || !strings.Contains(errOut, "--since") {
		t.Errorf("history with --since after --until = exit %d: %s; want exit %d naming --since", code, errOut, exitUsage)
	}
	if code, _, errOut := evald(t, "history", "--db", db, "--since", "yesterday"); code != exitUsage || !strings.Contains(errOut, "yesterday") {
		t.Errorf("history --since yesterday = exit %d: %s; want exit %d quoting it", code, errOut, exitUsage)
	}

	code, out, errOut := evald(t, "history", "--db", db)
	if code != exitOK {
		t.Fatalf("history = exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if got, want := len(lines), 1201; got != want {
		t.Fatalf("history table has %d lines, want %d", got, want)
	}
	col := strings.Index(lines[0], "STATUS")
	for _, l := range lines[1:] {
		if l[col-2:col] != "  " || l[col] == ' ' {
			t.Fatalf("history table line %q: its status does not start under STATUS (column %d):\n%s\n%s", l, col, lines[0], l)
		}
	}
	if !strings.Contains(out, "ci (side-by-side baseline)") {
		t.Errorf("history table lacks the reference runs' trigger:\n%s", lines[8])
	}
}
