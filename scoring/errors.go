package scoring

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// specError is a Compile error: its text is a sentence for humans, and it
// matches one of the package's sentinels with errors.Is.
type specError struct {
	msg  string
	kind error
}

func (e *specError) Error() string { return e.msg }
func (e *specError) Unwrap() error { return e.kind }

func specErr(kind error, format string, args ...any) error {
	return &specError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// badValue reports an unusable Spec.Value; want says what would do.
func badValue(s Spec, format string, args ...any) error {
	why := fmt.Sprintf(format, args...)
	if s.Value == nil {
		return specErr(ErrBadValue, "%s: missing value: %s", s.Type, why)
	}
	return specErr(ErrBadValue, "%s: invalid value %s: %s", s.Type, show(s.Value), why)
}

// noValue rejects a value on the types that take none.
func noValue(s Spec, hint string) error {
	if s.Value == nil {
		return nil
	}
	return badValue(s, "%s takes no value; %s", base(s.Type), hint)
}

// badThreshold reports an unusable Spec.Threshold.
func badThreshold(s Spec, format string, args ...any) error {
	why := fmt.Sprintf(format, args...)
	if s.Threshold == nil {
		return specErr(ErrBadThreshold, "%s: missing threshold: %s", s.Type, why)
	}
	return specErr(ErrBadThreshold, "%s: invalid threshold %s: %s", s.Type, show(*s.Threshold), why)
}

// noThreshold rejects a threshold on the types that do not use one
// (promptfoo ignores it silently; a threshold that does nothing is a mistake
// worth hearing about).
func noThreshold(s Spec) error {
	if s.Threshold == nil {
		return nil
	}
	return badThreshold(s, "%s takes no threshold", base(s.Type))
}

// threshold returns the spec's threshold, or def when it has none, checking
// that it is finite and within [lo, hi].
func threshold(s Spec, def, lo, hi float64, rule string) (float64, error) {
	if s.Threshold == nil {
		return def, nil
	}
	t := *s.Threshold
	if math.IsNaN(t) || t < lo || t > hi {
		return 0, badThreshold(s, "%s", rule)
	}
	return t, nil
}

// requiredThreshold returns a threshold that must be present, finite and
// above zero (latency and cost; promptfoo refuses a missing or zero one).
func requiredThreshold(s Spec, unit string) (float64, error) {
	if s.Threshold == nil {
		return 0, badThreshold(s, "set the maximum %s", unit)
	}
	t := *s.Threshold
	if math.IsNaN(t) || math.IsInf(t, 0) || t <= 0 {
		return 0, badThreshold(s, "must be a number above 0 (%s)", unit)
	}
	return t, nil
}

func base(typ string) string { return strings.TrimPrefix(typ, notPrefix) }

// unknownType names the type and, when one is close, the type the user
// probably meant.
func unknownType(typ string) error {
	b := base(typ)
	best, bestD := "", 3
	for _, k := range Types() {
		if d := editDistance([]rune(b), []rune(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" || b == "" {
		return specErr(ErrUnknownType, "unknown assertion type %s", show(typ))
	}
	return specErr(ErrUnknownType, "unknown assertion type %s (did you mean %q?)", show(typ), typ[:len(typ)-len(b)]+best)
}

// show renders a value for an error message: short, on one line.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return quote(x, 60)
	case bool:
		return fmt.Sprint(x)
	}
	if f, ok := number(v); ok {
		return jsNumber(f)
	}
	if f, ok := v.(float64); ok { // NaN or infinite
		return fmt.Sprint(f)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return truncate(fmt.Sprintf("%v", v), 60)
	}
	return truncate(string(b), 60)
}
