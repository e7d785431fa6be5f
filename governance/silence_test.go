package governance

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewSilence(t *testing.T) {
	cest := time.FixedZone("CEST", 2*3600)
	got, err := NewSilence("faq", "prod", " alice ", " provider incident ", t0.In(cest), 24*time.Hour)
	if err != nil {
		t.Fatalf("NewSilence() = %v", err)
	}
	want := Silence{Suite: "faq", Target: "prod", By: "alice", Reason: "provider incident", Start: t0, Until: t0.Add(24 * time.Hour)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewSilence() mismatch (-want +got):\n%s", diff)
	}
}

func TestNewSilenceErrors(t *testing.T) {
	for _, tt := range []struct {
		name                      string
		suite, target, by, reason string
		d                         time.Duration
		wantErr                   error // nil: none
		wantAny                   bool  // some error without a sentinel
	}{
		{name: "ok", suite: "faq", target: "prod", by: "alice", reason: "why", d: time.Hour},
		{name: "exactly max", suite: "faq", target: "prod", by: "alice", reason: "why", d: MaxSilence},
		{name: "one nanosecond", suite: "faq", target: "prod", by: "alice", reason: "why", d: 1},
		{name: "no by", suite: "faq", target: "prod", by: " ", reason: "why", d: time.Hour, wantErr: ErrNoActor},
		{name: "no reason", suite: "faq", target: "prod", by: "alice", reason: "", d: time.Hour, wantErr: ErrNoReason},
		{name: "zero duration", suite: "faq", target: "prod", by: "alice", reason: "why", d: 0, wantErr: ErrSilenceDuration},
		{name: "negative duration", suite: "faq", target: "prod", by: "alice", reason: "why", d: -time.Hour, wantErr: ErrSilenceDuration},
		{name: "over max", suite: "faq", target: "prod", by: "alice", reason: "why", d: MaxSilence + time.Nanosecond, wantErr: ErrSilenceDuration},
		{name: "no suite", suite: "", target: "prod", by: "alice", reason: "why", d: time.Hour, wantAny: true},
		{name: "no target", suite: "faq", target: "", by: "alice", reason: "why", d: time.Hour, wantAny: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSilence(tt.suite, tt.target, tt.by, tt.reason, t0, tt.d)
			switch {
			case tt.wantAny:
				if err == nil {
					t.Errorf("NewSilence() = nil, want an error")
				}
			case tt.wantErr == nil:
				if err != nil {
					t.Errorf("NewSilence() = %v, want nil", err)
				}
			case !errors.Is(err, tt.wantErr):
				t.Errorf("NewSilence() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSilenceActive(t *testing.T) {
	s := Silence{Suite: "faq", Target: "prod", Start: t0, Until: t0.Add(time.Hour)}
	for _, tt := range []struct {
		name string
		now  time.Time
		want bool
	}{
		{name: "before start", now: t0.Add(-time.Nanosecond), want: false},
		{name: "at start", now: t0, want: true},
		{name: "inside", now: t0.Add(30 * time.Minute), want: true},
		{name: "last instant", now: t0.Add(time.Hour - time.Nanosecond), want: true},
		{name: "at until", now: t0.Add(time.Hour), want: false},
		{name: "after", now: t0.Add(2 * time.Hour), want: false},
		{name: "other zone same instant", now: t0.Add(time.Hour).In(time.FixedZone("X", -5*3600)), want: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Active(tt.now); got != tt.want {
				t.Errorf("Active(%v) = %t, want %t", tt.now, got, tt.want)
			}
		})
	}
}

func TestSilenced(t *testing.T) {
	list := []Silence{
		{ID: 1, Suite: "faq", Target: "prod", Start: t0, Until: t0.Add(time.Hour)},
		{ID: 2, Suite: "faq", Target: "prod", Start: t0, Until: t0.Add(3 * time.Hour)},
		{ID: 3, Suite: "faq", Target: "staging", Start: t0, Until: t0.Add(10 * time.Hour)},
		{ID: 4, Suite: "chat", Target: "prod", Start: t0, Until: t0.Add(10 * time.Hour)},
		{ID: 5, Suite: "faq", Target: "prod", Start: t0.Add(5 * time.Hour), Until: t0.Add(10 * time.Hour)},
	}
	for _, tt := range []struct {
		name          string
		suite, target string
		now           time.Time
		wantID        int64 // 0: none
	}{
		{name: "longest of two active", suite: "faq", target: "prod", now: t0.Add(time.Minute), wantID: 2},
		{name: "one left", suite: "faq", target: "prod", now: t0.Add(2 * time.Hour), wantID: 2},
		{name: "gap between silences", suite: "faq", target: "prod", now: t0.Add(4 * time.Hour)},
		{name: "later silence", suite: "faq", target: "prod", now: t0.Add(5 * time.Hour), wantID: 5},
		{name: "other target", suite: "faq", target: "staging", now: t0, wantID: 3},
		{name: "unknown target", suite: "faq", target: "dev", now: t0},
		{name: "other suite", suite: "chat", target: "prod", now: t0, wantID: 4},
		{name: "before all", suite: "faq", target: "prod", now: t0.Add(-time.Second)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Silenced(list, tt.suite, tt.target, tt.now)
			var gotID int64
			if got != nil {
				gotID = got.ID
			}
			if gotID != tt.wantID {
				t.Errorf("Silenced(%s, %s, %v) = silence %d, want %d", tt.suite, tt.target, tt.now, gotID, tt.wantID)
			}
		})
	}

	got := Silenced(list, "faq", "prod", t0)
	got.Reason = "edited"
	if list[1].Reason != "" {
		t.Errorf("Silenced() returned a pointer into the list")
	}
}

func TestExpired(t *testing.T) {
	list := []Silence{
		{ID: 1, Until: t0},
		{ID: 2, Until: t0.Add(time.Minute)},
		{ID: 3, Until: t0.Add(2 * time.Minute)},
	}
	var ids []int64
	for _, s := range Expired(list, t0, t0.Add(2*time.Minute)) {
		ids = append(ids, s.ID)
	}
	if diff := cmp.Diff([]int64{2, 3}, ids); diff != "" {
		t.Errorf("Expired() ids mismatch (-want +got):\n%s", diff)
	}
}
