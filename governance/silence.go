package governance

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxSilence is the longest a silence may last. Thirty days covers a
// provider incident or a planned migration; anything longer is a suite
// nobody watches, which should be removed from the config (an audited
// change) rather than muted.
const MaxSilence = 30 * 24 * time.Hour

// ErrSilenceDuration says a silence must last more than zero and at most
// MaxSilence.
var ErrSilenceDuration = errors.New("silence duration must be above 0 and at most 720h (30 days)")

// Silence mutes the pages of one suite on one target from Start until
// Until. Runs and verdicts continue; only alerts are held back. ID is
// assigned by the store (0 until saved).
type Silence struct {
	ID     int64     `json:"id"`
	Suite  string    `json:"suite"`
	Target string    `json:"target"`
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	Start  time.Time `json:"start"`
	Until  time.Time `json:"until"`
}

// NewSilence returns a silence of suite on target by by, for reason, from
// start for d. by and reason are trimmed and required (ErrNoActor,
// ErrNoReason), as are suite and target; d must be in (0, MaxSilence]
// (ErrSilenceDuration). Times are stored in UTC.
func NewSilence(suite, target, by, reason string, start time.Time, d time.Duration) (Silence, error) {
	by, reason = strings.TrimSpace(by), strings.TrimSpace(reason)
	switch {
	case by == "":
		return Silence{}, ErrNoActor
	case reason == "":
		return Silence{}, ErrNoReason
	case strings.TrimSpace(suite) == "":
		return Silence{}, errors.New("silence: empty suite name")
	case strings.TrimSpace(target) == "":
		return Silence{}, errors.New("silence: empty target name (--target)")
	case d <= 0 || d > MaxSilence:
		return Silence{}, fmt.Errorf("%w (got %v)", ErrSilenceDuration, d)
	}
	start = start.UTC()
	return Silence{Suite: suite, Target: target, By: by, Reason: reason, Start: start, Until: start.Add(d)}, nil
}

// Active reports whether the silence mutes pages at now: from Start
// (included) to Until (excluded).
func (s Silence) Active(now time.Time) bool {
	return !now.Before(s.Start) && now.Before(s.Until)
}

// Silenced returns the silence in list that mutes suite on target at now,
// or nil. When several do, it returns the one that lasts longest (the
// first in list among equals). The result is a copy.
func Silenced(list []Silence, suite, target string, now time.Time) *Silence {
	var best *Silence
	for i := range list {
		s := &list[i]
		if s.Suite != suite || s.Target != target || !s.Active(now) {
			continue
		}
		if best == nil || s.Until.After(best.Until) {
			best = s
		}
	}
	if best == nil {
		return nil
	}
	c := *best
	return &c
}

// Expired returns the silences of list that ended in (since, now]: those
// whose expiry the daemon records (ActionSilenceExpired) at a tick at now,
// when the previous tick was at since.
func Expired(list []Silence, since, now time.Time) []Silence {
	var out []Silence
	for _, s := range list {
		if s.Until.After(since) && !s.Until.After(now) {
			out = append(out, s)
		}
	}
	return out
}
