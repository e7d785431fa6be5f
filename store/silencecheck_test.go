package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// silenceSeal seals si's audit entry as the daemon does.
func silenceSeal(si Silence) SealFunc {
	payload := fmt.Sprintf(`{"suite":%q,"target":%q,"reason":%q,"until":%q}`, si.Suite, si.Target, si.Reason, si.Until.UTC().Format(time.RFC3339))
	return testSeal(si.By, SilenceAction, payload)
}

func TestCheckedSilences(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for _, who := range []string{"alice", "bob"} {
		si := Silence{Suite: "faq", Target: "prod", By: who, Reason: "r", Start: t0, Until: t0.Add(time.Hour + 500*time.Millisecond)}
		if _, _, err := s.AddSilence(ctx, si, silenceSeal(si)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO silences (suite, target, by_actor, reason, start_at, until_at, created_at)
		VALUES ('faq', 'staging', 'mallory', 'quiet please', ?, ?, ?)`, formatTime(t0), formatTime(t0.Add(time.Hour)), formatTime(t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE silences SET until_at = ? WHERE id = 2`, formatTime(t0.Add(720*time.Hour))); err != nil {
		t.Fatal(err)
	}
	got, problems, err := s.CheckedSilences(ctx, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].By != "alice" {
		t.Errorf("CheckedSilences = %+v, want alice's only", got)
	}
	want := []string{"the silence in audit entry 2 has no silence row", "silence 2 of suite faq on prod (by bob", "silence 3 of suite faq on staging (by mallory"}
	if len(problems) != len(want) {
		t.Fatalf("problems = %v, want %d", problems, len(want))
	}
	for i, p := range problems {
		if !strings.Contains(p.String(), want[i]) {
			t.Errorf("problem %d = %q, want it to contain %q", i, p, want[i])
		}
	}
}
