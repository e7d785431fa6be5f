package governance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/evald/evald/evals"
)

// Keys of the suite-level governed values.
const (
	KeyPassRate  = "pass_rate"
	KeyMeanScore = "mean_score"
	KeyMinEffect = "drift.min_effect"
	KeyRepeats   = "repeats"
)

// ThresholdSet is the governed values of a suite: every number that decides
// whether a run passes or pages, keyed by where it sits in the suite file.
//
//	pass_rate, mean_score                     thresholds.pass_rate / .mean_score
//	drift.min_effect                          the smallest drop worth a page
//	repeats                                   samples per case per run
//	tests[ID].assert[I](TYPE).threshold       an assertion's explicit threshold
//
// A key is absent when the file does not set the value. In an assertion key,
// ID is the case id and I the assertion's index in the case's resolved
// assertions (evals.Case.Asserts), which holds defaultTest's assertions
// first. A suite exposes only resolved cases, so a defaultTest threshold
// cannot be told from a case's own and is keyed once per case: changing it
// shows one change per case. An assertion without an explicit threshold
// (one whose type uses its default) has no key; writing one in is "added".
// A case id holding '[', ']', '"', '\\', a control character, or nothing at
// all is written Go-quoted (tests["a]b"]...), so keys stay unambiguous.
//
// The zero value (nil) is an empty set. Values are compared exactly.
type ThresholdSet map[string]float64

// AssertKey returns the key of the threshold of assertion index (0-based)
// of type typ in the case with the given id.
func AssertKey(caseID string, index int, typ string) string {
	return "tests[" + caseKey(caseID) + "].assert[" + strconv.Itoa(index) + "](" + typ + ").threshold"
}

// caseKey writes a case id as it appears in a key.
func caseKey(id string) string {
	if id == "" || strings.ContainsAny(id, `[]"\`) || strings.ContainsFunc(id, func(r rune) bool {
		return unicode.IsControl(r) || r == unicode.ReplacementChar
	}) {
		return strconv.Quote(id)
	}
	return id
}

// FromSuite returns the governed values of s as its file states them.
// A nil suite has an empty set.
func FromSuite(s *evals.Suite) ThresholdSet {
	set := ThresholdSet{}
	if s == nil {
		return set
	}
	if v := s.Thresholds.PassRate; v != nil {
		set[KeyPassRate] = *v
	}
	if v := s.Thresholds.MeanScore; v != nil {
		set[KeyMeanScore] = *v
	}
	if v := s.MinEffect; v != nil {
		set[KeyMinEffect] = *v
	}
	set[KeyRepeats] = float64(s.Repeats)
	for _, c := range s.Cases {
		for i, a := range c.Asserts {
			if a == nil {
				continue
			}
			spec := a.Spec()
			if spec.Threshold != nil {
				set[AssertKey(c.ID, i, spec.Type)] = *spec.Threshold
			}
		}
	}
	return set
}

// Lookup returns the value of key, or nil when the set does not hold it.
func (s ThresholdSet) Lookup(key string) *float64 {
	v, ok := s[key]
	if !ok {
		return nil
	}
	return &v
}

// Equal reports whether s and o hold the same keys with the same values
// (NaN equals NaN here, and -0 equals 0).
func (s ThresholdSet) Equal(o ThresholdSet) bool {
	if len(s) != len(o) {
		return false
	}
	for k, v := range s {
		w, ok := o[k]
		if !ok || !same(v, w) {
			return false
		}
	}
	return true
}

// same is value equality for governed values: NaN is the same as NaN.
func same(a, b float64) bool {
	return a == b || math.IsNaN(a) && math.IsNaN(b)
}

// Canonical returns the set's canonical encoding, the input of Hash: a JSON
// object with its keys in byte order, no white space, keys escaped as
// encoding/json escapes strings, and each value as
// its shortest round-tripping decimal (strconv 'g', -1; -0 is written 0).
// Values JSON cannot hold are written as the strings "NaN", "+Inf" and
// "-Inf" (a loaded suite never has them, but their hash must still differ).
// Equal sets have equal encodings whatever the order they were built in.
func (s ThresholdSet) Canonical() []byte {
	var b []byte
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(s)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendNumber(b, s[k])
	}
	return append(b, '}')
}

// Hash is the lowercase hex sha256 of the canonical encoding.
func (s ThresholdSet) Hash() string {
	sum := sha256.Sum256(s.Canonical())
	return hex.EncodeToString(sum[:])
}

func appendNumber(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Inf"`...)
	case v == 0:
		return append(b, '0')
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// appendJSONString appends s as encoding/json writes a string.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// ParseSet reads a set written by Canonical back.
func ParseSet(b []byte) (ThresholdSet, error) {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("threshold set: %w", err)
	}
	set := make(ThresholdSet, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case float64:
			set[k] = x
		case string:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return nil, fmt.Errorf("threshold set: %s: %q is not a number", k, x)
			}
			set[k] = f
		default:
			return nil, fmt.Errorf("threshold set: %s: %v is not a number", k, v)
		}
	}
	return set, nil
}
