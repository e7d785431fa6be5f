package strictyaml

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinel errors. A FieldError wraps one of them (or an error of the
// caller's), so callers can branch with errors.Is.
var (
	// ErrSyntax: the file is not valid YAML, JSON or CSV.
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownKey: a key the schema does not know (a typo, usually).
	ErrUnknownKey = errors.New("unknown key")
	// ErrMissing: a required field is absent or empty.
	ErrMissing = errors.New("missing")
	// ErrType: a value of the wrong kind (a list where a number belongs).
	ErrType = errors.New("wrong type")
	// ErrInvalid: a value of the right kind but out of range or malformed.
	ErrInvalid = errors.New("invalid value")
	// ErrDuplicate: a name or id that must be unique is not.
	ErrDuplicate = errors.New("duplicate")
)

// FieldError is one problem in a suite or config file. It prints as
//
//	suites/faq.yaml:14: tests[2].assert[0].threshold: must be in [0,1] (got 1.5)
//
// File is the path as the user gave it (or the name inside the fs.FS), Line
// is 1-based (0 when unknown), Field is the path to the offending value
// (empty for whole-file problems), Value is the offending value as written
// (empty when it adds nothing) and Err says what is wrong. Err wraps a
// sentinel (of this package, or one of the caller's such as evals.ErrFile
// or an error of scoring).
type FieldError struct {
	File  string
	Line  int
	Field string
	Value string
	Err   error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.Value != "" {
		fmt.Fprintf(&b, " (got %s)", e.Value)
	}
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// reason is an error whose text is a human sentence and which wraps a
// sentinel, so "must be in [0,1]" still matches errors.Is(err, ErrInvalid).
type reason struct {
	msg  string
	kind error
}

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return r.kind }

// Because returns an error that prints as the formatted message and matches
// kind with errors.Is.
func Because(kind error, format string, args ...any) error {
	return &reason{msg: fmt.Sprintf(format, args...), kind: kind}
}

// MaxProblems caps the problems Err reports: a dataset of ten thousand rows
// that all miss the same var says so a hundred times, not ten thousand.
const MaxProblems = 100

// Problems gathers FieldErrors so that a loader reports every problem at
// once. The zero value is ready to use.
type Problems struct {
	list []*FieldError
	seen map[string]bool
}

// Add records a problem; an identical one (same text) is recorded once.
func (p *Problems) Add(e *FieldError) {
	key := e.Error()
	if p.seen[key] {
		return
	}
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	p.seen[key] = true
	p.list = append(p.list, e)
}

// Addf records a problem built from its parts.
func (p *Problems) Addf(file string, line int, field, value string, kind error, format string, args ...any) {
	p.Add(&FieldError{File: file, Line: line, Field: field, Value: value, Err: Because(kind, format, args...)})
}

// Len is the number of problems recorded.
func (p *Problems) Len() int { return len(p.list) }

// Err returns the problems joined with errors.Join (nil when there are none),
// ordered by file (in order of first appearance) and line, and capped at
// MaxProblems per call.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	order := map[string]int{}
	for _, e := range p.list {
		if _, ok := order[e.File]; !ok {
			order[e.File] = len(order)
		}
	}
	sorted := slices.Clone(p.list)
	slices.SortStableFunc(sorted, func(a, b *FieldError) int {
		if c := order[a.File] - order[b.File]; c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	errs := make([]error, 0, min(len(sorted), MaxProblems)+1)
	for i, e := range sorted {
		if i == MaxProblems {
			errs = append(errs, fmt.Errorf("... and %d more problems", len(sorted)-MaxProblems))
			break
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}
