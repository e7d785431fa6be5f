package governance

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of NewRecordEntry and NewSilence.
var (
	// ErrNoActor: who made the change was not named.
	ErrNoActor = errors.New("who made the change is required (--by)")
	// ErrNoReason: why the change was made was not given.
	ErrNoReason = errors.New("a reason is required (--reason)")
	// ErrUnchanged: the set to sign off is the one already in force.
	ErrUnchanged = errors.New("governed set unchanged: nothing to sign off")
	// ErrSameSigner: governance.require_distinct_signer is set and the
	// signer is who made the change.
	ErrSameSigner = errors.New("the sign-off must come from someone other than who made the change (governance.require_distinct_signer)")
)

// Kind is what happens when a suite's files are seen.
type Kind int

const (
	// Unsigned means the record holds no sign-off of the suite (a new suite, or
	// a renamed one). `evald run` refuses (exit 3); `evald serve` runs the
	// files' bar, marks runs pending sign-off and alerts once.
	Unsigned Kind = iota + 1
	// InForce means the files state the signed-off set.
	InForce
	// Stricter means the files differ from the signed-off set only by changes
	// that can only tighten (see Diff); they run as written, and the
	// change is audited.
	Stricter
	// Pending means the files change the signed-off set in a way that needs a
	// sign-off. `evald run` refuses (exit 3); `evald serve` keeps
	// enforcing the signed-off set, marks runs pending sign-off and alerts
	// once.
	Pending
)

func (k Kind) String() string {
	switch k {
	case Unsigned:
		return "unsigned"
	case InForce:
		return "in_force"
	case Stricter:
		return "stricter"
	case Pending:
		return "pending"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Decision is the outcome of Decide. Changes lists what the files change
// relative to the signed-off set (none for InForce and Unsigned).
type Decision struct {
	Kind    Kind
	Changes []Change
}

// Decide says what happens when a suite whose files state the set file is
// seen, given the suite's signed-off set (nil: the record has none).
func Decide(signed *Set, file Set) Decision {
	if signed == nil {
		return Decision{Kind: Unsigned}
	}
	ch := Diff(*signed, file)
	switch {
	case len(ch) == 0:
		return Decision{Kind: InForce}
	case NeedsSignoff(ch):
		return Decision{Kind: Pending, Changes: ch}
	}
	return Decision{Kind: Stricter, Changes: ch}
}

// SignoffCommand returns the command that signs off suite's current
// governed set, for `evald run` to print when it refuses, with the suite name
// shell-quoted when it needs to be.
func SignoffCommand(suite string) string {
	args := SignoffArgs(suite)
	for i, a := range args {
		args[i] = ShellQuote(a)
	}
	return "evald signoff " + strings.Join(args, " ")
}

// SignoffArgs are the arguments of `evald signoff` for suite, with NAME
// and TEXT standing for who signs off and why; unquoted.
func SignoffArgs(suite string) []string {
	return []string{"--by", "NAME", "--reason", "TEXT", suite}
}

// ShellQuote quotes s for a POSIX shell unless it is made of safe
// characters, so that a printed command can be pasted as it is.
func ShellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && !strings.ContainsRune("-_./:@+=,", r) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
