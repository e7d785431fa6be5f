package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/sim"
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
