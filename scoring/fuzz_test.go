package scoring

import (
	"math"
	"strings"
	"testing"
	"time"
)

// fuzzSpecs gives every type at least one spec, with the values that reach
// its less common paths (schemas, folding, lists, ranges).
func fuzzSpecs() []Spec {
	return []Spec{
		{Type: "equals", Value: "Paris"},
		{Type: "equals", Value: map[string]any{"a": 1.0, "b": []any{"x"}}},
		{Type: "contains", Value: "30 days"},
		{Type: "icontains", Value: "STRASSE"},
		{Type: "contains-any", Value: `"1,000", in stock, Σ`},
		{Type: "icontains-any", Value: []any{"ß", "k", 42.0}},
		{Type: "contains-all", Value: []any{"{", "}"}},
		{Type: "icontains-all", Value: "a,b,c,d,e,f,g"},
		{Type: "starts-with", Value: "Yes"},
		{Type: "regex", Value: `(?i)^\s*\{.*\}\s*$`},
		{Type: "is-json"},
		{Type: "is-json", Value: latLong},
		{Type: "contains-json"},
		{Type: "contains-json", Value: map[string]any{"type": "object", "required": []any{"name"}, "properties": map[string]any{"name": map[string]any{"format": "email"}}}},
		{Type: "levenshtein", Value: "You have 30 days to return an item."},
		{Type: "levenshtein", Value: "ab", Threshold: ptr(1e9)},
		{Type: "rouge-n", Value: "You have 30 days to return an item."},
		{Type: "word-count", Value: map[string]any{"min": 2.0, "max": 50.0}},
		{Type: "latency", Threshold: ptr(100)},
		{Type: "cost", Threshold: ptr(0.001)},
	}
}

// FuzzCheck runs model output of any shape through every assertion type,
// plain and negated, and checks the invariants of a Result.
func FuzzCheck(f *testing.F) {
	specs := fuzzSpecs()
	plain := make([]Assertion, len(specs))
	negated := make([]Assertion, len(specs))
	for i, s := range specs {
		plain[i] = mustCompile(f, s)
		s.Type = notPrefix + s.Type
		negated[i] = mustCompile(f, s)
	}
	for i := range specs {
		for _, seed := range []string{"", "Paris", prose, `{"name": "a@b.co"}`, "[[[[{", "\xff\xfe", "Die Straße ς \u212a", "  one  two\u00a0three\ufeff"} {
			f.Add(uint8(i), seed)
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, s string) {
		i := int(kind) % len(specs)
		out := Output{
			Text:      s,
			Latency:   time.Duration(len(s)) * time.Millisecond,
			CostUSD:   float64(len(s)) * 1e-5,
			CostKnown: len(s)%2 == 0,
		}
		r := plain[i].Check(out)
		n := negated[i].Check(out)
		for _, res := range []Result{r, n} {
			checkResult(t, res, s)
		}
		if again := plain[i].Check(out); again != r {
			t.Errorf("%s: Check(%q) = %+v, then %+v: want the same result", r.Type, s, r, again)
		}
		if r.Type == "cost" && !out.CostKnown {
			if r.Pass || n.Pass {
				t.Errorf("cost with unknown cost: pass %v, not- pass %v, want both false", r.Pass, n.Pass)
			}
			return
		}
		if r.Pass == n.Pass || !approx(r.Score+n.Score, 1) {
			t.Errorf("%s: Check(%q) = %+v and not- form = %+v: want opposite verdicts and scores summing to 1", r.Type, s, r, n)
		}
	})
}

func checkResult(t *testing.T, r Result, in string) {
	t.Helper()
	if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
		t.Errorf("%s: Check(%q) score = %v, want in [0,1]", r.Type, in, r.Score)
	}
	if got := r.Reason != ""; got == r.Pass {
		t.Errorf("%s: Check(%q) pass = %v, reason %q: want a reason exactly on failure", r.Type, in, r.Pass, r.Reason)
	}
	if strings.HasPrefix(r.Reason, "internal error") || strings.Contains(r.Reason, "\n") || len(r.Reason) > 2000 {
		t.Errorf("%s: Check(%q) reason = %q, want one short line", r.Type, in, r.Reason)
	}
	if r.Weight != 1 {
		t.Errorf("%s: Check(%q) weight = %v, want 1", r.Type, in, r.Weight)
	}
}

// FuzzCompile feeds arbitrary text to every type as its value, alone and in
// a list: Compile must return an assertion or an error, and the assertion
// must then judge the same text without trouble.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{"", "a(b", `"a, b`, "type: object", `{"$ref": "#"}`, "3", " , ", "{min: 1}", "\xff"} {
		f.Add(uint8(0), seed)
	}
	types := Types()
	f.Fuzz(func(t *testing.T, kind uint8, s string) {
		typ := types[int(kind)%len(types)]
		for _, v := range []any{s, []any{s, "x"}, map[string]any{"min": float64(len(s)), "type": s}} {
			a, err := Compile(Spec{Type: typ, Value: v, Weight: 1})
			if err != nil {
				if !strings.HasPrefix(err.Error(), typ+": ") {
					t.Errorf("Compile(%s, %q) error = %q, want it to start with the type", typ, v, err)
				}
				continue
			}
			checkResult(t, a.Check(Output{Text: s, CostKnown: true}), s)
		}
	})
}

// TestCheckConcurrent shares each compiled assertion between goroutines, as
// the runner does; the race detector checks that Check keeps no state.
func TestCheckConcurrent(t *testing.T) {
	for _, s := range fuzzSpecs() {
		a := mustCompile(t, s)
		want := a.Check(text(prose))
		done := make(chan Result)
		for range 4 {
			go func() { done <- a.Check(text(prose)) }()
		}
		for range 4 {
			if got := <-done; got != want {
				t.Errorf("%s: concurrent Check = %+v, want %+v", s.Type, got, want)
			}
		}
	}
}
