package configs

import "github.com/evald/evald/evals"

// FieldError is one problem in evald.yaml or in a suite it names. It is
// evals.FieldError, so config and suite problems print and match alike:
//
//	evald.yaml:12: targets[0].timeout: must be a duration like 30s or 2m (got "30")
type FieldError = evals.FieldError

// The sentinels a FieldError wraps; the same values as evals'.
var (
	ErrSyntax     = evals.ErrSyntax
	ErrUnknownKey = evals.ErrUnknownKey
	ErrMissing    = evals.ErrMissing
	ErrType       = evals.ErrType
	ErrInvalid    = evals.ErrInvalid
	ErrDuplicate  = evals.ErrDuplicate
	ErrFile       = evals.ErrFile
)
