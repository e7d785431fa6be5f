package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// signoffFixture records three audited sign-offs of faq (h1 by bootstrap,
// h2 by alice, h3 by bob).
func signoffFixture(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s, _ := openTest(t)
	prev := ""
	for _, so := range []struct{ hash, by, action string }{{"h1", "bootstrap", "suite.adopted"}, {"h2", "alice", "thresholds.signed_off"}, {"h3", "bob", "thresholds.signed_off"}} {
		payload := `{"suite":"faq","hash":"` + so.hash + `","prev_hash":"` + prev + `","reason":"r"}`
		if _, _, err := s.RecordSignoff(ctx, Signoff{Suite: "faq", SetJSON: []byte(`{}`), Hash: so.hash, By: so.by, Reason: "r", PrevHash: prev},
			testSeal(so.by, so.action, payload)); err != nil {
			t.Fatal(err)
		}
		prev = so.hash
	}
	return s
}

func TestCheckedSignoff(t *testing.T) {
	ctx := context.Background()
	insert := `INSERT INTO signoffs (suite, set_json, hash, by_actor, reason, at, prev_hash) VALUES ('faq', '{}', ?, ?, 'r', '2026-01-01T00:00:00.000000000Z', ?)`
	for _, tc := range []struct {
		name      string
		sql       string
		args      []any
		wantHash  string // "" when an error is wanted
		wantErr   error
		wantProbs []string
	}{
		{name: "intact", wantHash: "h3"},
		{name: "row inserted with SQL", sql: insert, args: []any{"h9", "mallory", "h3"}, wantHash: "h3", wantProbs: []string{"sign-off row 4 of suite faq (hash h9 by mallory) matches no audit entry"}},
		{name: "old row replayed", sql: insert, args: []any{"h1", "bootstrap", ""}, wantHash: "h3", wantProbs: []string{"sign-off row 4"}},
		{name: "latest row edited", sql: `UPDATE signoffs SET hash = 'h1' WHERE id = 3`, wantErr: ErrSignoffUnaudited,
			wantProbs: []string{"audit entry 3 has no sign-off row", "sign-off row 3"}},
		{name: "latest row deleted", sql: `DELETE FROM signoffs WHERE id = 3`, wantErr: ErrSignoffUnaudited, wantProbs: []string{"audit entry 3 has no sign-off row"}},
		{name: "signer edited", sql: `UPDATE signoffs SET by_actor = 'carol' WHERE id = 2`, wantHash: "h3",
			wantProbs: []string{"audit entry 2 has no sign-off row", "sign-off row 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := signoffFixture(t)
			if tc.sql != "" {
				if _, err := s.w.ExecContext(ctx, tc.sql, tc.args...); err != nil {
					t.Fatal(err)
				}
			}
			so, probs, err := s.CheckedSignoff(ctx, "faq")
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("CheckedSignoff = %v, want %v", err, tc.wantErr)
			case tc.wantErr == nil && (err != nil || so.Hash != tc.wantHash):
				t.Errorf("CheckedSignoff = hash %q, %v; want %q", so.Hash, err, tc.wantHash)
			}
			all, err := s.SignoffProblems(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, list := range [][]SignoffProblem{probs, all} {
				if len(list) != len(tc.wantProbs) {
					t.Errorf("problems = %v, want %d", list, len(tc.wantProbs))
					continue
				}
				for i, p := range list {
					if !strings.Contains(p.String(), tc.wantProbs[i]) {
						t.Errorf("problem %d = %q, want it to contain %q", i, p, tc.wantProbs[i])
					}
				}
			}
		})
	}
	// After a lost row, a new audited sign-off is the way out.
	s := signoffFixture(t)
	if _, err := s.w.ExecContext(ctx, `DELETE FROM signoffs WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordSignoff(ctx, Signoff{Suite: "faq", SetJSON: []byte(`{}`), Hash: "h4", By: "dave", Reason: "r"},
		testSeal("dave", "thresholds.signed_off", `{"suite":"faq","hash":"h4","prev_hash":""}`)); err != nil {
		t.Fatalf("RecordSignoff after a lost row = %v", err)
	}
	if so, _, err := s.CheckedSignoff(ctx, "faq"); err != nil || so.Hash != "h4" {
		t.Errorf("CheckedSignoff after a new sign-off = %q, %v; want h4", so.Hash, err)
	}
}
