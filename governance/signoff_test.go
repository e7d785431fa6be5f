package governance

import (
	"errors"
	"testing"
	"time"

	"github.com/evald/evald/evals"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func mustSignoff(t testing.TB, suite string, set ThresholdSet, by, reason string, at time.Time, prev *Signoff) Signoff {
	t.Helper()
	s, err := NewSignoff(suite, set, by, reason, at, prev)
	if err != nil {
		t.Fatalf("NewSignoff(%q, %v, %q, %q) = %v", suite, set, by, reason, err)
	}
	return s
}

func TestNewSignoff(t *testing.T) {
	first := mustSignoff(t, "faq", ThresholdSet{"pass_rate": 0.9}, ActorBootstrap, "first sight", t0, nil)
	cest := time.FixedZone("CEST", 2*3600)

	got := mustSignoff(t, "faq", ThresholdSet{"pass_rate": 0.8}, "  alice ", " provider outage, see INC-12\n", t0.In(cest), &first)
	want := Signoff{
		Suite:    "faq",
		Set:      ThresholdSet{"pass_rate": 0.8},
		Hash:     ThresholdSet{"pass_rate": 0.8}.Hash(),
		By:       "alice",
		Reason:   "provider outage, see INC-12",
		At:       t0,
		PrevHash: first.Hash,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewSignoff() mismatch (-want +got):\n%s", diff)
	}
	if got, want := first.PrevHash, ""; got != want {
		t.Errorf("first sign-off PrevHash = %q, want %q", got, want)
	}
	if err := got.Check(); err != nil {
		t.Errorf("Check() = %v, want nil", err)
	}
}

func TestNewSignoffCopiesSet(t *testing.T) {
	set := ThresholdSet{"pass_rate": 0.9}
	s := mustSignoff(t, "faq", set, "alice", "why", t0, nil)
	set["pass_rate"] = 0.1
	if got, want := s.Set["pass_rate"], 0.9; got != want {
		t.Errorf("Set[pass_rate] after the caller's edit = %v, want %v", got, want)
	}
}

func TestNewSignoffErrors(t *testing.T) {
	prev := mustSignoff(t, "faq", ThresholdSet{"pass_rate": 0.9, "repeats": 3}, ActorBootstrap, "first sight", t0, nil)
	for _, tt := range []struct {
		name        string
		suite       string
		set         ThresholdSet
		by, reason  string
		prev        *Signoff
		wantErr     error // nil: any error
		wantSuccess bool
	}{
		{name: "empty reason", suite: "faq", set: ThresholdSet{"pass_rate": 0.8}, by: "alice", reason: "", prev: &prev, wantErr: ErrNoReason},
		{name: "blank reason", suite: "faq", set: ThresholdSet{"pass_rate": 0.8}, by: "alice", reason: " \t\n", prev: &prev, wantErr: ErrNoReason},
		{name: "empty by", suite: "faq", set: ThresholdSet{"pass_rate": 0.8}, by: "", reason: "why", prev: &prev, wantErr: ErrNoActor},
		{name: "blank by", suite: "faq", set: ThresholdSet{"pass_rate": 0.8}, by: "  ", reason: "why", prev: &prev, wantErr: ErrNoActor},
		{name: "unchanged", suite: "faq", set: ThresholdSet{"repeats": 3, "pass_rate": 0.9}, by: "alice", reason: "why", prev: &prev, wantErr: ErrUnchanged},
		{name: "no reason beats unchanged", suite: "faq", set: ThresholdSet{"repeats": 3, "pass_rate": 0.9}, by: "alice", reason: "", prev: &prev, wantErr: ErrNoReason},
		{name: "empty suite", suite: " ", set: ThresholdSet{}, by: "alice", reason: "why"},
		{name: "other suite's prev", suite: "chat", set: ThresholdSet{"pass_rate": 0.8}, by: "alice", reason: "why", prev: &prev},
		{name: "changed", suite: "faq", set: ThresholdSet{"pass_rate": 0.9}, by: "alice", reason: "why", prev: &prev, wantSuccess: true},
		{name: "empty set first", suite: "faq", set: nil, by: "alice", reason: "why", wantSuccess: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSignoff(tt.suite, tt.set, tt.by, tt.reason, t0, tt.prev)
			switch {
			case tt.wantSuccess:
				if err != nil {
					t.Errorf("NewSignoff() = %v, want nil", err)
				}
			case err == nil:
				t.Errorf("NewSignoff() = nil, want an error")
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("NewSignoff() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSignoffCheck(t *testing.T) {
	s := mustSignoff(t, "faq", ThresholdSet{"pass_rate": 0.9}, "alice", "why", t0, nil)
	s.Set["pass_rate"] = 0.5 // edited in the store
	if err := s.Check(); err == nil {
		t.Errorf("Check() of an edited set = nil, want an error")
	}
}

func TestDecide(t *testing.T) {
	signed := mustSignoff(t, "faq", ThresholdSet{"pass_rate": 0.9, "repeats": 3}, ActorBootstrap, "first sight", t0, nil)
	for _, tt := range []struct {
		name   string
		signed *Signoff
		file   ThresholdSet
		want   Decision
	}{
		{name: "first sight", signed: nil, file: ThresholdSet{"pass_rate": 0.9}, want: Decision{Kind: Adopt}},
		{name: "unchanged", signed: &signed, file: ThresholdSet{"repeats": 3, "pass_rate": 0.9}, want: Decision{Kind: InForce}},
		{
			name: "loosened", signed: &signed, file: ThresholdSet{"pass_rate": 0.8, "repeats": 3},
			want: Decision{Kind: Pending, Changes: []Change{{Key: "pass_rate", Old: ptr(0.9), New: ptr(0.8), Direction: Loosened}}},
		},
		{
			name: "tightened needs sign-off too", signed: &signed, file: ThresholdSet{"pass_rate": 0.95, "repeats": 3},
			want: Decision{Kind: Pending, Changes: []Change{{Key: "pass_rate", Old: ptr(0.9), New: ptr(0.95), Direction: Tightened}}},
		},
		{
			name: "removed", signed: &signed, file: ThresholdSet{"repeats": 3},
			want: Decision{Kind: Pending, Changes: []Change{{Key: "pass_rate", Old: ptr(0.9), Direction: Removed}}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Decide(tt.signed, tt.file)); diff != "" {
				t.Errorf("Decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Adopt: "adopt", InForce: "in_force", Pending: "pending", Kind(0): "Kind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

func TestEffective(t *testing.T) {
	file := faqSuite() // pass_rate 0.9, mean_score 0.85
	for _, tt := range []struct {
		name   string
		signed ThresholdSet
		suite  *evals.Suite
		want   evals.Thresholds
	}{
		{name: "signed values win", signed: ThresholdSet{"pass_rate": 0.95, "mean_score": 0.9}, suite: file, want: evals.Thresholds{PassRate: ptr(0.95), MeanScore: ptr(0.9)}},
		{name: "bar absent from the signed set is not enforced", signed: ThresholdSet{"pass_rate": 0.95}, suite: file, want: evals.Thresholds{PassRate: ptr(0.95)}},
		{name: "empty signed set enforces nothing", signed: ThresholdSet{}, suite: file, want: evals.Thresholds{}},
		{name: "never signed: the file's", signed: nil, suite: file, want: evals.Thresholds{PassRate: ptr(0.9), MeanScore: ptr(0.85)}},
		{name: "never signed, no suite", signed: nil, suite: nil, want: evals.Thresholds{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Effective(tt.signed, tt.suite)); diff != "" {
				t.Errorf("Effective() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEffectiveDoesNotAlias(t *testing.T) {
	signed := ThresholdSet{"pass_rate": 0.9}
	th := Effective(signed, faqSuite())
	*th.PassRate = 0.1
	if got, want := signed["pass_rate"], 0.9; got != want {
		t.Errorf("signed pass_rate after editing Effective's = %v, want %v", got, want)
	}
	s := faqSuite()
	th = Effective(nil, s)
	*th.PassRate = 0.1
	if got, want := *s.Thresholds.PassRate, 0.9; got != want {
		t.Errorf("suite pass_rate after editing Effective's = %v, want %v", got, want)
	}
}

func TestUnenforced(t *testing.T) {
	lev := AssertKey("refund-window", 2, "levenshtein")
	changes := Diff(
		ThresholdSet{"pass_rate": 0.9, "repeats": 3, lev: 10},
		ThresholdSet{"pass_rate": 0.8, "repeats": 3, lev: 12},
	)
	want := []Change{{Key: lev, Old: ptr(10), New: ptr(12), Direction: Loosened}}
	if diff := cmp.Diff(want, Unenforced(changes)); diff != "" {
		t.Errorf("Unenforced() mismatch (-want +got):\n%s", diff)
	}
}

func TestSignoffCommand(t *testing.T) {
	for _, tt := range []struct{ suite, want string }{
		{"faq", "evald signoff --by NAME --reason TEXT faq"},
		{"team/faq-v2", "evald signoff --by NAME --reason TEXT team/faq-v2"},
		{"my suite", "evald signoff --by NAME --reason TEXT 'my suite'"},
		{"bob's", `evald signoff --by NAME --reason TEXT 'bob'\''s'`},
		{"$(rm)", "evald signoff --by NAME --reason TEXT '$(rm)'"},
	} {
		if got := SignoffCommand(tt.suite); got != tt.want {
			t.Errorf("SignoffCommand(%q) = %s, want %s", tt.suite, got, tt.want)
		}
	}
}

func TestDroppedCases(t *testing.T) {
	got := DroppedCases([]string{"a", "b", "c", "d"}, []string{"d", "b", "e"})
	if diff := cmp.Diff([]string{"a", "c"}, got); diff != "" {
		t.Errorf("DroppedCases() mismatch (-want +got):\n%s", diff)
	}
	if got := DroppedCases([]string{"a"}, []string{"a", "b"}); got != nil {
		t.Errorf("DroppedCases() of a grown suite = %v, want nil", got)
	}
}
