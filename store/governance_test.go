package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSignoffs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := t0.Add(time.Hour)
	s.now = func() time.Time { return now }

	if _, err := s.CurrentSignoff(ctx, "faq"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CurrentSignoff before any = %v, want ErrNotFound", err)
	}

	first, e1, err := s.RecordSignoff(ctx, Signoff{
		Suite: "faq", SetJSON: []byte(`{"pass_rate":0.9}`), Hash: "h1", By: "bootstrap", Reason: "first sight",
	}, testSeal("bootstrap", "suite.adopted", `{"suite":"faq","hash":"h1"}`))
	if err != nil {
		t.Fatalf("RecordSignoff(first) = %v", err)
	}
	if first.ID == 0 || !first.At.Equal(now) || e1.Seq != 1 {
		t.Errorf("RecordSignoff(first) = ID %d, At %v, audit seq %d; want an ID, At now (%v), audit seq 1", first.ID, first.At, e1.Seq, now)
	}
	if names, err := s.Suites(ctx); err != nil || !slices.Contains(names, "faq") {
		t.Errorf("Suites after the first sign-off = %v, %v, want faq recorded", names, err)
	}

	second, e2, err := s.RecordSignoff(ctx, Signoff{
		Suite: "faq", SetJSON: []byte(`{"pass_rate":0.8}`), Hash: "h2", By: "alice", Reason: "new model is noisier",
		At: t0.Add(2 * time.Hour).In(time.FixedZone("CEST", 2*3600)), PrevHash: first.Hash,
	}, testSeal("alice", "thresholds.signed_off", `{"suite":"faq","hash":"h2","prev_hash":"h1"}`))
	if err != nil {
		t.Fatalf("RecordSignoff(second) = %v", err)
	}
	if e2.Seq != 2 || second.At.Location() != time.UTC {
		t.Errorf("RecordSignoff(second): audit seq %d, At in %v; want 2, UTC", e2.Seq, second.At.Location())
	}

	t.Run("current and history", func(t *testing.T) {
		cur, err := s.CurrentSignoff(ctx, "faq")
		if err != nil {
			t.Fatalf("CurrentSignoff = %v", err)
		}
		if diff := cmp.Diff(second, cur); diff != "" {
			t.Errorf("CurrentSignoff mismatch (-want +got):\n%s", diff)
		}
		all, err := s.Signoffs(ctx, "faq")
		if err != nil {
			t.Fatalf("Signoffs = %v", err)
		}
		if diff := cmp.Diff([]Signoff{first, second}, all); diff != "" {
			t.Errorf("Signoffs mismatch (-want +got):\n%s", diff)
		}
		if other, err := s.Signoffs(ctx, "other"); err != nil || len(other) != 0 {
			t.Errorf("Signoffs(other) = %v, %v, want none", other, err)
		}
	})

	log, _, _ := auditState(t, s)
	for _, tc := range []struct {
		name    string
		so      Signoff
		seal    SealFunc
		wantErr error  // checked with errors.Is when set
		want    string // else the error contains it
	}{
		{
			name:    "stale prev hash",
			so:      Signoff{Suite: "faq", SetJSON: []byte(`{}`), Hash: "h3", By: "bob", Reason: "r", PrevHash: first.Hash},
			seal:    testSeal("bob", "thresholds.signed_off", `{}`),
			wantErr: ErrConflict,
		},
		{
			name:    "first of a suite names a prev hash",
			so:      Signoff{Suite: "new", SetJSON: []byte(`{}`), Hash: "h3", By: "bob", Reason: "r", PrevHash: "h2"},
			seal:    testSeal("bob", "thresholds.signed_off", `{}`),
			wantErr: ErrConflict,
		},
		{
			name: "empty reason",
			so:   Signoff{Suite: "faq", SetJSON: []byte(`{}`), Hash: "h3", By: "bob", Reason: " ", PrevHash: second.Hash},
			seal: testSeal("bob", "thresholds.signed_off", `{}`),
			want: "reason is required",
		},
		{
			name: "no actor",
			so:   Signoff{Suite: "faq", SetJSON: []byte(`{}`), Hash: "h3", Reason: "r", PrevHash: second.Hash},
			seal: testSeal("bob", "thresholds.signed_off", `{}`),
			want: "by is required",
		},
		{
			name: "entry does not audit the row",
			so:   Signoff{Suite: "faq", SetJSON: []byte(`{}`), Hash: "h3", By: "bob", Reason: "r", PrevHash: second.Hash},
			seal: testSeal("bob", "thresholds.signed_off", `{"suite":"faq","hash":"h4"}`),
			want: "does not name the sign-off's suite, hash and signer",
		},
		{
			name: "seal fails",
			so:   Signoff{Suite: "faq", SetJSON: []byte(`{}`), Hash: "h3", By: "bob", Reason: "r", PrevHash: second.Hash},
			seal: failingSeal,
			want: "seal failed",
		},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			_, _, err := s.RecordSignoff(ctx, tc.so, tc.seal)
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("RecordSignoff = %v, want %v", err, tc.wantErr)
			case tc.wantErr == nil && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("RecordSignoff = %v, want an error containing %q", err, tc.want)
			}
			assertAuditUnchanged(t, s, log)
			assertCount(t, s, "signoffs", 2)
		})
	}

	t.Run("broken audit log records nothing", func(t *testing.T) {
		if _, err := s.w.ExecContext(ctx, `DELETE FROM audit_log WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.RecordSignoff(ctx, Signoff{
			Suite: "faq", SetJSON: []byte(`{}`), Hash: "h3", By: "bob", Reason: "r", PrevHash: second.Hash,
		}, testSeal("bob", "thresholds.signed_off", `{}`))
		if !errors.Is(err, ErrAuditBroken) {
			t.Errorf("RecordSignoff with a broken audit log = %v, want ErrAuditBroken", err)
		}
		assertCount(t, s, "signoffs", 2)
	})
}

func TestSilences(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := t0.Add(-time.Minute)
	s.now = func() time.Time { return now }

	add := func(si Silence) Silence {
		t.Helper()
		got, e, err := s.AddSilence(ctx, si, silenceSeal(si))
		if err != nil {
			t.Fatalf("AddSilence(%+v) = %v", si, err)
		}
		if got.ID == 0 || e.Seq == 0 {
			t.Errorf("AddSilence = ID %d, audit seq %d, want both set", got.ID, e.Seq)
		}
		return got
	}
	s1 := add(Silence{Suite: "faq", Target: "prod", By: "alice", Reason: "provider incident", Start: t0, Until: t0.Add(time.Hour)})
	s2 := add(Silence{Suite: "faq", Target: "prod", By: "bob", Reason: "migration", Start: t0.Add(30 * time.Minute), Until: t0.Add(2 * time.Hour)})
	s3 := add(Silence{Suite: "faq", Target: "staging", By: "carol", Reason: "r", Until: t0.Add(4 * time.Hour)})
	if !s3.Start.Equal(now) {
		t.Errorf("AddSilence without a start: Start = %v, want now (%v)", s3.Start, now)
	}

	for _, tc := range []struct {
		name string
		at   time.Time
		want []Silence
	}{
		{"all", time.Time{}, []Silence{s1, s2, s3}},
		{"before any", now.Add(-time.Nanosecond), nil},
		{"start is included", t0, []Silence{s1, s3}},
		{"overlap", t0.Add(45 * time.Minute), []Silence{s1, s2, s3}},
		{"until is excluded", t0.Add(time.Hour), []Silence{s2, s3}},
		{"all expired", t0.Add(4 * time.Hour), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Silences(ctx, tc.at)
			if err != nil {
				t.Fatalf("Silences(%v) = %v", tc.at, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Silences(%v) mismatch (-want +got):\n%s", tc.at, diff)
			}
		})
	}

	log, _, _ := auditState(t, s)
	if len(log) != 3 {
		t.Errorf("audit entries after 3 silences = %d, want 3", len(log))
	}
	for _, tc := range []struct {
		name string
		si   Silence
		seal SealFunc
		want string
	}{
		{"ends before it starts", Silence{Suite: "faq", Target: "prod", By: "a", Reason: "r", Start: t0, Until: t0}, testSeal("a", "silence.created", `{}`), "before it starts"},
		{"no target", Silence{Suite: "faq", By: "a", Reason: "r", Until: t0.Add(time.Hour)}, testSeal("a", "silence.created", `{}`), "target is required"},
		{"no reason", Silence{Suite: "faq", Target: "prod", By: "a", Until: t0.Add(time.Hour)}, testSeal("a", "silence.created", `{}`), "reason is required"},
		{"seal fails", Silence{Suite: "faq", Target: "prod", By: "a", Reason: "r", Until: t0.Add(time.Hour)}, failingSeal, "seal failed"},
		{"entry does not audit the row", Silence{Suite: "faq", Target: "prod", By: "a", Reason: "r", Until: t0.Add(time.Hour)}, testSeal("a", "silence.created", `{}`), "does not name the silence"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			if _, _, err := s.AddSilence(ctx, tc.si, tc.seal); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AddSilence = %v, want an error containing %q", err, tc.want)
			}
			assertCount(t, s, "silences", 3)
			assertAuditUnchanged(t, s, log)
		})
	}
}

func TestKnownSuites(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := t0
	s.now = func() time.Time { return now }

	known := func() map[string]KnownSuite {
		t.Helper()
		list, err := s.KnownSuites(ctx)
		if err != nil {
			t.Fatalf("KnownSuites = %v", err)
		}
		m := map[string]KnownSuite{}
		for _, k := range list {
			m[k.Name] = k
		}
		return m
	}

	if e, err := s.SetSuiteCaseCount(ctx, "faq", 10, nil); err != nil || e.Seq != 0 {
		t.Fatalf("SetSuiteCaseCount(faq, 10, no seal) = %+v, %v, want no audit entry", e, err)
	}
	if _, err := s.CreateRun(ctx, Run{Suite: "billing", Target: "prod"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]KnownSuite{
		"faq":     {Name: "faq", FirstSeen: t0, CaseCount: 10},
		"billing": {Name: "billing", FirstSeen: t0},
	}
	if diff := cmp.Diff(want, known()); diff != "" {
		t.Errorf("KnownSuites mismatch (-want +got):\n%s", diff)
	}
	assertCount(t, s, "audit_log", 0)

	t.Run("shrink audited", func(t *testing.T) {
		e, err := s.SetSuiteCaseCount(ctx, "faq", 8, testSeal("bootstrap", "suite.cases_shrunk", `{"from":10,"to":8}`))
		if err != nil || e.Seq != 1 {
			t.Fatalf("SetSuiteCaseCount(faq, 8, seal) = %+v, %v, want audit entry 1", e, err)
		}
		if got := known()["faq"].CaseCount; got != 8 {
			t.Errorf("faq case count = %d, want 8", got)
		}
		if _, err := s.SetSuiteCaseCount(ctx, "faq", 5, failingSeal); err == nil {
			t.Errorf("SetSuiteCaseCount with a failing seal = nil error, want one")
		}
		if got := known()["faq"].CaseCount; got != 8 {
			t.Errorf("faq case count after a failed audited update = %d, want 8 (unchanged)", got)
		}
	})

	t.Run("removed", func(t *testing.T) {
		now = t0.Add(time.Hour)
		if _, err := s.MarkSuiteRemoved(ctx, "faq", failingSeal); err == nil {
			t.Errorf("MarkSuiteRemoved with a failing seal = nil error, want one")
		}
		if got := known()["faq"].RemovedAt; !got.IsZero() {
			t.Errorf("faq RemovedAt after a failed removal = %v, want zero", got)
		}
		e, err := s.MarkSuiteRemoved(ctx, "faq", testSeal("bootstrap", "suite.removed", `{"suite":"faq"}`))
		if err != nil || e.Seq != 2 {
			t.Fatalf("MarkSuiteRemoved = %+v, %v, want audit entry 2", e, err)
		}
		if got := known()["faq"].RemovedAt; !got.Equal(now) {
			t.Errorf("faq RemovedAt = %v, want %v", got, now)
		}
		if _, err := s.MarkSuiteRemoved(ctx, "faq", testSeal("bootstrap", "suite.removed", `{}`)); !errors.Is(err, ErrConflict) {
			t.Errorf("MarkSuiteRemoved twice = %v, want ErrConflict", err)
		}
		if _, err := s.MarkSuiteRemoved(ctx, "nope", testSeal("bootstrap", "suite.removed", `{}`)); !errors.Is(err, ErrNotFound) {
			t.Errorf("MarkSuiteRemoved(unknown) = %v, want ErrNotFound", err)
		}
		assertCount(t, s, "audit_log", 2)
	})

	t.Run("back in the config", func(t *testing.T) {
		if _, err := s.SetSuiteCaseCount(ctx, "faq", 8, nil); err != nil {
			t.Fatal(err)
		}
		if got := known()["faq"]; !got.RemovedAt.IsZero() || !got.FirstSeen.Equal(t0) {
			t.Errorf("faq back in the config = %+v, want watched, first seen %v", got, t0)
		}
	})

	t.Run("bad count", func(t *testing.T) {
		if _, err := s.SetSuiteCaseCount(ctx, "faq", -1, nil); err == nil {
			t.Errorf("SetSuiteCaseCount(-1) = nil error, want one")
		}
	})
}
