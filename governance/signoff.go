package governance

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/evald/evald/evals"
)

// Sentinel errors of NewSignoff and NewSilence.
var (
	// ErrNoActor: who made the change was not named.
	ErrNoActor = errors.New("who made the change is required (--by)")
	// ErrNoReason: why the change was made was not given.
	ErrNoReason = errors.New("a reason is required (--reason)")
	// ErrUnchanged: the set to sign off is the one already in force.
	ErrUnchanged = errors.New("thresholds unchanged: nothing to sign off")
)

// Signoff is a suite's signed-off threshold set: the values in force, their
// hash, who signed them off, when and why, and the hash of the set they
// replaced ("" for the first).
type Signoff struct {
	Suite    string       `json:"suite"`
	Set      ThresholdSet `json:"set"`
	Hash     string       `json:"hash"`
	By       string       `json:"by"`
	Reason   string       `json:"reason"`
	At       time.Time    `json:"at"`
	PrevHash string       `json:"prev_hash,omitempty"`
}

// NewSignoff records set as the signed-off thresholds of suite, replacing
// prev (nil for the first sign-off, the adoption on first sight). by and
// reason are trimmed; when either is empty it returns ErrNoActor or
// ErrNoReason, checked before anything else. When set equals prev's set it
// returns ErrUnchanged: signing off what is already in force records
// nothing. At is stored in UTC.
func NewSignoff(suite string, set ThresholdSet, by, reason string, at time.Time, prev *Signoff) (Signoff, error) {
	by, reason = strings.TrimSpace(by), strings.TrimSpace(reason)
	switch {
	case by == "":
		return Signoff{}, ErrNoActor
	case reason == "":
		return Signoff{}, ErrNoReason
	case strings.TrimSpace(suite) == "":
		return Signoff{}, errors.New("sign-off: empty suite name")
	case prev != nil && prev.Suite != suite:
		return Signoff{}, fmt.Errorf("sign-off of suite %q cannot replace suite %q's", suite, prev.Suite)
	case prev != nil && prev.Set.Equal(set):
		return Signoff{}, ErrUnchanged
	}
	set = maps.Clone(set)
	if set == nil {
		set = ThresholdSet{}
	}
	s := Signoff{Suite: suite, Set: set, Hash: set.Hash(), By: by, Reason: reason, At: at.UTC()}
	if prev != nil {
		s.PrevHash = prev.Hash
	}
	return s, nil
}

// Check reports whether the sign-off's hash is its set's hash, so that a
// stored sign-off whose values were edited is not trusted.
func (s Signoff) Check() error {
	if got := s.Set.Hash(); got != s.Hash {
		return fmt.Errorf("sign-off of suite %q: stored hash %.12s does not match its thresholds (%.12s): edited outside evald", s.Suite, s.Hash, got)
	}
	return nil
}

// Kind is what happens when a suite file is seen.
type Kind int

const (
	// Adopt: first sight of the suite; its thresholds become the signed-off
	// set (actor "bootstrap") and the adoption is audited.
	Adopt Kind = iota + 1
	// InForce: the file's thresholds are the signed-off ones.
	InForce
	// Pending: the file's thresholds differ from the signed-off ones.
	// `evald run` refuses (exit 3); `evald serve` keeps enforcing the
	// signed-off values, marks runs pending sign-off and alerts once.
	Pending
)

func (k Kind) String() string {
	switch k {
	case Adopt:
		return "adopt"
	case InForce:
		return "in_force"
	case Pending:
		return "pending"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Decision is the outcome of Decide. Changes lists what the file changes
// relative to the signed-off set; it is empty unless Kind is Pending.
type Decision struct {
	Kind    Kind
	Changes []Change
}

// Decide says what happens when a suite file with thresholds file is seen,
// given the suite's signed-off set (nil on first sight).
func Decide(signed *Signoff, file ThresholdSet) Decision {
	if signed == nil {
		return Decision{Kind: Adopt}
	}
	if ch := Diff(signed.Set, file); len(ch) > 0 {
		return Decision{Kind: Pending, Changes: ch}
	}
	return Decision{Kind: InForce}
}

// Effective returns the pass bars to enforce for a run of s: the signed-off
// pass_rate and mean_score (a bar absent from the signed set is not
// enforced, whatever the file says). With no signed set at all (nil: the
// suite has never been signed off, which Decide calls Adopt) the file's
// bars apply.
//
// Only these two bars can be substituted. Per-assertion thresholds are
// compiled into the suite's assertions and are not rewritten: when they
// differ from the signed set the run is marked pending sign-off and the
// differences are reported (Unenforced lists them). drift.min_effect and
// repeats are read from the signed set with Lookup.
func Effective(signed ThresholdSet, s *evals.Suite) evals.Thresholds {
	if signed == nil {
		if s == nil {
			return evals.Thresholds{}
		}
		return evals.Thresholds{PassRate: clone(s.Thresholds.PassRate), MeanScore: clone(s.Thresholds.MeanScore)}
	}
	return evals.Thresholds{PassRate: signed.Lookup(KeyPassRate), MeanScore: signed.Lookup(KeyMeanScore)}
}

// Unenforced returns the changes a run cannot undo by using the signed-off
// values: the per-assertion thresholds, which the suite's compiled
// assertions carry. A serve run with any of them pending scores with the
// file's assertion thresholds and must say so.
func Unenforced(changes []Change) []Change {
	var out []Change
	for _, c := range changes {
		if _, ok := assertType(c.Key); ok {
			out = append(out, c)
		}
	}
	return out
}

func clone(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// SignoffCommand returns the command that signs off suite's current
// thresholds, for `evald run` to print when it refuses, with the suite name
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
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@+=,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
