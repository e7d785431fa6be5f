package governance

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// spec is an assertion that only states its Spec; governance never checks
// outputs.
type spec scoring.Spec

func (s spec) Spec() scoring.Spec                  { return scoring.Spec(s) }
func (s spec) Check(scoring.Output) scoring.Result { return scoring.Result{} }

func ptr(v float64) *float64 { return &v }

func as(typ string, value any, threshold *float64) scoring.Assertion {
	return spec{Type: typ, Value: value, Threshold: threshold, Weight: 1}
}

// faqSuite is the suite of DESIGN.md's example: a defaultTest assertion
// first in every case, then the case's own.
func faqSuite() *evals.Suite {
	return &evals.Suite{
		Name:       "faq",
		Repeats:    3,
		Thresholds: evals.Thresholds{PassRate: ptr(0.9), MeanScore: ptr(0.85)},
		MinEffect:  ptr(0.05),
		Cases: []evals.Case{
			{ID: "refund-window", Vars: map[string]any{"question": "How long?"}, Asserts: []scoring.Assertion{
				as("not-icontains", "as an ai", nil),
				as("contains", "30 days", nil),
				as("levenshtein", "You have 30 days to return an item.", ptr(10)),
			}},
			{ID: "shipping", Vars: map[string]any{"question": "When?"}, Asserts: []scoring.Assertion{
				as("not-icontains", "as an ai", nil),
				as("rouge-n", "3 to 5 business days", ptr(0.75)),
			}},
		},
	}
}

func TestCanonicalIgnoresOrder(t *testing.T) {
	a := faqSuite()
	b := faqSuite()
	b.Cases[0], b.Cases[1] = b.Cases[1], b.Cases[0]
	as := b.Cases[1].Asserts
	as[0], as[2] = as[2], as[0]
	if ga, gb := FromSuite(a, nil).Hash(), FromSuite(b, nil).Hash(); ga != gb {
		t.Errorf("hash depends on the order of cases or assertions: %s vs %s", ga, gb)
	}
	set := FromSuite(a, nil)
	back, err := ParseSet(set.Canonical())
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(set) || back.Hash() != set.Hash() {
		t.Errorf("ParseSet(Canonical()) = %s, want %s", back.Canonical(), set.Canonical())
	}
}

// TestDiffClassifies walks every kind of change in docs/formats.md's
// "Governed thresholds" table.
func TestDiffClassifies(t *testing.T) {
	judge := &JudgeRef{Target: "grader", Model: "gpt-4o"}
	graded := func(s *evals.Suite) {
		a, err := scoring.Compile(scoring.Spec{Type: "llm-rubric", Value: "is polite", Threshold: ptr(0.7), Weight: 1})
		if err != nil {
			t.Fatal(err)
		}
		s.Cases[1].Asserts = append(s.Cases[1].Asserts, a)
	}
	for _, tt := range []struct {
		name   string
		edit   func(s *evals.Suite)
		judge  *JudgeRef
		want   string // the diff's lines
		signed bool   // whether it needs a sign-off
	}{
		{"pass_rate lowered", func(s *evals.Suite) { s.Thresholds.PassRate = ptr(0.8) }, nil, "pass_rate 0.90 -> 0.80 (loosened)", true},
		{"pass_rate raised", func(s *evals.Suite) { s.Thresholds.PassRate = ptr(0.95) }, nil, "pass_rate 0.90 -> 0.95 (tightened)", false},
		{"mean_score removed", func(s *evals.Suite) { s.Thresholds.MeanScore = nil }, nil, "mean_score 0.85 -> unset (removed)", true},
		{"min_effect raised", func(s *evals.Suite) { s.MinEffect = ptr(0.1) }, nil, "drift.min_effect 0.05 -> 0.10 (loosened)", true},
		{"min_effect lowered", func(s *evals.Suite) { s.MinEffect = ptr(0.02) }, nil, "drift.min_effect 0.05 -> 0.02 (tightened)", false},
		{"min_effect removed", func(s *evals.Suite) { s.MinEffect = nil }, nil, "drift.min_effect 0.05 -> unset (changed)", true},
		{"repeats raised", func(s *evals.Suite) { s.Repeats = 5 }, nil, "repeats 3 -> 5 (changed)", true},
		{"case deleted", func(s *evals.Suite) { s.Cases = s.Cases[:1] }, nil, "tests[shipping] case with 2 assertions -> absent (removed)", true},
		{"case added", func(s *evals.Suite) {
			s.Cases = append(s.Cases, evals.Case{ID: "warranty", Asserts: []scoring.Assertion{as("contains", "two-year", nil)}})
		}, nil, "tests[warranty] absent -> case with 1 assertion (added, needs sign-off)", true},
		{"case vars changed", func(s *evals.Suite) { s.Cases[1].Vars = map[string]any{"question": "easier?"} }, nil, "tests[shipping].vars", true},
		{"assertion value loosened", func(s *evals.Suite) { s.Cases[0].Asserts[1] = as("contains", "days", nil) }, nil,
			"tests[refund-window].assert(contains \"30 days\") contains \"30 days\" -> absent (removed)\ntests[refund-window].assert(contains \"days\") absent -> contains \"days\" (added, needs sign-off)", true},
		{"contains to icontains", func(s *evals.Suite) { s.Cases[0].Asserts[1] = as("icontains", "30 days", nil) }, nil, "(contains \"30 days\") contains \"30 days\" -> absent (removed)", true},
		{"regex made optional", func(s *evals.Suite) { s.Cases[0].Asserts[1] = as("regex", "(30 days)?", nil) }, nil, "(removed)", true},
		{"assertion removed", func(s *evals.Suite) { s.Cases[0].Asserts = s.Cases[0].Asserts[:2] }, nil,
			"tests[refund-window].assert(levenshtein \"You have 30 days to return an item.\") levenshtein \"You have 30 days to return an item.\" threshold 10 -> absent (removed)", true},
		{"weight lowered", func(s *evals.Suite) {
			s.Cases[0].Asserts[1] = spec{Type: "contains", Value: "30 days", Weight: 0.1}
		}, nil, "tests[refund-window].assert(contains \"30 days\") contains \"30 days\" -> contains \"30 days\" weight 0.1 (changed)", true},
		{"flipped to not-", func(s *evals.Suite) { s.Cases[0].Asserts[1] = as("not-contains", "30 days", nil) }, nil, "not-contains", true},
		{"levenshtein threshold raised", func(s *evals.Suite) {
			s.Cases[0].Asserts[2] = as("levenshtein", "You have 30 days to return an item.", ptr(12))
		}, nil, "threshold 10 -> 12 (loosened)", true},
		{"levenshtein threshold lowered", func(s *evals.Suite) {
			s.Cases[0].Asserts[2] = as("levenshtein", "You have 30 days to return an item.", ptr(5))
		}, nil, "threshold 10 -> 5 (tightened)", false},
		{"rouge-n threshold raised", func(s *evals.Suite) { s.Cases[1].Asserts[1] = as("rouge-n", "3 to 5 business days", ptr(0.8)) }, nil, "threshold 0.75 -> 0.80 (tightened)", false},
		{"threshold taken out", func(s *evals.Suite) { s.Cases[1].Asserts[1] = as("rouge-n", "3 to 5 business days", nil) }, nil, "threshold 0.75 -> unset (changed)", true},
		{"weight-0 assertion added", func(s *evals.Suite) {
			s.Cases[0].Asserts = append(s.Cases[0].Asserts, spec{Type: "not-contains", Value: "sorry", Weight: 0})
		}, nil, "absent -> not-contains \"sorry\" weight 0 (added)", false},
		{"scored assertion added under a mean_score bar", func(s *evals.Suite) {
			s.Cases[0].Asserts = append(s.Cases[0].Asserts, as("not-contains", "sorry", nil))
		}, nil, "(added, needs sign-off)", true},
		{"judge model changed", graded, &JudgeRef{Target: "grader", Model: "gpt-4o-mini"}, "judge grader (model gpt-4o) -> grader (model gpt-4o-mini) (changed)", true},
		{"judge prompt replaced", func(s *evals.Suite) {
			p, err := scoring.ParseJudgePrompt("llm-rubric", "[system]\nBe kind.\n[user]\n<Rubric>anything</Rubric> ignore: {{rubric}}\n<Output>{{output}}</Output>")
			if err != nil {
				t.Fatal(err)
			}
			a, err := scoring.Compile(scoring.Spec{Type: "llm-rubric", Value: "is polite", Threshold: ptr(0.7), Weight: 1, JudgePrompts: scoring.NewJudgePrompts(p)})
			if err != nil {
				t.Fatal(err)
			}
			graded(s)
			s.Cases[1].Asserts[len(s.Cases[1].Asserts)-1] = a
		}, judge, "-> llm-rubric \"is polite\" threshold 0.7 judge prompts sha256 ", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			old, cur := faqSuite(), faqSuite()
			oj := (*JudgeRef)(nil)
			if tt.judge != nil {
				graded(old)
				oj = judge
			}
			tt.edit(cur)
			ch := Diff(FromSuite(old, oj), FromSuite(cur, tt.judge))
			got := FormatDiff(ch)
			if !strings.Contains(got, tt.want) {
				t.Errorf("Diff =\n%s\nwant it to hold %q", got, tt.want)
			}
			if g := NeedsSignoff(ch); g != tt.signed {
				t.Errorf("NeedsSignoff = %v, want %v; diff:\n%s", g, tt.signed, got)
			}
			if tt.signed {
				want := Pending
				if d := Decide(new(FromSuite(old, oj)), FromSuite(cur, tt.judge)); d.Kind != want {
					t.Errorf("Decide = %v, want %v", d.Kind, want)
				}
			}
		})
	}
}

func TestCaseAddedWithoutRateBars(t *testing.T) {
	old, cur := faqSuite(), faqSuite()
	for _, s := range []*evals.Suite{old, cur} {
		s.Thresholds = evals.Thresholds{}
	}
	cur.Cases = append(cur.Cases, evals.Case{ID: "warranty", Asserts: []scoring.Assertion{as("contains", "two-year", nil)}})
	d := Decide(new(FromSuite(old, nil)), FromSuite(cur, nil))
	if d.Kind != Stricter {
		t.Errorf("Decide(a case added, no rate bars) = %v, want %v: %s", d.Kind, Stricter, FormatDiff(d.Changes))
	}
}

func TestDecide(t *testing.T) {
	set := FromSuite(faqSuite(), nil)
	if d := Decide(nil, set); d.Kind != Unsigned {
		t.Errorf("Decide(nil) = %v, want unsigned", d.Kind)
	}
	if d := Decide(&set, set); d.Kind != InForce || len(d.Changes) != 0 {
		t.Errorf("Decide(same) = %+v, want in force", d)
	}
	s := faqSuite()
	s.Thresholds.PassRate = ptr(0.95)
	if d := Decide(&set, FromSuite(s, nil)); d.Kind != Stricter || len(d.Changes) != 1 {
		t.Errorf("Decide(raised) = %+v, want stricter", d)
	}
	if got := Unsigned.String() + "," + Pending.String(); got != "unsigned,pending" {
		t.Errorf("Kind strings = %s", got)
	}
}

func mustEntry(t testing.TB, prev *RecordEntry, suite string, set Set, by string, at time.Time) RecordEntry {
	t.Helper()
	e, err := NewRecordEntry(prev, suite, set, by, "Alice <alice@example.com>", "reviewed in #12", at)
	if err != nil {
		t.Fatalf("NewRecordEntry: %v", err)
	}
	return e
}

func TestRecordRoundTrip(t *testing.T) {
	s := faqSuite()
	a := mustEntry(t, nil, "faq", FromSuite(s, nil), "alice", t0)
	other := mustEntry(t, nil, "tone", FromSuite(nil, nil), "bob", t0)
	s.Thresholds.PassRate = ptr(0.8)
	b := mustEntry(t, &a, "faq", FromSuite(s, nil), "alice", t0.Add(time.Hour))
	file := string(a.Marshal()) + "\n" + string(other.Marshal()) + string(b.Marshal())
	r, err := ParseRecord([]byte(file), "evald.signoffs")
	if err != nil {
		t.Fatalf("ParseRecord: %v", err)
	}
	got := r.Latest("faq")
	if got == nil || got.Hash != b.Hash || got.Line != 4 || got.Prev != a.Hash || !got.Set.Equal(FromSuite(s, nil)) {
		t.Errorf("Latest(faq) = %+v, want the second faq entry at line 4", got)
	}
	if r.Latest("faq2") != nil {
		t.Errorf("a renamed suite has an entry")
	}
	if _, err := NewRecordEntry(got, "faq", FromSuite(s, nil), "carol", "", "again", t0); !errors.Is(err, ErrUnchanged) {
		t.Errorf("signing off the same set = %v, want ErrUnchanged", err)
	}
	for _, tt := range []struct{ by, reason string }{{" ", "x"}, {"x", ""}} {
		if _, err := NewRecordEntry(nil, "faq", Set{}, tt.by, "", tt.reason, t0); err == nil {
			t.Errorf("NewRecordEntry(by %q, reason %q) accepted", tt.by, tt.reason)
		}
	}
}

func TestRecordTamper(t *testing.T) {
	s := faqSuite()
	a := mustEntry(t, nil, "faq", FromSuite(s, nil), "alice", t0)
	s.Thresholds.PassRate = ptr(0.8)
	b := mustEntry(t, &a, "faq", FromSuite(s, nil), "alice", t0.Add(time.Hour))
	s.Thresholds.PassRate = ptr(0.5)
	c := mustEntry(t, &b, "faq", FromSuite(s, nil), "alice", t0.Add(2*time.Hour))
	la, lb, lc := string(a.Marshal()), string(b.Marshal()), string(c.Marshal())
	for _, tt := range []struct{ name, file, want string }{
		{"edited set", la + strings.Replace(lb, `"pass_rate":0.8`, `"pass_rate":0.1`, 1), "evald.signoffs:2: set_hash"},
		{"edited by", la + strings.Replace(lb, `"by":"alice"`, `"by":"bob"`, 1), "evald.signoffs:2: hash"},
		{"resealed set hash", la + strings.Replace(strings.Replace(lb, `"pass_rate":0.8`, `"pass_rate":0.1`, 1), b.SetHash, func() string {
			x := b.Set
			x.PassRate = ptr(0.1)
			return x.Hash()
		}(), 1), "evald.signoffs:2: hash"},
		{"middle removed", la + lc, "evald.signoffs:2: prev"},
		{"first removed", lb + lc, "evald.signoffs:1: prev"},
		{"reordered", la + lc + lb, "evald.signoffs:2: prev"},
		{"not json", la + "{oops\n", "evald.signoffs:2: not a sign-off entry"},
		{"unknown field", strings.Replace(la, `{"suite"`, `{"x":1,"suite"`, 1), "evald.signoffs:1: not a sign-off entry"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRecord([]byte(tt.file), "evald.signoffs")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseRecord = %v, want an error holding %q", err, tt.want)
			}
		})
	}
	big := make([]byte, MaxRecordBytes+1)
	if _, err := ParseRecord(big, "evald.signoffs"); err == nil || !strings.Contains(err.Error(), "evald.signoffs: larger than") {
		t.Errorf("ParseRecord(too big) = %v", err)
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

// BenchmarkDecide measures the check every run makes: the governed set of
// a 1000-case suite with three assertions a case, diffed with a signed-off
// set that differs in one threshold.
func BenchmarkDecide(b *testing.B) {
	mk := func(bar float64) *evals.Suite {
		s := &evals.Suite{Name: "big", Repeats: 3, Thresholds: evals.Thresholds{PassRate: ptr(bar)}}
		for i := range 1000 {
			s.Cases = append(s.Cases, evals.Case{ID: "case-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strconvItoa(i), Vars: map[string]any{"q": i},
				Asserts: []scoring.Assertion{as("not-icontains", "as an ai", nil), as("contains", "30 days", nil), as("rouge-n", "You have 30 days to return an item.", ptr(0.7))}})
		}
		return s
	}
	signed := FromSuite(mk(0.9), nil)
	file := mk(0.8)
	b.ResetTimer()
	for b.Loop() {
		if d := Decide(&signed, FromSuite(file, nil)); d.Kind != Pending {
			b.Fatal(d.Kind)
		}
	}
}

func strconvItoa(i int) string { return strconv.Itoa(i) }
