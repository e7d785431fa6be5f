package governance

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiffDirection(t *testing.T) {
	lev := AssertKey("refund-window", 1, "levenshtein")
	for _, tt := range []struct {
		name     string
		key      string
		old, new float64
		want     Direction
	}{
		{name: "pass_rate lowered", key: KeyPassRate, old: 0.9, new: 0.8, want: Loosened},
		{name: "pass_rate raised", key: KeyPassRate, old: 0.8, new: 0.9, want: Tightened},
		{name: "mean_score lowered", key: KeyMeanScore, old: 0.85, new: 0.7, want: Loosened},
		{name: "mean_score raised", key: KeyMeanScore, old: 0.7, new: 0.85, want: Tightened},
		{name: "min_effect raised", key: KeyMinEffect, old: 0.05, new: 0.1, want: Loosened},
		{name: "min_effect lowered", key: KeyMinEffect, old: 0.1, new: 0.05, want: Tightened},
		{name: "repeats lowered", key: KeyRepeats, old: 3, new: 1, want: Changed},
		{name: "repeats raised", key: KeyRepeats, old: 1, new: 3, want: Changed},
		{name: "levenshtein distance raised", key: lev, old: 10, new: 12, want: Loosened},
		{name: "levenshtein distance lowered", key: lev, old: 12, new: 10, want: Tightened},
		{name: "not-levenshtein raised", key: AssertKey("a", 0, "not-levenshtein"), old: 5, new: 8, want: Tightened},
		{name: "rouge-n raised", key: AssertKey("a", 0, "rouge-n"), old: 0.75, new: 0.8, want: Tightened},
		{name: "rouge-n lowered", key: AssertKey("a", 0, "rouge-n"), old: 0.8, new: 0.75, want: Loosened},
		{name: "not-rouge-n raised", key: AssertKey("a", 0, "not-rouge-n"), old: 0.5, new: 0.6, want: Loosened},
		{name: "similar lowered", key: AssertKey("a", 0, "similar"), old: 0.8, new: 0.7, want: Loosened},
		{name: "unknown graded type raised", key: AssertKey("a", 0, "llm-rubric"), old: 0.5, new: 0.7, want: Tightened},
		{name: "latency raised", key: AssertKey("a", 2, "latency"), old: 2000, new: 3000, want: Loosened},
		{name: "latency lowered", key: AssertKey("a", 2, "latency"), old: 3000, new: 2000, want: Tightened},
		{name: "cost raised", key: AssertKey("a", 0, "cost"), old: 0.01, new: 0.02, want: Loosened},
		{name: "perplexity raised", key: AssertKey("a", 0, "perplexity"), old: 10, new: 20, want: Loosened},
		{name: "quoted id with parens", key: AssertKey(`x(1)]`, 0, "latency"), old: 1, new: 2, want: Loosened},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(ThresholdSet{tt.key: tt.old}, ThresholdSet{tt.key: tt.new})
			want := []Change{{Key: tt.key, Old: ptr(tt.old), New: ptr(tt.new), Direction: tt.want}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Diff() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	rouge := AssertKey("b", 1, "rouge-n")
	lev2 := AssertKey("a", 2, "levenshtein")
	lev10 := AssertKey("a", 10, "levenshtein")
	for _, tt := range []struct {
		name         string
		signed, file ThresholdSet
		want         []Change
	}{
		{name: "equal", signed: ThresholdSet{"pass_rate": 0.9, "repeats": 3}, file: ThresholdSet{"repeats": 3, "pass_rate": 0.9}},
		{name: "both empty", signed: nil, file: ThresholdSet{}},
		{
			name:   "added and removed",
			signed: ThresholdSet{"pass_rate": 0.9, rouge: 0.75},
			file:   ThresholdSet{"pass_rate": 0.9, "mean_score": 0.85},
			want: []Change{
				{Key: "mean_score", New: ptr(0.85), Direction: Added},
				{Key: rouge, Old: ptr(0.75), Direction: Removed},
			},
		},
		{
			name:   "against nothing signed",
			signed: nil,
			file:   ThresholdSet{"pass_rate": 0.9},
			want:   []Change{{Key: "pass_rate", New: ptr(0.9), Direction: Added}},
		},
		{
			name:   "suite keys first then natural order",
			signed: ThresholdSet{lev10: 3, lev2: 3, "repeats": 3, "drift.min_effect": 0.05, "mean_score": 0.8, "pass_rate": 0.9},
			file:   ThresholdSet{lev10: 4, lev2: 2, "repeats": 1, "drift.min_effect": 0.1, "mean_score": 0.9, "pass_rate": 0.8},
			want: []Change{
				{Key: "pass_rate", Old: ptr(0.9), New: ptr(0.8), Direction: Loosened},
				{Key: "mean_score", Old: ptr(0.8), New: ptr(0.9), Direction: Tightened},
				{Key: "drift.min_effect", Old: ptr(0.05), New: ptr(0.1), Direction: Loosened},
				{Key: "repeats", Old: ptr(3), New: ptr(1), Direction: Changed},
				{Key: lev2, Old: ptr(3), New: ptr(2), Direction: Tightened},
				{Key: lev10, Old: ptr(3), New: ptr(4), Direction: Loosened},
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Diff(tt.signed, tt.file)); diff != "" {
				t.Errorf("Diff() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChangeString(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    Change
		want string
	}{
		{name: "two decimals", c: Change{Key: "pass_rate", Old: ptr(0.9), New: ptr(0.8), Direction: Loosened}, want: "pass_rate 0.90 -> 0.80 (loosened)"},
		{name: "more decimals when needed", c: Change{Key: "mean_score", Old: ptr(0.85), New: ptr(0.875), Direction: Tightened}, want: "mean_score 0.850 -> 0.875 (tightened)"},
		{name: "whole to fraction", c: Change{Key: "pass_rate", Old: ptr(1), New: ptr(0.9), Direction: Loosened}, want: "pass_rate 1.00 -> 0.90 (loosened)"},
		{name: "whole numbers", c: Change{Key: AssertKey("refund-window", 1, "levenshtein"), Old: ptr(10), New: ptr(12), Direction: Loosened}, want: "tests[refund-window].assert[1](levenshtein).threshold 10 -> 12 (loosened)"},
		{name: "added", c: Change{Key: "mean_score", New: ptr(0.85), Direction: Added}, want: "mean_score unset -> 0.85 (added)"},
		{name: "removed", c: Change{Key: "repeats", Old: ptr(3), Direction: Removed}, want: "repeats 3 -> unset (removed)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatDiff(t *testing.T) {
	changes := Diff(ThresholdSet{"pass_rate": 0.9, "repeats": 3}, ThresholdSet{"pass_rate": 0.8, "repeats": 5})
	want := "pass_rate 0.90 -> 0.80 (loosened)\nrepeats 3 -> 5 (changed)\n"
	if got := FormatDiff(changes); got != want {
		t.Errorf("FormatDiff() = %q, want %q", got, want)
	}
	if got := FormatDiff(nil); got != "" {
		t.Errorf("FormatDiff(nil) = %q, want \"\"", got)
	}
}

func TestNaturalCompare(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int // sign
	}{
		{"assert[2]", "assert[10]", -1},
		{"assert[10]", "assert[2]", 1},
		{"assert[1]", "assert[01]", -1},
		{"a", "b", -1},
		{"a", "a", 0},
		{"a", "ab", -1},
		{"tests[a9]", "tests[a10]", -1},
	} {
		got := naturalCompare(tt.a, tt.b)
		if sign(got) != tt.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}
