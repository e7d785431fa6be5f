package evals

import (
	"errors"

	"github.com/evald/evald/internal/strictyaml"
)

// Sentinel errors. A FieldError wraps one of them (or an error from
// scoring.Compile), so callers can branch with errors.Is. The first six are
// strictyaml's, which the decoding of suites and configs shares.
var (
	// ErrSyntax: the file is not valid YAML, JSON or CSV.
	ErrSyntax = strictyaml.ErrSyntax
	// ErrUnknownKey: a key the schema does not know (a typo, usually).
	ErrUnknownKey = strictyaml.ErrUnknownKey
	// ErrMissing: a required field is absent or empty.
	ErrMissing = strictyaml.ErrMissing
	// ErrType: a value of the wrong kind (a list where a number belongs).
	ErrType = strictyaml.ErrType
	// ErrInvalid: a value of the right kind but out of range or malformed.
	ErrInvalid = strictyaml.ErrInvalid
	// ErrDuplicate: a name or id that must be unique is not.
	ErrDuplicate = strictyaml.ErrDuplicate
	// ErrFile: a file:// reference cannot be read.
	ErrFile = errors.New("cannot read file")
	// ErrMissingVar: a {{var}} template names a var the case does not have.
	ErrMissingVar = errors.New("missing var")
	// ErrTemplate: a {{...}} expression other than a plain var name.
	ErrTemplate = errors.New("unsupported template")
)

// FieldError is one problem in a suite or config file. It prints as
//
//	suites/faq.yaml:14: tests[2].assert[0].threshold: must be in [0,1] (got 1.5)
//
// File is the path as the user gave it (or the name inside the fs.FS), Line
// is 1-based (0 when unknown), Field is the path to the offending value
// (empty for whole-file problems), Value is the offending value as written
// (empty when it adds nothing) and Err says what is wrong. Err wraps one of
// the sentinels of this package or of scoring.
type FieldError = strictyaml.FieldError

// Problems gathers FieldErrors so that a loader reports every problem at
// once (Err reports a hundred at most). The zero value is ready to use.
type Problems = strictyaml.Problems

// Because returns an error that prints as the formatted message and matches
// kind with errors.Is. It lets the configs package (and tests) build
// FieldErrors with the same sentinels.
func Because(kind error, format string, args ...any) error {
	return strictyaml.Because(kind, format, args...)
}

// maxProblems caps the problems reported for one file.
const maxProblems = strictyaml.MaxProblems
