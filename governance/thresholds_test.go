package governance

import (
	"math"
	"testing"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
	"github.com/google/go-cmp/cmp"
)

// spec is an assertion that only states its Spec; governance never checks
// outputs.
type spec scoring.Spec

func (s spec) Spec() scoring.Spec                  { return scoring.Spec(s) }
func (s spec) Check(scoring.Output) scoring.Result { return scoring.Result{} }

func ptr(v float64) *float64 { return &v }

func assert(typ string, threshold *float64) scoring.Assertion {
	return spec{Type: typ, Value: "x", Threshold: threshold, Weight: 1}
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
			{ID: "refund-window", Asserts: []scoring.Assertion{
				assert("not-icontains", nil),
				assert("contains", nil),
				assert("levenshtein", ptr(10)),
			}},
			{ID: "shipping", Asserts: []scoring.Assertion{
				assert("not-icontains", nil),
				assert("rouge-n", ptr(0.75)),
				assert("latency", ptr(2000)),
			}},
		},
	}
}

func TestFromSuite(t *testing.T) {
	for _, tt := range []struct {
		name  string
		suite *evals.Suite
		want  ThresholdSet
	}{
		{
			name:  "faq",
			suite: faqSuite(),
			want: ThresholdSet{
				"pass_rate":        0.9,
				"mean_score":       0.85,
				"drift.min_effect": 0.05,
				"repeats":          3,
				"tests[refund-window].assert[2](levenshtein).threshold": 10,
				"tests[shipping].assert[1](rouge-n).threshold":          0.75,
				"tests[shipping].assert[2](latency).threshold":          2000,
			},
		},
		{
			name:  "no thresholds",
			suite: &evals.Suite{Name: "bare", Repeats: 1, Cases: []evals.Case{{ID: "a", Asserts: []scoring.Assertion{assert("contains", nil)}}}},
			want:  ThresholdSet{"repeats": 1},
		},
		{
			name: "default test threshold keyed per case",
			suite: &evals.Suite{Name: "d", Repeats: 2, Cases: []evals.Case{
				{ID: "a", Asserts: []scoring.Assertion{assert("similar", ptr(0.8))}},
				{ID: "b", Asserts: []scoring.Assertion{assert("similar", ptr(0.8)), assert("cost", ptr(0.01))}},
			}},
			want: ThresholdSet{
				"repeats":                               2,
				"tests[a].assert[0](similar).threshold": 0.8,
				"tests[b].assert[0](similar).threshold": 0.8,
				"tests[b].assert[1](cost).threshold":    0.01,
			},
		},
		{name: "nil suite", suite: nil, want: ThresholdSet{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FromSuite(tt.suite)); diff != "" {
				t.Errorf("FromSuite() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAssertKey(t *testing.T) {
	for _, tt := range []struct {
		name, id, want string
	}{
		{name: "plain", id: "refund-window", want: "tests[refund-window].assert[1](levenshtein).threshold"},
		{name: "dots and spaces stay", id: "a.b c", want: "tests[a.b c].assert[1](levenshtein).threshold"},
		{name: "bracket quoted", id: "a]b", want: `tests["a]b"].assert[1](levenshtein).threshold`},
		{name: "quote quoted", id: `say "hi"`, want: `tests["say \"hi\""].assert[1](levenshtein).threshold`},
		{name: "newline quoted", id: "a\nb", want: `tests["a\nb"].assert[1](levenshtein).threshold`},
		{name: "invalid utf8 quoted", id: "a\xffb", want: `tests["a\xffb"].assert[1](levenshtein).threshold`},
		{name: "empty quoted", id: "", want: `tests[""].assert[1](levenshtein).threshold`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := AssertKey(tt.id, 1, "levenshtein"); got != tt.want {
				t.Errorf("AssertKey(%q, 1, levenshtein) = %s, want %s", tt.id, got, tt.want)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	set := ThresholdSet{
		"repeats":                                3,
		"pass_rate":                              0.9,
		"mean_score":                             -0.0,
		`tests["a<b"].assert[0](cost).threshold`: 1e-7,
		"z":                                      1e21,
	}
	want := `{"mean_score":0,"pass_rate":0.9,"repeats":3,"tests[\"a\u003cb\"].assert[0](cost).threshold":1e-07,"z":1e+21}`
	if got := string(set.Canonical()); got != want {
		t.Errorf("Canonical() = %s, want %s", got, want)
	}
	if got, want := string(ThresholdSet(nil).Canonical()), "{}"; got != want {
		t.Errorf("nil Canonical() = %s, want %s", got, want)
	}
}

func TestHashStable(t *testing.T) {
	base := faqSuite()
	reordered := faqSuite()
	reordered.Cases[0], reordered.Cases[1] = reordered.Cases[1], reordered.Cases[0]

	built := ThresholdSet{}
	for k, v := range FromSuite(base) {
		built[k] = v
	}
	baseHash := FromSuite(base).Hash()

	if got, want := len(baseHash), 64; got != want {
		t.Fatalf("len(Hash()) = %d, want %d", got, want)
	}
	if got, want := FromSuite(reordered).Hash(), baseHash; got != want {
		t.Errorf("Hash() with cases reordered = %s, want %s", got, want)
	}
	if got, want := built.Hash(), baseHash; got != want {
		t.Errorf("Hash() of a copy = %s, want %s", got, want)
	}
	for i := range 20 { // map iteration order varies between runs
		if got := FromSuite(base).Hash(); got != baseHash {
			t.Fatalf("Hash() attempt %d = %s, want %s", i, got, baseHash)
		}
	}
	if got, want := (ThresholdSet{"pass_rate": math.Copysign(0, -1)}).Hash(), (ThresholdSet{"pass_rate": 0}).Hash(); got != want {
		t.Errorf("Hash() of -0 = %s, want the hash of 0 %s", got, want)
	}

	changed := faqSuite()
	changed.Thresholds.PassRate = ptr(0.8)
	moved := faqSuite()
	moved.Cases[0].ID = "refund"
	for name, s := range map[string]ThresholdSet{
		"pass rate changed":    FromSuite(changed),
		"case renamed":         FromSuite(moved),
		"key dropped":          ThresholdSet{"pass_rate": 0.9},
		"NaN differs from Inf": ThresholdSet{"pass_rate": math.NaN()},
		"Inf differs from NaN": ThresholdSet{"pass_rate": math.Inf(1)},
		"subset of keys":       ThresholdSet{"pass_rate": 0.9, "mean_score": 0.85, "drift.min_effect": 0.05},
	} {
		if s.Hash() == baseHash {
			t.Errorf("%s: Hash() = the unchanged suite's hash", name)
		}
	}
	if a, b := (ThresholdSet{"x": math.NaN()}).Hash(), (ThresholdSet{"x": math.Inf(1)}).Hash(); a == b {
		t.Errorf("Hash() of NaN = Hash() of +Inf = %s", a)
	}
}

func TestEqual(t *testing.T) {
	for _, tt := range []struct {
		name string
		a, b ThresholdSet
		want bool
	}{
		{name: "both empty", a: nil, b: ThresholdSet{}, want: true},
		{name: "same", a: ThresholdSet{"a": 1, "b": 2}, b: ThresholdSet{"b": 2, "a": 1}, want: true},
		{name: "value differs", a: ThresholdSet{"a": 1}, b: ThresholdSet{"a": 2}, want: false},
		{name: "key differs", a: ThresholdSet{"a": 1}, b: ThresholdSet{"b": 1}, want: false},
		{name: "extra key", a: ThresholdSet{"a": 1}, b: ThresholdSet{"a": 1, "b": 1}, want: false},
		{name: "NaN equals NaN", a: ThresholdSet{"a": math.NaN()}, b: ThresholdSet{"a": math.NaN()}, want: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Equal(tt.b); got != tt.want {
				t.Errorf("%v.Equal(%v) = %t, want %t", tt.a, tt.b, got, tt.want)
			}
			if got := tt.b.Equal(tt.a); got != tt.want {
				t.Errorf("%v.Equal(%v) = %t, want %t", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	set := ThresholdSet{"pass_rate": 0.9}
	if got := set.Lookup("pass_rate"); got == nil || *got != 0.9 {
		t.Errorf("Lookup(pass_rate) = %v, want 0.9", got)
	}
	if got := set.Lookup("mean_score"); got != nil {
		t.Errorf("Lookup(mean_score) = %v, want nil", *got)
	}
}

func TestParseSetRoundTrip(t *testing.T) {
	set := ThresholdSet{KeyPassRate: 0.9, KeyRepeats: 3, "tests[a].assert[0](levenshtein).threshold": 5, "odd": math.NaN()}
	got, err := ParseSet(set.Canonical())
	if err != nil {
		t.Fatalf("ParseSet: %v", err)
	}
	if !got.Equal(set) || got.Hash() != set.Hash() {
		t.Errorf("ParseSet(Canonical(%v)) = %v, want the same set", set, got)
	}
	for _, bad := range []string{`[1]`, `{"a": "x"}`, `{"a": true}`, `not json`} {
		if _, err := ParseSet([]byte(bad)); err == nil {
			t.Errorf("ParseSet(%s) accepted it", bad)
		}
	}
}
