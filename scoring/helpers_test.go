package scoring

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// checkCase is one row of a Check table: a spec, an output and the verdict.
// A failing row may give the exact reason; without one, any reason will do.
type checkCase struct {
	name   string
	spec   Spec
	out    Output
	pass   bool
	score  float64 // used when graded is set; else 1 for pass, 0 for fail
	graded bool
	reason string
}

func text(s string) Output { return Output{Text: s} }

func ptr(f float64) *float64 { return &f }

// runChecks compiles each row's spec (weight 1 unless set) and checks its
// output.
func runChecks(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			if spec.Weight == 0 {
				spec.Weight = 1
			}
			a, err := Compile(spec)
			if err != nil {
				t.Fatalf("Compile(%+v) error: %v", spec, err)
			}
			r := a.Check(c.out)
			want := Result{Type: spec.Type, Pass: c.pass, Weight: spec.Weight, Reason: r.Reason}
			switch {
			case c.graded:
				want.Score = c.score
			case c.pass:
				want.Score = 1
			}
			if c.reason != "" {
				want.Reason = c.reason
			}
			if diff := cmp.Diff(want, r, cmp.Comparer(approx)); diff != "" {
				t.Errorf("Check(%q) mismatch (-want +got):\n%s", truncate(c.out.Text, 60), diff)
			}
			if got := r.Reason != ""; got == r.Pass {
				t.Errorf("Check(%q) pass = %v with reason %q: want a reason exactly on failure", truncate(c.out.Text, 60), r.Pass, r.Reason)
			}
		})
	}
}

func approx(a, b float64) bool { return a == b || (a-b < 1e-9 && b-a < 1e-9) }

func mustCompile(tb testing.TB, s Spec) Assertion {
	tb.Helper()
	if s.Weight == 0 {
		s.Weight = 1
	}
	a, err := Compile(s)
	if err != nil {
		tb.Fatalf("Compile(%+v) error: %v", s, err)
	}
	return a
}

// prose is a typical support answer, used by benchmarks and fuzz seeds.
var prose = strings.Repeat("You have 30 days to return an item in its original packaging. ", 5) +
	`Here is the summary: {"window_days": 30, "needs_receipt": true, "channels": ["store", "mail"]}`

var ms = time.Millisecond
