package drift

import (
	"math"
	"time"
)

// Defaults of docs/drift.md §1.
const (
	DefaultMinEffect = 0.05 // d_min: 5 pp for pass rates, 0.05 for [0,1] mean scores
	DefaultZGuard    = 2.0  // z_g: baseline-uncertainty guard
	DefaultBMin      = 3    // reference runs before alerts start
	DefaultBMax      = 20   // reference runs at which the reference freezes
	DefaultARL0      = 8760 // runs between false alarms: hourly runs, one per year
	DefaultAlpha     = 0.01 // level of the known-change-point check
	DefaultM         = 6    // looks of the known-change-point check
)

// Year is the default false-alarm budget: one false page per suite per year.
const Year = 365 * 24 * time.Hour

// Config tunes the detector of one (suite, target, metric). The zero value
// means all defaults: a zero (or negative) field takes its default, except
// ZGuard, where a negative value switches the guard off (0 means 2).
type Config struct {
	// MinEffect is d_min, the smallest drop worth a page (suite override:
	// drift.min_effect).
	MinEffect float64 `json:"min_effect,omitempty"`
	// ZGuard is z_g. Negative disables the guard (diagnostics only).
	ZGuard float64 `json:"z_guard,omitempty"`
	// BMin and BMax bound the anchored reference, in eligible runs.
	BMin int `json:"b_min,omitempty"`
	BMax int `json:"b_max,omitempty"`
	// ARL0 is the false-alarm budget in runs (see [ARL0For]); H = ln ARL0.
	ARL0 float64 `json:"arl0,omitempty"`
	// Alpha and M are the level and number of looks of the
	// known-change-point check that follows an identity change.
	Alpha float64 `json:"alpha,omitempty"`
	M     int     `json:"m,omitempty"`
	// Binary selects the tests for 0/1 scores (pass rates: CMH/McNemar);
	// false means continuous scores in [0,1] (mean score: paired t). Keep
	// one State per metric.
	Binary bool `json:"binary,omitempty"`
	// FixedPhi, when ≥ 1, replaces the measured over-dispersion φ
	// (diagnostics: FixedPhi = 1 switches the run-noise guard off).
	FixedPhi float64 `json:"fixed_phi,omitempty"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config { return Config{}.WithDefaults() }

// WithDefaults returns c with unset fields replaced by the defaults.
func (c Config) WithDefaults() Config {
	if !(c.MinEffect > 0) {
		c.MinEffect = DefaultMinEffect
	}
	switch {
	case c.ZGuard == 0:
		c.ZGuard = DefaultZGuard
	case c.ZGuard < 0:
		c.ZGuard = 0
	}
	if c.BMin <= 0 {
		c.BMin = DefaultBMin
	}
	if c.BMax <= 0 {
		c.BMax = DefaultBMax
	}
	c.BMax = max(c.BMax, c.BMin)
	if !(c.ARL0 > 1) {
		c.ARL0 = DefaultARL0
	}
	if !(c.Alpha > 0 && c.Alpha < 1) {
		c.Alpha = DefaultAlpha
	}
	if c.M <= 0 {
		c.M = DefaultM
	}
	return c
}

// H returns the CUSUM threshold ln(ARL0).
func (c Config) H() float64 { return math.Log(c.WithDefaults().ARL0) }

// ARL0For converts a schedule interval and a false-alarm budget (the time
// one false page may take, e.g. [Year]) into ARL0 in runs: hourly runs and
// one false page per year give 8760 (H = 9.08). With many suites, divide
// the fleet budget by the number of suites first. A non-positive interval
// or budget gives the default.
func ARL0For(interval, budget time.Duration) float64 {
	if interval <= 0 || budget <= 0 {
		return DefaultARL0
	}
	return math.Max(float64(budget)/float64(interval), 2)
}
