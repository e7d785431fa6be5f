package governance

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Direction is how a change moves a governed value.
type Direction string

// Directions of a Change. Which way is looser depends on the key (see
// direction.go); Changed is for values with no looser side (repeats).
const (
	Loosened  Direction = "loosened"
	Tightened Direction = "tightened"
	Changed   Direction = "changed"
	Added     Direction = "added"
	Removed   Direction = "removed"
)

// Change is one governed value that differs between a signed-off set and a
// suite file. Old is nil when the key is new (Added), New is nil when the
// file dropped it (Removed).
type Change struct {
	Key       string    `json:"key"`
	Old       *float64  `json:"old"`
	New       *float64  `json:"new"`
	Direction Direction `json:"direction"`
}

// Diff lists what file changes relative to signed, one Change per differing
// key: the suite-level keys first (pass_rate, mean_score, drift.min_effect,
// repeats), then the assertion keys in natural order (assert[2] before
// assert[10]). Two equal sets have no changes.
func Diff(signed, file ThresholdSet) []Change {
	var out []Change
	for _, k := range sortedKeys(signed, file) {
		o, inOld := signed[k]
		n, inNew := file[k]
		switch {
		case inOld && inNew:
			if !same(o, n) {
				out = append(out, Change{Key: k, Old: &o, New: &n, Direction: direction(k, o, n)})
			}
		case inNew:
			out = append(out, Change{Key: k, New: &n, Direction: Added})
		default:
			out = append(out, Change{Key: k, Old: &o, Direction: Removed})
		}
	}
	return out
}

// sortedKeys returns the union of the sets' keys in diff order.
func sortedKeys(a, b ThresholdSet) []string {
	all := maps.Clone(a)
	if all == nil {
		all = ThresholdSet{}
	}
	maps.Copy(all, b)
	rank := func(k string) int {
		switch k {
		case KeyPassRate:
			return 0
		case KeyMeanScore:
			return 1
		case KeyMinEffect:
			return 2
		case KeyRepeats:
			return 3
		}
		return 4
	}
	return slices.SortedFunc(maps.Keys(all), func(x, y string) int {
		if rx, ry := rank(x), rank(y); rx != ry {
			return rx - ry
		}
		return naturalCompare(x, y)
	})
}

// naturalCompare orders strings with runs of ASCII digits compared by value,
// then by length (so "01" follows "1"), and everything else byte by byte.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			if da != db {
				return da - db
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// String prints the change as a reviewer reads it:
//
//	pass_rate 0.90 -> 0.80 (loosened)
//	tests[refund-window].assert[1](levenshtein).threshold 10 -> 12 (loosened)
//	mean_score unset -> 0.85 (added)
//
// Both values get the same number of decimals: none when both are whole,
// else at least two and as many as either needs.
func (c Change) String() string {
	decimals := 0
	for _, v := range []*float64{c.Old, c.New} {
		if v != nil {
			decimals = max(decimals, decimalsOf(*v))
		}
	}
	if decimals > 0 {
		decimals = max(decimals, 2)
	}
	show := func(v *float64) string {
		if v == nil {
			return "unset"
		}
		if math.IsNaN(*v) || math.IsInf(*v, 0) {
			return strconv.FormatFloat(*v, 'g', -1, 64)
		}
		return strconv.FormatFloat(*v, 'f', decimals, 64)
	}
	return c.Key + " " + show(c.Old) + " -> " + show(c.New) + " (" + string(c.Direction) + ")"
}

// decimalsOf is the number of decimals v's shortest exact decimal needs.
func decimalsOf(v float64) int {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if _, frac, ok := strings.Cut(s, "."); ok {
		return len(frac)
	}
	return 0
}

// FormatDiff prints changes one per line, each line ending in a newline;
// no changes print as "".
func FormatDiff(changes []Change) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	return b.String()
}
