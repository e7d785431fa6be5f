package alerts

import (
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evald/evald/drift"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
)

// Kind is what an alert is about. One incident is open at most per
// (suite, target, kind).
type Kind string

// Alert kinds.
const (
	// KindRegression: the drift detector raised an alarm (drift.KindRegressed
	// or drift.KindProviderChanged).
	KindRegression Kind = "regression"
	// KindScorerChanged: the drift detector raised an alarm attributed to
	// the judge alone (drift.KindScorerChanged): the grades moved because
	// the model that grades changed, not the model under test.
	KindScorerChanged Kind = "scorer_changed"
	// KindThresholdFailure: a completed run missed a signed-off pass bar.
	KindThresholdFailure Kind = "threshold_failure"
	// KindCouldNotMeasure: the run could not be completed (endpoint errors
	// beyond the run's error budget).
	KindCouldNotMeasure Kind = "could_not_measure"
	// KindIdentityChanged: the provider returned another model or system
	// fingerprint. Information, never a page.
	KindIdentityChanged Kind = "identity_changed"
	// KindThresholdChangePending: the suite file's thresholds differ from the
	// signed-off ones. Information, sent once.
	KindThresholdChangePending Kind = "threshold_change_pending"
	// KindBudgetExhausted: the suite's daily budget is spent; scheduled runs
	// stop until tomorrow.
	KindBudgetExhausted Kind = "budget_exhausted"
	// KindConfigReloadFailed: a reload was refused and the old config stays
	// in force. Suite and target are empty.
	KindConfigReloadFailed Kind = "config_reload_failed"
	// KindAuditAppended: a governance change was appended to the audit
	// log. The event carries the log's new head (Audit), so that a copy of
	// it lives outside the database: every entry is one more update of the
	// one open incident. Information, never a page. Suite and target are
	// empty.
	KindAuditAppended Kind = "audit_appended"
	// KindMissedRun: a scheduled (suite, target) has gone longer than
	// alerts.missed_after without a completed run: the scheduler is stuck,
	// the pair cannot start, or every run errors or hangs past its
	// deadline. It resolves when a run of the pair completes.
	KindMissedRun Kind = "missed_run"
	// KindBehaviourChanged: the drift detector's behaviour signals moved
	// (cases both ways with the mean unchanged, answer length,
	// distinct-answer share, refusal share or latency) with no page on the
	// mean. Information, never a page.
	KindBehaviourChanged Kind = "behaviour_changed"
)

// Kinds lists every kind, in the order the daemon evaluates them.
var Kinds = []Kind{KindRegression, KindScorerChanged, KindThresholdFailure, KindCouldNotMeasure, KindIdentityChanged, KindBehaviourChanged,
	KindThresholdChangePending, KindBudgetExhausted, KindConfigReloadFailed, KindJudgeCalibrationFailed, KindAuditAppended, KindMissedRun}

// Severity says whether an event pages (a top-level message that wants a
// human now, re-sent every renotify interval while open) or informs (sent
// once, closed without a resolution message).
type Severity string

// Severities.
const (
	SeverityPage Severity = "page"
	SeverityInfo Severity = "info"
)

// Severity returns the kind's default severity.
func (k Kind) Severity() Severity {
	switch k {
	case KindIdentityChanged, KindThresholdChangePending, KindAuditAppended, KindBehaviourChanged:
		return SeverityInfo
	}
	return SeverityPage
}

// Title names the kind for people.
func (k Kind) Title() string {
	switch k {
	case KindRegression:
		return "Regression"
	case KindScorerChanged:
		return "Scorer changed"
	case KindThresholdFailure:
		return "Threshold failed"
	case KindCouldNotMeasure:
		return "Could not measure"
	case KindIdentityChanged:
		return "Provider identity changed"
	case KindThresholdChangePending:
		return "Threshold change pending sign-off"
	case KindBudgetExhausted:
		return "Daily budget exhausted"
	case KindConfigReloadFailed:
		return "Config reload failed"
	case KindJudgeCalibrationFailed:
		return "Judge calibration failed"
	case KindAuditAppended:
		return "Audit log"
	case KindBehaviourChanged:
		return "Behaviour changed"
	case KindMissedRun:
		return "Run missed"
	}
	return string(k)
}

// Event is one occurrence of an alert condition with the facts a person
// needs to act on it. The daemon builds it from the run, the drift verdict
// and governance; alerts only carries and renders it. Every string may be
// untrusted (model output, provider names) and is escaped when rendered.
type Event struct {
	Kind Kind `json:"kind"`
	// Severity defaults to Kind.Severity() (see Normalize).
	Severity Severity  `json:"severity"`
	Suite    string    `json:"suite,omitempty"`
	Target   string    `json:"target,omitempty"`
	RunID    int64     `json:"run_id,omitempty"`
	At       time.Time `json:"at"`
	// Summary is one human sentence (for a regression, drift's
	// Verdict.Message).
	Summary string `json:"summary,omitempty"`
	// Regression holds the statistics of a regression (KindRegression).
	Regression *Regression `json:"regression,omitempty"`
	// Identity is what changed on the provider side. For a regression, nil
	// means no identity change: a silent provider change or an incident.
	Identity *Identity `json:"identity,omitempty"`
	Versions Versions  `json:"versions"`
	// Flipped lists up to MaxFlipped cases that passed before and fail now.
	Flipped           []FlippedCase            `json:"flipped,omitempty"`
	ThresholdFailures []evals.ThresholdFailure `json:"threshold_failures,omitempty"`
	// PendingChanges are the threshold changes awaiting sign-off.
	PendingChanges []governance.Change `json:"pending_changes,omitempty"`
	// Calibration is the evidence of a failed judge calibration
	// (KindJudgeCalibrationFailed).
	Calibration *Calibration `json:"calibration,omitempty"`
	// Error is the cause of a could-not-measure, budget or reload event; it
	// must not hold secrets (the daemon passes redacted errors).
	Error string `json:"error,omitempty"`
	// RunURL links to the run on the dashboard (empty without
	// server.public_url); see RunURL.
	RunURL string `json:"run_url,omitempty"`
	// Behaviour is the evidence of a KindBehaviourChanged event: every
	// signal at the look that moved, and the cases that moved most each way.
	Behaviour *drift.BehaviourStatus `json:"behaviour,omitempty"`
	// Audit is the audit log's head after the entry a KindAuditAppended
	// event reports.
	Audit *AuditHead `json:"audit,omitempty"`
}

// AuditHead is the audit log's head as an alert carries it: the last
// entry's seq and hash, the chain's mode, and what the entry recorded.
type AuditHead struct {
	Seq    int64  `json:"seq"`
	Hash   string `json:"hash"`
	Mode   string `json:"mode"`
	Action string `json:"action"`
	Actor  string `json:"actor"`
}

// Regression is the evidence of a drift alarm. The p-value describes: the
// run was selected by the detector (PValueLabel says so).
type Regression struct {
	// Metric is "pass rate" or "mean score".
	Metric string `json:"metric"`
	// Before and After are the reference and the runs since the change
	// point, with 95 % Wilson intervals (nil when the verdict carried no
	// pooled evidence, as on runs after the one that paged).
	Before *Rate `json:"before,omitempty"`
	After  *Rate `json:"after,omitempty"`
	// Delta = After − Before (negative is worse), with its 95 % interval.
	Delta     float64 `json:"delta"`
	DeltaLow  float64 `json:"delta_ci_low"`
	DeltaHigh float64 `json:"delta_ci_high"`
	// PValue is the one-sided p-value of a drop, Test the test used.
	PValue      float64 `json:"p_value"`
	PValueLabel string  `json:"p_value_label"`
	Test        string  `json:"test,omitempty"`
	// ChangeRun is the first run after the estimated change point,
	// RunsSinceChange the runs pooled since then, ReferenceRuns the runs
	// they were compared with, Cases the paired cases.
	ChangeRun       int64 `json:"change_run,omitempty"`
	RunsSinceChange int   `json:"runs_since_change"`
	ReferenceRuns   int   `json:"reference_runs"`
	Cases           int   `json:"cases"`
	PassToFail      int   `json:"pass_to_fail"`
	FailToPass      int   `json:"fail_to_pass"`
	// Attribution is drift's: "provider (identity changed at run N)",
	// "scorer (...)" or "silent provider change or provider incident".
	Attribution string `json:"attribution"`
	// Reference lists the reference runs the change was measured against,
	// with when each finished (on the run that paged), so that a reader can
	// see that no run of the change is among them.
	Reference []RunRef `json:"reference,omitempty"`
}

// RunRef is a run and when it finished (zero: unknown).
type RunRef struct {
	Run int64     `json:"run"`
	At  time.Time `json:"at,omitzero"`
}

// referenceText describes the reference runs for people, as drift does.
func referenceText(refs []RunRef) string {
	runs := make([]drift.RefRun, len(refs))
	for i, r := range refs {
		runs[i] = drift.RefRun{Run: r.Run, At: r.At}
	}
	return drift.DescribeRuns(runs)
}

// Rate is a proportion with its 95 % interval.
type Rate struct {
	Value float64 `json:"value"`
	Low   float64 `json:"ci_low"`
	High  float64 `json:"ci_high"`
	N     int     `json:"n"`
}

// Identity is a change of provider identity.
type Identity struct {
	// Run is the run where the identity changed.
	Run     int64         `json:"run"`
	Changes []SourceShift `json:"changes"`
}

// judgeOnly reports whether only the judge's identity changed.
func (id *Identity) judgeOnly() bool {
	if id == nil || len(id.Changes) == 0 {
		return false
	}
	for _, c := range id.Changes {
		if c.Source != "judge" {
			return false
		}
	}
	return true
}

// SourceShift is the identity change of one source: "target" (the model
// under test) or "judge" (the grader).
type SourceShift struct {
	Source string       `json:"source"`
	Reason string       `json:"reason"`
	Before Distribution `json:"before"`
	After  Distribution `json:"after"`
}

// Distribution counts responses per returned model and system fingerprint.
type Distribution struct {
	Models       map[string]int `json:"models,omitempty"`
	Fingerprints map[string]int `json:"fingerprints,omitempty"`
}

// Versions are the content hashes that say what produced a run.
type Versions struct {
	Prompt     string `json:"prompt,omitempty"`
	Suite      string `json:"suite,omitempty"`
	Target     string `json:"target,omitempty"`
	Thresholds string `json:"thresholds,omitempty"`
}

// FlippedCase is a case that passed in the reference and fails now, with
// a passing output from the reference and a failing one from the run that
// paged ("" when that side had none). All three texts are model or user
// data: never markup.
type FlippedCase struct {
	ID       string `json:"id"`
	Input    string `json:"input"`
	Baseline string `json:"baseline_output"`
	Current  string `json:"current_output"`
}

// Limits on what an event carries: MaxFlipped cases, each text cut to
// MaxTextRunes in the stored payload (Slack shows SlackTextRunes of it).
const (
	MaxFlipped   = 5
	MaxTextRunes = 2000
)

// NoIdentityChange is said of a regression with no provider identity change.
const NoIdentityChange = "no identity change: silent provider change or incident"

// Key identifies the incident an event belongs to.
func (e *Event) Key() Key { return Key{Suite: e.Suite, Target: e.Target, Kind: e.Kind} }

// Normalize fills defaults and enforces the limits: the kind's severity,
// UTC times, at most MaxFlipped flipped cases and texts of at most
// MaxTextRunes. It returns a copy.
func (e Event) Normalize() Event {
	if e.Severity == "" {
		e.Severity = e.Kind.Severity()
	}
	e.At = e.At.UTC()
	if len(e.Flipped) > MaxFlipped {
		e.Flipped = e.Flipped[:MaxFlipped]
	}
	e.Flipped = slices.Clone(e.Flipped)
	for i := range e.Flipped {
		f := &e.Flipped[i]
		f.Input, f.Baseline, f.Current = Truncate(f.Input, MaxTextRunes), Truncate(f.Baseline, MaxTextRunes), Truncate(f.Current, MaxTextRunes)
	}
	e.Summary = Truncate(e.Summary, MaxTextRunes)
	e.Error = Truncate(e.Error, MaxTextRunes)
	e.Calibration = e.Calibration.normalize()
	return e
}

// digest is what makes a repeat worth an update: the kind of news, not the
// numbers, which move on every run.
func (e *Event) digest() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|", e.Kind, e.Severity)
	if r := e.Regression; r != nil {
		b.WriteString(r.Attribution)
	}
	b.WriteByte('|')
	if e.Identity != nil {
		for _, c := range e.Identity.Changes {
			b.WriteString(c.Source + ":" + c.Reason + ";")
		}
	}
	b.WriteByte('|')
	for _, f := range e.ThresholdFailures {
		b.WriteString(f.Metric + ";")
	}
	b.WriteByte('|')
	for _, c := range e.PendingChanges {
		b.WriteString(c.Key + "=" + fmtPtr(c.New) + c.NewText + ";")
	}
	b.WriteByte('|')
	b.WriteString(e.Error)
	b.WriteByte('|')
	b.WriteString(e.Calibration.digest())
	if a := e.Audit; a != nil {
		fmt.Fprintf(&b, "|%d:%s", a.Seq, a.Hash)
	}
	return b.String()
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

// NewRegression builds the regression event of a drift verdict: Kind
// regression with drift's message, attribution and, on the run that paged,
// the pooled evidence with 95 % Wilson intervals for the reference and the
// runs since the change point. identity is the provider identity change
// the attribution refers to (drift's State.Identity.Last; nil: none).
// Versions, flipped cases (the first MaxFlipped of
// v.Evidence.Pooled.PassToFail) and the run URL are the caller's to fill.
func NewRegression(suite, target string, v drift.Verdict, identity *drift.IdentityChange, at time.Time) Event {
	ev := Event{
		Kind: KindRegression, Suite: suite, Target: target, RunID: v.RunID, At: at,
		Summary: v.Message,
	}
	r := &Regression{
		Metric: "pass rate", Delta: v.D, PValue: v.P, PValueLabel: drift.EvidenceLabel, Test: v.Test,
		ChangeRun: v.ChangeRun, ReferenceRuns: v.RefRuns, Cases: v.N, Attribution: v.Attribution,
	}
	// The run's own interval comes from the same test as its p-value.
	r.DeltaLow, r.DeltaHigh = v.CILow, v.CIHigh
	if e := v.Evidence; e != nil {
		p := e.Pooled
		r.Before, r.After = wilson(p.Reference, p.N), wilson(p.Current, p.N)
		r.Delta, r.DeltaLow, r.DeltaHigh = p.Delta, p.CILow, p.CIHigh
		r.PValue, r.Test, r.Cases = p.PDrop, p.Test, p.N
		r.ChangeRun, r.RunsSinceChange, r.ReferenceRuns = e.FromRun, e.Runs, e.RefRuns
		r.PassToFail, r.FailToPass = p.NPassToFail, p.NFailToPass
		for _, ref := range e.Reference {
			r.Reference = append(r.Reference, RunRef{Run: ref.Run, At: ref.At.UTC()})
		}
	}
	ev.Regression = r
	if identity != nil && r.Attribution != drift.AttributionSilent {
		ev.Identity = NewIdentity(identity)
	}
	return ev
}

// NewScorerChange builds the event of a drift alarm attributed to the
// judge (drift.KindScorerChanged): a regression event of kind
// KindScorerChanged, with the same evidence and the judge's identity
// change.
func NewScorerChange(suite, target string, v drift.Verdict, identity *drift.IdentityChange, at time.Time) Event {
	ev := NewRegression(suite, target, v, identity, at)
	ev.Kind = KindScorerChanged
	return ev
}

// NewIdentity converts drift's identity change.
func NewIdentity(c *drift.IdentityChange) *Identity {
	if c == nil {
		return nil
	}
	id := &Identity{Run: c.Run}
	for _, s := range c.Changes {
		id.Changes = append(id.Changes, SourceShift{
			Source: s.Source, Reason: s.Reason,
			Before: Distribution{Models: maps.Clone(s.Before.Models), Fingerprints: maps.Clone(s.Before.Fingerprints)},
			After:  Distribution{Models: maps.Clone(s.After.Models), Fingerprints: maps.Clone(s.After.Fingerprints)},
		})
	}
	return id
}

// wilson is the 95 % Wilson interval of a rate measured over n cases.
func wilson(rate float64, n int) *Rate {
	x := int(math.Round(rate * float64(n)))
	lo, hi := drift.Wilson(x, n, 0.05)
	return &Rate{Value: rate, Low: lo, High: hi, N: n}
}

// RunURL returns the dashboard page of a run under publicURL
// (server.public_url), or "" when publicURL is empty.
func RunURL(publicURL string, runID int64) string {
	if publicURL == "" || runID == 0 {
		return ""
	}
	return strings.TrimRight(publicURL, "/") + "/runs/" + url.PathEscape(strconv.FormatInt(runID, 10))
}
