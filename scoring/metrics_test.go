package scoring

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestLevenshtein(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "identical", spec: Spec{Type: "levenshtein", Value: "hello world"}, out: text("hello world"), pass: true},
		{name: "within default 5", spec: Spec{Type: "levenshtein", Value: "abcdefghij"}, out: text("abcde"), pass: true},
		{name: "beyond default 5", spec: Spec{Type: "levenshtein", Value: "abcdefghij"}, out: text("abcd"),
			reason: `levenshtein distance 6 is above threshold 5 (got "abcd")`},
		{name: "kitten sitting within 3", spec: Spec{Type: "levenshtein", Value: "kitten", Threshold: ptr(3)}, out: text("sitting"), pass: true},
		{name: "kitten sitting beyond 2", spec: Spec{Type: "levenshtein", Value: "kitten", Threshold: ptr(2)}, out: text("sitting"),
			reason: `levenshtein distance 3 is above threshold 2 (got "sitting")`},
		{name: "fractional threshold rounds down", spec: Spec{Type: "levenshtein", Value: "kitten", Threshold: ptr(2.9)}, out: text("sitting")},
		{name: "threshold 0 is exact match", spec: Spec{Type: "levenshtein", Value: "abc", Threshold: ptr(0)}, out: text("abd")},
		{name: "code points not bytes", spec: Spec{Type: "levenshtein", Value: "😀😀", Threshold: ptr(2)}, out: text(""), pass: true},
		{name: "code points beyond", spec: Spec{Type: "levenshtein", Value: "😀😀", Threshold: ptr(1)}, out: text("")},
		{name: "trailing newline costs one", spec: Spec{Type: "levenshtein", Value: "yes", Threshold: ptr(0)}, out: text("yes\n"),
			reason: `levenshtein distance 1 is above threshold 0 (got "yes\n")`},
		{name: "number value", spec: Spec{Type: "levenshtein", Value: 1234.0, Threshold: ptr(1)}, out: text("1235"), pass: true},
		{name: "empty value", spec: Spec{Type: "levenshtein", Value: "", Threshold: ptr(3)}, out: text("abc"), pass: true},
		{name: "long output", spec: Spec{Type: "levenshtein", Value: strings.Repeat("ab", 5000)}, out: text(strings.Repeat("ab", 4999) + "ba"), pass: true},
		{name: "long output beyond", spec: Spec{Type: "levenshtein", Value: strings.Repeat("ab", 5000)}, out: text(strings.Repeat("ab", 4990) + strings.Repeat("cd", 10)),
			reason: `levenshtein distance is above threshold 5 (got "` + strings.Repeat("ab", 40) + `…")`},
		{name: "not-levenshtein far", spec: Spec{Type: "not-levenshtein", Value: "kitten", Threshold: ptr(2)}, out: text("sitting"), pass: true},
		{name: "not-levenshtein near", spec: Spec{Type: "not-levenshtein", Value: "kitten", Threshold: ptr(3)}, out: text("sitting"),
			reason: `levenshtein distance 3 is not above threshold 3 (got "sitting")`},
	})
}

// naiveDistance is the textbook full-table Levenshtein distance.
func naiveDistance(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
		}
	}
	return d[len(a)][len(b)]
}

func TestBoundedDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() []rune {
		r := make([]rune, rng.IntN(12))
		for i := range r {
			r[i] = rune('a' + rng.IntN(3))
		}
		return r
	}
	for range 3000 {
		a, b, k := word(), word(), rng.IntN(8)
		want := naiveDistance(a, b)
		if got := editDistance(a, b); got != want {
			t.Fatalf("editDistance(%q, %q) = %d, want %d", string(a), string(b), got, want)
		}
		if got, want := boundedDistance(a, b, k), min(want, k+1); got != want {
			t.Fatalf("boundedDistance(%q, %q, %d) = %d, want %d", string(a), string(b), k, got, want)
		}
	}
}

func TestRouge(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "case and punctuation ignored", spec: Spec{Type: "rouge-n", Value: "hello world"}, out: text("Hello, World!"),
			pass: true, graded: true, score: 1},
		{name: "a repeated reference word counts once in the output", spec: Spec{Type: "rouge-n", Value: "the cat sat on the mat"},
			out: text("the cat sat on the mat"), pass: true, graded: true, score: 5.0 / 6},
		{name: "half the reference", spec: Spec{Type: "rouge-n", Value: "the quick brown fox"}, out: text("The fox jumps"),
			graded: true, score: 0.5, reason: `rouge-n score 0.50 is below threshold 0.75 (got "The fox jumps")`},
		{name: "custom threshold", spec: Spec{Type: "rouge-n", Value: "the quick brown fox", Threshold: ptr(0.5)}, out: text("The fox jumps"),
			pass: true, graded: true, score: 0.5},
		{name: "the final period is a word", spec: Spec{Type: "rouge-n", Value: "You have 30 days."}, out: text("you have 30 days"),
			pass: true, graded: true, score: 0.8},
		{name: "recall ignores extra output", spec: Spec{Type: "rouge-n", Value: "refund in 30 days"},
			out: text("Sure! A refund in 30 days, no questions asked, and free shipping too"), pass: true, graded: true, score: 1},
		{name: "empty output", spec: Spec{Type: "rouge-n", Value: "hello world"}, out: text(""),
			graded: true, score: 0, reason: "rouge-n score 0 is below threshold 0.75: empty output"},
		{name: "not-rouge-n on different text", spec: Spec{Type: "not-rouge-n", Value: "hello world"}, out: text("goodbye moon"),
			pass: true, graded: true, score: 1},
		{name: "not-rouge-n on a partial match", spec: Spec{Type: "not-rouge-n", Value: "the quick brown fox"}, out: text("the fox"),
			pass: true, graded: true, score: 0.5},
		{name: "not-rouge-n on the same text", spec: Spec{Type: "not-rouge-n", Value: "hello world"}, out: text("hello world"),
			graded: true, score: 0, reason: `rouge-n score 1.00 is not below threshold 0.75 (got "hello world")`},
	})
}

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{name: "words", in: "a  b\tc\nd", want: []string{"a", "b", "c", "d"}},
		{name: "punctuation", in: "hello, world!", want: []string{"hello", ",", "world", "!"}},
		{name: "final period", in: "in 30 days. ", want: []string{"in", "30", "days", "."}},
		{name: "final period before a quote", in: `he said "ok."`, want: []string{"he", "said", `"`, "ok", ".", `"`}},
		{name: "inner periods stay", in: "e.g. this is 3.5", want: []string{"e.g.", "this", "is", "3.5"}},
		{name: "ellipsis", in: "wait.. what... now", want: []string{"wait", "...", "what", "...", "now"}},
		{name: "dashes", in: "a--b - c", want: []string{"a", "--", "b", "-", "c"}},
		{name: "clitics", in: "don't it's we'll they're i'm", want: []string{"do", "n't", "it", "'s", "we", "'ll", "they", "'re", "i", "'m"}},
		{name: "closing quote", in: "the dogs' bone", want: []string{"the", "dogs", "'", "bone"}},
		{name: "brackets and symbols", in: "(x)[y]{z}<w> $5 50% a&b #1 @me;", want: []string{
			"(", "x", ")", "[", "y", "]", "{", "z", "}", "<", "w", ">", "$", "5", "50", "%", "a", "&", "b", "#", "1", "@", "me", ";"}},
		{name: "colon stays", in: "note: yes", want: []string{"note:", "yes"}},
		{name: "empty", in: "  ", want: nil},
		{name: "lone period", in: ".", want: []string{"."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tokenize(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("tokenize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestWordCount(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "exact", spec: Spec{Type: "word-count", Value: 3.0}, out: text("one two three"), pass: true},
		{name: "white space runs and ends", spec: Spec{Type: "word-count", Value: 3.0}, out: text("  one  two\tthree\n"), pass: true},
		{name: "no-break space separates", spec: Spec{Type: "word-count", Value: 2.0}, out: text("a\u00a0b"), pass: true},
		{name: "byte order mark separates", spec: Spec{Type: "word-count", Value: 2.0}, out: text("a\ufeffb"), pass: true},
		{name: "punctuation is not a word", spec: Spec{Type: "word-count", Value: 2.0}, out: text("Hello, world!"), pass: true},
		{name: "empty output has 0 words", spec: Spec{Type: "word-count", Value: 0.0}, out: text(""), pass: true},
		{name: "exact mismatch", spec: Spec{Type: "word-count", Value: 3.0}, out: text("one two"),
			reason: "expected a word count of exactly 3, got 2"},
		{name: "numeric string", spec: Spec{Type: "word-count", Value: "2"}, out: text("one two"), pass: true},
		{name: "min", spec: Spec{Type: "word-count", Value: map[string]any{"min": 2.0}}, out: text("one"),
			reason: "expected a word count of at least 2, got 1"},
		{name: "max", spec: Spec{Type: "word-count", Value: map[string]any{"max": 2.0}}, out: text("a b c"),
			reason: "expected a word count of at most 2, got 3"},
		{name: "range inclusive low", spec: Spec{Type: "word-count", Value: map[string]any{"min": 2.0, "max": 3.0}}, out: text("a b"), pass: true},
		{name: "range inclusive high", spec: Spec{Type: "word-count", Value: map[string]any{"min": 2.0, "max": 3.0}}, out: text("a b c"), pass: true},
		{name: "range above", spec: Spec{Type: "word-count", Value: map[string]any{"min": 2.0, "max": 3.0}}, out: text("a b c d"),
			reason: "expected a word count of between 2 and 3, got 4"},
		{name: "not-word-count", spec: Spec{Type: "not-word-count", Value: 3.0}, out: text("a b c"),
			reason: "expected a word count other than exactly 3, got 3"},
		{name: "not-word-count range", spec: Spec{Type: "not-word-count", Value: map[string]any{"max": 2.0}}, out: text("a b c"), pass: true},
	})
}

func TestLatency(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "fast", spec: Spec{Type: "latency", Threshold: ptr(1000)}, out: Output{Latency: 500 * ms}, pass: true},
		{name: "at the threshold", spec: Spec{Type: "latency", Threshold: ptr(1000)}, out: Output{Latency: 1000 * ms}, pass: true},
		{name: "slow", spec: Spec{Type: "latency", Threshold: ptr(1000)}, out: Output{Latency: 1500 * ms},
			reason: "latency 1500ms is above threshold 1000ms"},
		{name: "just over", spec: Spec{Type: "latency", Threshold: ptr(1000)}, out: Output{Latency: 1000*ms + 40_000},
			reason: "latency 1000ms is above threshold 1000ms"},
		{name: "not-latency fast", spec: Spec{Type: "not-latency", Threshold: ptr(1000)}, out: Output{Latency: 500 * ms},
			reason: "expected latency above 1000ms, got 500ms"},
		{name: "not-latency slow", spec: Spec{Type: "not-latency", Threshold: ptr(1000)}, out: Output{Latency: 2 * 1000 * ms}, pass: true},
	})
}

func TestCost(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "cheap", spec: Spec{Type: "cost", Threshold: ptr(0.01)}, out: Output{CostUSD: 0.005, CostKnown: true}, pass: true},
		{name: "free", spec: Spec{Type: "cost", Threshold: ptr(0.01)}, out: Output{CostUSD: 0, CostKnown: true}, pass: true},
		{name: "expensive", spec: Spec{Type: "cost", Threshold: ptr(0.01)}, out: Output{CostUSD: 0.0213, CostKnown: true},
			reason: "cost $0.0213 is above threshold $0.01"},
		{name: "unknown", spec: Spec{Type: "cost", Threshold: ptr(0.01)}, out: Output{},
			reason: "cost unknown: the target has no price configured"},
		{name: "not-cost unknown fails too", spec: Spec{Type: "not-cost", Threshold: ptr(0.01)}, out: Output{},
			reason: "cost unknown: the target has no price configured"},
		{name: "not-cost expensive", spec: Spec{Type: "not-cost", Threshold: ptr(0.01)}, out: Output{CostUSD: 0.02, CostKnown: true}, pass: true},
		{name: "not-cost cheap", spec: Spec{Type: "not-cost", Threshold: ptr(0.01)}, out: Output{CostUSD: 0.001, CostKnown: true},
			reason: "expected cost above $0.01, got $0.001"},
	})
}
