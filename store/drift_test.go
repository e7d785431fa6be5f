package store

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDriftState(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := t0
	s.now = func() time.Time { return now }

	if _, _, err := s.LoadDriftState(ctx, "faq", "prod"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoadDriftState before any = %v, want ErrNotFound", err)
	}
	run1, run2 := newRun(t, s), newRun(t, s)

	// check asserts the stored state and the verdicts of run1 and run2.
	check := func(t *testing.T, wantState string, wantLast int64, wantVerdicts ...string) {
		t.Helper()
		st, last, err := s.LoadDriftState(ctx, "faq", "prod")
		if err != nil {
			t.Fatalf("LoadDriftState = %v", err)
		}
		if string(st) != wantState || last != wantLast {
			t.Errorf("LoadDriftState = %s, last run %d; want %s, %d", st, last, wantState, wantLast)
		}
		for i, id := range []int64{run1, run2} {
			r, err := s.Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict != wantVerdicts[i] {
				t.Errorf("run %d verdict = %q, want %q", id, r.Verdict, wantVerdicts[i])
			}
		}
	}

	t.Run("round trip", func(t *testing.T) {
		if err := s.SaveRunVerdict(ctx, run1, "faq", "prod", []byte(`{"s":1}`), "warming_up", `{"b":1}`); err != nil {
			t.Fatalf("SaveRunVerdict(run1) = %v", err)
		}
		check(t, `{"s":1}`, run1, "warming_up", "")
		r, err := s.Run(ctx, run1)
		if err != nil || r.VerdictDetail != `{"b":1}` {
			t.Errorf("run1 verdict detail = %q, %v, want {\"b\":1}", r.VerdictDetail, err)
		}
		now = t0.Add(time.Hour)
		if err := s.SaveRunVerdict(ctx, run2, "faq", "prod", []byte(`{"s":2}`), "ok", `{}`); err != nil {
			t.Fatalf("SaveRunVerdict(run2) = %v", err)
		}
		check(t, `{"s":2}`, run2, "warming_up", "ok")
		assertCount(t, s, "drift_state", 1)
	})

	other := newRunOf(t, s, "faq", "staging")
	for _, tc := range []struct {
		name  string
		runID int64
		state string
		want  string
		is    error
	}{
		{"missing run", 9999, `{"s":3}`, "", ErrNotFound},
		{"run of another target", other, `{"s":3}`, "target staging", nil},
		{"empty state", run1, ``, "empty drift state", nil},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			err := s.SaveRunVerdict(ctx, tc.runID, "faq", "prod", []byte(tc.state), "regressed", `{}`)
			switch {
			case tc.is != nil && !errors.Is(err, tc.is):
				t.Errorf("SaveRunVerdict = %v, want %v", err, tc.is)
			case tc.is == nil && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("SaveRunVerdict = %v, want an error containing %q", err, tc.want)
			}
			check(t, `{"s":2}`, run2, "warming_up", "ok")
		})
	}

	t.Run("verdict atomic with the state", func(t *testing.T) {
		// Make the state write fail after the verdict update succeeded.
		if _, err := s.w.ExecContext(ctx, `CREATE TRIGGER drift_state_fails BEFORE UPDATE ON drift_state
			BEGIN SELECT RAISE(ABORT, 'state write failed'); END`); err != nil {
			t.Fatal(err)
		}
		err := s.SaveRunVerdict(ctx, run1, "faq", "prod", []byte(`{"s":3}`), "regressed", `{}`)
		if err == nil || !strings.Contains(err.Error(), "state write failed") {
			t.Errorf("SaveRunVerdict with a failing state write = %v, want that failure", err)
		}
		check(t, `{"s":2}`, run2, "warming_up", "ok")
		if _, err := s.w.ExecContext(ctx, `DROP TRIGGER drift_state_fails`); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("accept", func(t *testing.T) {
		seal := testSeal("alice", "drift.accepted", `{"suite":"faq"}`)
		if _, err := s.AcceptDrift(ctx, "faq", "prod", run1, []byte(`{"s":"stale"}`), seal, AlertWrites{}); !errors.Is(err, ErrConflict) {
			t.Errorf("AcceptDrift(stale last run) = %v, want ErrConflict", err)
		}
		if _, err := s.AcceptDrift(ctx, "faq", "prod", run2, []byte(`{"s":"accepted"}`), failingSeal, AlertWrites{}); err == nil {
			t.Errorf("AcceptDrift(failing seal) = nil error, want one")
		}
		if _, err := s.AcceptDrift(ctx, "faq", "none", 0, []byte(`{}`), seal, AlertWrites{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("AcceptDrift(no state) = %v, want ErrNotFound", err)
		}
		check(t, `{"s":2}`, run2, "warming_up", "ok")
		assertCount(t, s, "audit_log", 0)

		// The resolution the acceptance brings is written with it, or not
		// at all.
		at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
		resolve := AlertWrites{
			Incidents:  []Incident{{ID: "inc-a", Suite: "faq", Target: "prod", Kind: "regression", OpenedAt: at, ResolvedAt: at.Add(time.Hour), Data: []byte(`{}`)}},
			Deliveries: []Delivery{{ID: "d-a", Sink: "log", IncidentID: "inc-a", Action: "resolve", Payload: []byte(`{}`), CreatedAt: at.Add(time.Hour)}},
		}
		if _, err := s.AcceptDrift(ctx, "faq", "prod", run1, []byte(`{"s":"stale"}`), seal, resolve); !errors.Is(err, ErrConflict) {
			t.Errorf("AcceptDrift(stale last run, with alerts) = %v, want ErrConflict", err)
		}
		assertCount(t, s, "incidents", 0)
		assertCount(t, s, "deliveries", 0)

		e, err := s.AcceptDrift(ctx, "faq", "prod", run2, []byte(`{"s":"accepted"}`), seal, resolve)
		if err != nil || e.Seq != 1 {
			t.Fatalf("AcceptDrift = %+v, %v, want audit entry 1", e, err)
		}
		check(t, `{"s":"accepted"}`, run2, "warming_up", "ok")
		assertCount(t, s, "incidents", 1)
		assertCount(t, s, "deliveries", 1)
	})
}

// newRunOf creates a running run of suite on target.
func newRunOf(t testing.TB, s *Store, suite, target string) int64 {
	t.Helper()
	id, err := s.CreateRun(context.Background(), Run{Suite: suite, Target: target, Trigger: "schedule"})
	if err != nil {
		t.Fatalf("CreateRun = %v", err)
	}
	return id
}

func TestCaseScores(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	id := newRun(t, s)

	sm := func(caseID string, caseIndex, repeat int, errClass string, pass bool, score float64, model, fp string) Sample {
		return Sample{CaseID: caseID, CaseIndex: caseIndex, Repeat: repeat, ErrorClass: errClass, Pass: pass, Score: score,
			Model: model, Fingerprint: fp, Results: []AssertionResult{{Type: "contains", Pass: pass, Score: score, Weight: 1}}}
	}
	// Added out of repeat order and in two batches.
	batches := [][]Sample{
		{
			sm("a", 0, 2, "", true, 1, "m1", "fp1"),
			sm("a", 0, 0, "", false, 0.25, "m1", "fp1"),
			sm("a", 0, 1, "timeout", false, 0, "", ""),
			sm("b", 1, 1, "refused_by_policy", false, 0, "m1", "fp2"),
		},
		{
			sm("b", 1, 0, "", true, math.NaN(), "m2", ""),
			sm("c", 2, 0, "http_5xx", false, 0, "m1", "fp1"),
			sm("c", 2, 1, "rate_limited", false, 0, "", ""),
		},
	}
	for _, b := range batches {
		if err := s.AddSamples(ctx, id, b); err != nil {
			t.Fatalf("AddSamples = %v", err)
		}
	}

	got, err := s.CaseScores(ctx, id)
	if err != nil {
		t.Fatalf("CaseScores = %v", err)
	}
	want := map[string]CaseScores{
		"a": {Pass: []bool{false, true}, Score: []float64{0.25, 1}},
		"b": {Pass: []bool{true, false}, Score: []float64{math.NaN(), 0}},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("CaseScores mismatch (-want +got):\n%s", diff)
	}

	if got, err := s.CaseScores(ctx, 9999); err != nil || len(got) != 0 {
		t.Errorf("CaseScores(unknown run) = %v, %v, want none", got, err)
	}

	t.Run("providers", func(t *testing.T) {
		models, fps, err := s.RunProviders(ctx, id)
		if err != nil {
			t.Fatalf("RunProviders = %v", err)
		}
		if diff := cmp.Diff(map[string]int{"m1": 3, "m2": 1}, models); diff != "" {
			t.Errorf("RunProviders models mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{"fp1": 2, "fp2": 1}, fps); diff != "" {
			t.Errorf("RunProviders fingerprints mismatch (-want +got):\n%s", diff)
		}
	})
}
