package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
)

type kv struct{ K, V, Title string }

type thresholdRow struct {
	Metric, Want, Got string
	Status            chip
}

type changeRow struct {
	Key, Old, New, Direction, Icon string
}

type comparisonView struct {
	Test, N, Dropped, Reference, Current, Delta, CI, PTwo, PDrop string
	NPassToFail, NFailToPass                                     int
}

type caseLink struct{ ID, Anchor string }

func caseLinks(ids []string) []caseLink {
	out := make([]caseLink, len(ids))
	for i, id := range ids {
		out[i] = caseLink{ID: id, Anchor: anchor(id)}
	}
	return out
}

type identityRow struct {
	Source, Reason, Before, After string
}

type tagRow struct {
	Tag, N, Delta, PDrop, Q string
}

type verdictView struct {
	Kind        chip
	Page        bool
	Message     string
	Rows        []kv
	Identity    []identityRow
	ScorerOnly  bool // the identity change is the judge's alone
	Check       []kv
	Gate        *comparisonView
	Evidence    *comparisonView
	EvLabel     string
	EvDescribe  string
	PassToFail  []caseLink
	FailToPass  []caseLink
	ByTag       []tagRow
	AcceptCmd   string
	ChangeHref  string
	ChangeRunID int64
	// Reference lists the runs a page was measured against, with dates.
	Reference []refLink
}

// refLink is a reference run on the run page.
type refLink struct {
	ID         int64
	Href, When string
}

// regradeRow is one `evald regrade` of this run.
type regradeRow struct {
	When, WhenTitle        string
	Judge, JudgeTitle      string
	Status                 chip
	PassToFail, FailToPass int
	Compared               int
	Cost                   string
}

// maxRunRegrades is how many regrades the run page lists, newest first;
// GET /api/regrades has them all.
const maxRunRegrades = 20

type sideView struct {
	Passed, Total int
	Output        string
	// Full links to the whole output when Output was clipped.
	Full    string
	Reasons []string
	Error   string
	Missing bool
}

type diffCase struct {
	ID, Anchor string
	Base, Cur  sideView
	// Trajectory names the tool calls that changed (agent suites).
	Trajectory []string
}

type baselineView struct {
	ID                     int64
	Href, Note, Started    string
	PassRate, ThisPass     string
	Warning                string
	PassToFail, FailToPass []diffCase
	Unchanged              int
	OnlyBase, OnlyThis     int
}

type assertView struct {
	Type                  string
	Status                chip
	Score, Weight, Reason string
}

type sampleView struct {
	Repeat int
	Status chip
	Score  string
	Meta   []kv
	Error  string
	Output string
	// Full links to the whole output when Output was clipped.
	Full       string
	Assertions []assertView
	// Turns is an agent case's conversation: messages, tool calls, results.
	Turns []turnView
}

type caseView struct {
	ID, Anchor    string
	Passed, Total int
	Status        chip
	Open          bool
	Samples       []sampleView
}

type runPage struct {
	layout
	ID                   int64
	Suite, Target        string
	PairHref             string
	Status               chip
	Summary              []kv
	ErrorText            string
	Thresholds           []thresholdRow
	SignoffHash          string
	Pending              []changeRow
	PendingDiff          string
	SignoffCmd           string
	Verdict              *verdictView
	NoVerdict            string // why Verdict is nil
	Regrades             []regradeRow
	MoreRegrades         bool
	Baseline             *baselineView
	BaselineNone         string
	Cases                []caseView
	FailingCases, Errors int
	// Pruned says when retention deleted the run's samples ("": kept).
	Pruned string
	// BasePruned says the baseline's samples were deleted, so no case
	// can be compared with it.
	BasePruned bool
}

// runView is the run page of what fetchRun read.
func runView(data runData, now time.Time) runPage {
	run, d, v := data.run, data.detail, data.verdict
	p := runPage{
		layout: layout{Title: fmt.Sprintf("Run %d: %s on %s", run.ID, run.Suite, run.Target), Now: fmtTime(now), Asset: assetVersion},
		ID:     run.ID, Suite: run.Suite, Target: run.Target, PairHref: pairHref(run.Suite, run.Target),
		Status: runChip(run.Status), ErrorText: run.ErrorText, SignoffHash: d.SignoffHash,
	}
	if !run.SamplesPrunedAt.IsZero() {
		p.Pruned = fmtTime(run.SamplesPrunedAt)
	}
	if !data.base.Run.SamplesPrunedAt.IsZero() {
		p.BasePruned = true
	}
	p.Summary = runSummary(run, d, now)
	p.Thresholds = thresholdRows(run, d)
	for _, c := range d.PendingSignoff {
		p.Pending = append(p.Pending, toChangeRow(c))
	}
	if len(d.PendingSignoff) > 0 {
		p.PendingDiff = governance.FormatDiff(d.PendingSignoff)
		p.SignoffCmd = governance.SignoffCommand(run.Suite)
	}
	if v != nil {
		p.Verdict = toVerdictView(run, v)
	}
	p.NoVerdict = noVerdict(run.Role, d)
	for _, g := range data.regrades {
		p.Regrades = append(p.Regrades, toRegradeRow(g, now))
	}
	p.MoreRegrades = data.moreRegrades
	p.BaselineNone = data.noBase
	if data.noBase == "" {
		base := data.base.Run
		bv := diffRuns(data.baseSamples, data.samples)
		bv.ID, bv.Href, bv.Note, bv.Warning = base.ID, runHref(base.ID), data.base.Note, data.base.Warning
		bv.Started, bv.PassRate, bv.ThisPass = fmtTime(base.StartedAt), fmtPctPtr(base.PassRate), fmtPctPtr(run.PassRate)
		p.Baseline = &bv
	}
	p.Cases = caseViews(data.samples)
	for _, c := range p.Cases {
		if c.Open {
			p.FailingCases++
		}
	}
	for _, sm := range data.samples {
		if sm.ErrorClass != "" {
			p.Errors++
		}
	}
	return p
}

func runSummary(run store.Run, d daemon.Detail, now time.Time) []kv {
	out := []kv{
		{K: "suite", V: run.Suite},
		{K: "target", V: run.Target},
		{K: "trigger", V: run.Trigger},
		{K: "started", V: fmtTime(run.StartedAt), Title: fmtAgo(run.StartedAt, now)},
		{K: "finished", V: fmtTime(run.FinishedAt)},
		{K: "duration", V: fmtDuration(run.DurationMS)},
		{K: "pass rate", V: fmtPctPtr(run.PassRate)},
		{K: "mean score", V: fmtPctPtr(run.MeanScore)},
		{K: "cases", V: fmt.Sprintf("%d (%d with a valid sample)", run.Cases, d.ValidCases)},
		{K: "samples", V: fmt.Sprintf("%d, %d errored", run.Samples, run.Errors)},
	}
	if run.PassRate != nil {
		n := d.ValidCases
		if n == 0 {
			n = run.Cases
		}
		lo, hi := wilson(*run.PassRate, float64(n))
		out[6].V += fmt.Sprintf(" (95%% CI %s to %s)", fmtPct(lo), fmtPct(hi))
	}
	if d.WhyMissing != "" {
		out = append(out, kv{K: "errors by class", V: d.WhyMissing})
	} else if len(d.ErrorsByClass) > 0 {
		out = append(out, kv{K: "errors by class", V: fmtCounts(d.ErrorsByClass)})
	}
	out = append(out,
		kv{K: "tokens", V: fmt.Sprintf("%d prompt, %d completion", run.PromptTokens, run.CompletionTokens)},
		kv{K: "cost", V: fmtUSD(run.CostUSD)},
		kv{K: "models returned", V: fmtCounts(d.Models)},
		kv{K: "fingerprints returned", V: fmtCounts(d.Fingerprints)},
		kv{K: "suite version", V: shortHash(run.SuiteVersion), Title: run.SuiteVersion},
		kv{K: "prompt version", V: shortHash(run.PromptVersion), Title: run.PromptVersion},
		kv{K: "target version", V: shortHash(run.TargetVersion), Title: run.TargetVersion},
	)
	if j := d.Judge; j != nil {
		out = append(out,
			kv{K: "judge", V: j.Target + " (version " + shortHash(j.TargetVersion) + ")", Title: j.TargetVersion},
			kv{K: "judge models returned", V: fmtCounts(j.Models)},
			kv{K: "judge fingerprints returned", V: fmtCounts(j.Fingerprints)},
			kv{K: "judge tokens and cost", V: fmt.Sprintf("%d prompt, %d completion, %s (%d cached grades)", j.PromptTokens, j.CompletionTokens, fmtUSD(j.CostUSD), j.CacheHits)},
		)
	}
	return out
}

func toRegradeRow(g store.Regrade, now time.Time) regradeRow {
	return regradeRow{
		When: fmtTime(g.At), WhenTitle: fmtAgo(g.At, now),
		Judge: g.JudgeTarget + " (version " + shortHash(g.JudgeVersion) + ")", JudgeTitle: g.JudgeVersion,
		Status:     regradeChip(g.Status),
		PassToFail: g.PassToFail, FailToPass: g.FailToPass, Compared: g.Compared,
		Cost: fmtUSD(g.CostUSD),
	}
}

func regradeChip(status string) chip {
	switch status {
	case daemon.RegradeAgree:
		return chip{Class: "ok", Icon: "✓", Text: "agrees", Title: "today's judge grades the stored outputs as the run did"}
	case daemon.RegradeDisagree:
		return chip{Class: "warn", Icon: "⚖", Text: "disagrees", Title: "today's judge grades the same outputs differently"}
	case daemon.RegradeErrored:
		return chip{Class: "warn", Icon: "⚠", Text: status, Title: "more grades missing than the error budget allows"}
	case daemon.RegradeInterrupted:
		return chip{Class: "mute", Icon: "-", Text: status, Title: "stopped before every output was graded"}
	case daemon.RegradeNoComparison:
		return chip{Class: "mute", Icon: "-", Text: "no comparison", Title: "no stored output could be compared"}
	}
	return chip{Class: "mute", Icon: "?", Text: status}
}

func thresholdRows(run store.Run, d daemon.Detail) []thresholdRow {
	th := parseThresholds(run.ThresholdsJSON)
	var out []thresholdRow
	for _, k := range []string{"pass_rate", "mean_score"} {
		want, ok := th[k]
		if !ok {
			continue
		}
		got := run.PassRate
		if k == "mean_score" {
			got = run.MeanScore
		}
		row := thresholdRow{Metric: k, Want: fmtPct(want), Got: fmtPctPtr(got)}
		failed := false
		for _, f := range d.ThresholdFailures {
			failed = failed || f.Metric == k
		}
		switch {
		case failed:
			row.Status = chip{Class: "bad", Icon: "✗", Text: "not met"}
		case got == nil:
			row.Status = chip{Class: "mute", Icon: "-", Text: "not measured"}
		default:
			row.Status = chip{Class: "ok", Icon: "✓", Text: "met"}
		}
		out = append(out, row)
	}
	return out
}

func toChangeRow(c governance.Change) changeRow {
	show := func(v *float64) string {
		if v == nil {
			return "unset"
		}
		return fmtNum(*v)
	}
	oldV, newV := show(c.Old), show(c.New)
	if c.Old == nil && c.New == nil {
		oldV, newV = c.Values()
	}
	icon := "~"
	switch c.Direction {
	case governance.Loosened:
		icon = "↓"
	case governance.Tightened:
		icon = "↑"
	case governance.Added:
		icon = "+"
	case governance.Removed:
		icon = "−"
	}
	return changeRow{Key: c.Key, Old: oldV, New: newV, Direction: string(c.Direction), Icon: icon}
}

// verdictChips are the drift verdicts' badges; their text is drift.Words,
// the one vocabulary of docs/drift.md.
var verdictChips = map[string]chip{
	drift.KindRegressed:        {Class: "bad", Icon: "▼"},
	drift.KindProviderChanged:  {Class: "bad", Icon: "▼"},
	drift.KindScorerChanged:    {Class: "warn", Icon: "⚖"},
	drift.KindOK:               {Class: "ok", Icon: "✓"},
	drift.KindRecovered:        {Class: "ok", Icon: "↑"},
	drift.KindIdentityChanged:  {Class: "info", Icon: "⇄"},
	drift.KindBehaviourChanged: {Class: "info", Icon: "⇅"},
	drift.KindWarmingUp:        {Class: "info", Icon: "◔"},
	drift.KindNewSegment:       {Class: "info", Icon: "★"},
	drift.KindSkipped:          {Class: "mute", Icon: "-"},
}

func verdictChip(kind string) chip {
	c, ok := verdictChips[kind]
	if !ok {
		c = chip{Class: "mute", Icon: "?"}
	}
	c.Text = drift.Words(kind)
	return c
}

func toComparison(c drift.Comparison) *comparisonView {
	return &comparisonView{
		Test: c.Test, N: strconv.Itoa(c.N), Dropped: strconv.Itoa(c.Dropped),
		Reference: fmtPct(c.Reference), Current: fmtPct(c.Current), Delta: fmtPP(c.Delta),
		CI: fmtPP(c.CILow) + " to " + fmtPP(c.CIHigh), PTwo: fmtNum(c.PTwoSided), PDrop: fmtNum(c.PDrop),
		NPassToFail: c.NPassToFail, NFailToPass: c.NFailToPass,
	}
}

func toVerdictView(run store.Run, v *drift.Verdict) *verdictView {
	vv := &verdictView{Kind: verdictChip(v.Kind), Page: v.Page, Message: v.Message}
	if v.Reason != "" && !strings.Contains(v.Message, v.Reason) {
		vv.Message += " (" + v.Reason + ")"
	}
	add := func(k, val, title string) { vv.Rows = append(vv.Rows, kv{K: k, V: val, Title: title}) }
	add("segment", strconv.Itoa(v.Segment), "runs with the same suite and target versions")
	add("reference runs", strconv.Itoa(v.RefRuns), "the anchored reference this run was compared with")
	if v.N > 0 {
		add("change D", fmtPP(v.D), "this run minus the reference, paired by case")
		phi := "over-dispersion φ = " + fmtNum(v.Phi)
		if v.PhiMeasured > v.Phi {
			phi += " (measured " + fmtNum(v.PhiMeasured) + ", not significantly above 1)"
		}
		add("standard error", strings.TrimPrefix(fmtPP(v.SETot), "+"), fmt.Sprintf("this run %s, reference %s, %s", fmtPP(v.SECur), fmtPP(v.SEBase), phi))
		add("p (drop)", fmtNum(v.P), "one-sided, "+v.Test+"; descriptive: the alarm is the CUSUM")
		add("paired cases", fmt.Sprintf("%d (%d on one side only)", v.N, v.DroppedCases), "")
	}
	add("CUSUM S", fmt.Sprintf("%.2f of H = %.2f", v.S, v.H), fmt.Sprintf("increment %.2f this run; an alarm when S reaches H", v.G))
	if v.RefHeld {
		add("reference growth", fmt.Sprintf("held since run %d", v.HeldSince), "runs that disagree with a growing reference never join it (docs/drift.md §6)")
	}
	if v.ChangeRun > 0 {
		vv.ChangeRunID, vv.ChangeHref = v.ChangeRun, runHref(v.ChangeRun)
	}
	if v.AlertRun > 0 {
		add("open alert", fmt.Sprintf("run %d", v.AlertRun), "")
	}
	if v.Attribution != "" {
		add("attribution", v.Attribution, "")
	}
	if v.Identity != nil {
		vv.ScorerOnly = v.Identity.Source() == "judge"
		for _, c := range v.Identity.Changes {
			vv.Identity = append(vv.Identity, identityRow{
				Source: c.Source, Reason: c.Reason,
				Before: "models " + fmtCounts(c.Before.Models) + "; fingerprints " + fmtCounts(c.Before.Fingerprints),
				After:  "models " + fmtCounts(c.After.Models) + "; fingerprints " + fmtCounts(c.After.Fingerprints),
			})
		}
	}
	if c := v.Check; c != nil {
		vv.Check = []kv{
			{K: "since run", V: strconv.FormatInt(c.ChangeRun, 10)},
			{K: "look", V: fmt.Sprintf("%d of %d", c.Look, c.M)},
			{K: "pooled change", V: fmtPP(c.DPooled)},
			{K: "z", V: fmt.Sprintf("%.2f (rejects at −%.2f)", c.Z, c.Critical)},
			{K: "detectable drop (80% power)", V: fmtPP(-c.MDE80)},
			{K: "outcome", V: c.Outcome},
		}
	}
	if v.Gate != nil {
		vv.Gate = toComparison(*v.Gate)
	}
	if e := v.Evidence; e != nil {
		vv.Evidence = toComparison(e.Pooled)
		vv.EvLabel, vv.EvDescribe = e.Label, e.Describe
		for _, r := range e.Reference {
			when := "date unknown"
			if !r.At.IsZero() {
				when = fmtTime(r.At)
			}
			vv.Reference = append(vv.Reference, refLink{ID: r.Run, Href: runHref(r.Run), When: when})
		}
		vv.PassToFail, vv.FailToPass = caseLinks(e.Pooled.PassToFail), caseLinks(e.Pooled.FailToPass)
		for _, t := range e.ByTag {
			vv.ByTag = append(vv.ByTag, tagRow{Tag: t.Tag, N: strconv.Itoa(t.N), Delta: fmtPP(t.Delta), PDrop: fmtNum(t.PDrop), Q: fmtNum(t.Q)})
		}
	}
	if v.Page || v.AlertRun > 0 {
		vv.AcceptCmd = "evald accept --target " + run.Target + " --by NAME --reason TEXT " + run.Suite
	}
	return vv
}

// noVerdict says why a run of role with detail d has no drift verdict: the
// runs of a CI gate are never fed to the detector.
func noVerdict(role store.Role, d daemon.Detail) string {
	switch role {
	case store.RoleCandidate:
		compared := "not compared with a baseline"
		if g := d.Gate; g != nil && g.Baseline.RunID > 0 {
			compared = fmt.Sprintf("compared with run %d", g.Baseline.RunID)
			if daemon.RemoteSource(g.Baseline.Source) {
				compared += " of " + g.Baseline.Source
			}
		}
		return "Candidate run (CI gate): drift is not evaluated; " + compared + "."
	case store.RoleReference:
		return "Production's arm of a side-by-side CI gate: drift is not evaluated; the candidate was compared with it."
	}
	return "No drift verdict: the run was not compared (refused, or still running)."
}

// caseSamples groups a run's samples by case, in case order.
type caseSamples struct {
	id      string
	samples []store.Sample
	tally   scoring.CaseTally
	passed  int
	valid   int
}

func groupCases(samples []store.Sample) []*caseSamples {
	var out []*caseSamples
	byID := map[string]*caseSamples{}
	for _, sm := range samples {
		c := byID[sm.CaseID]
		if c == nil {
			c = &caseSamples{id: sm.CaseID}
			byID[sm.CaseID] = c
			out = append(out, c)
		}
		c.samples = append(c.samples, sm)
		if !runner.Missing(sm.ErrorClass) {
			c.tally.Add(sm.Pass, sm.Score)
			c.valid, c.passed = c.tally.Samples, c.tally.Passed
		}
	}
	return out
}

// passing says whether a case passed (scoring.CasePasses), as the drift
// evidence counts pass -> fail flips.
func (c *caseSamples) passing() bool { return c.tally.Passing() }

// sideAndSample shows one case of one run in the diff: the first sample
// that tells its outcome (a failing one when it fails), with that sample
// (nil when none).
func (c *caseSamples) sideAndSample() (sideView, *store.Sample) {
	sv := sideView{Passed: c.passed, Total: c.valid}
	if c.valid == 0 {
		sv.Missing = true
		if len(c.samples) > 0 {
			sv.Error = c.samples[0].ErrorClass + ": " + c.samples[0].ErrorText
		}
		return sv, nil
	}
	want := c.passing()
	for i, sm := range c.samples {
		if runner.Missing(sm.ErrorClass) || sm.Pass != want {
			continue
		}
		sv.Output, sv.Full = clipOutput(sm)
		for _, r := range sm.Results {
			if !r.Pass && r.Reason != "" {
				sv.Reasons = append(sv.Reasons, turnLabel(r)+": "+r.Reason)
			}
		}
		for _, t := range sampleTurns(&sm) {
			if t.Failure != "" {
				sv.Reasons = append(sv.Reasons, t.Failure)
			}
		}
		return sv, &c.samples[i]
	}
	return sv, nil
}

// flipCase is a case whose outcome differs between the runs, with the
// tool calls that changed.
func flipCase(id string, b, c *caseSamples) diffCase {
	bs, bsm := b.sideAndSample()
	cs, csm := c.sideAndSample()
	return diffCase{ID: id, Anchor: anchor(id), Base: bs, Cur: cs, Trajectory: trajectoryChanges(bsm, csm)}
}

// anchor is a case's fragment id: its id with anything but letters,
// digits, '-', '_' and '.' spelled as _XX hex, so it needs no escaping.
func anchor(caseID string) string {
	var b strings.Builder
	b.WriteString("case-")
	for _, c := range []byte(caseID) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

// diffRuns lists the cases whose outcome flipped between the baseline's
// samples and this run's.
func diffRuns(base, cur []store.Sample) baselineView {
	var bv baselineView
	bc := map[string]*caseSamples{}
	for _, c := range groupCases(base) {
		bc[c.id] = c
	}
	seen := map[string]bool{}
	for _, c := range groupCases(cur) {
		seen[c.id] = true
		b := bc[c.id]
		if b == nil || b.valid == 0 || c.valid == 0 {
			bv.OnlyThis++
			continue
		}
		switch {
		case b.passing() && !c.passing():
			bv.PassToFail = append(bv.PassToFail, flipCase(c.id, b, c))
		case !b.passing() && c.passing():
			bv.FailToPass = append(bv.FailToPass, flipCase(c.id, b, c))
		default:
			bv.Unchanged++
		}
	}
	for id, b := range bc {
		if !seen[id] && b.valid > 0 {
			bv.OnlyBase++
		}
	}
	return bv
}

func caseViews(samples []store.Sample) []caseView {
	var out []caseView
	for _, c := range groupCases(samples) {
		cv := caseView{ID: c.id, Anchor: anchor(c.id), Passed: c.passed, Total: c.valid}
		switch {
		case c.valid == 0:
			cv.Status, cv.Open = chip{Class: "warn", Icon: "⚠", Text: "no valid sample"}, true
		case c.passed == c.valid:
			cv.Status = chip{Class: "ok", Icon: "✓", Text: "passed"}
		default:
			cv.Status, cv.Open = chip{Class: "bad", Icon: "✗", Text: "failed"}, true
		}
		if c.valid < len(c.samples) {
			cv.Open = true
		}
		for _, sm := range c.samples {
			sv := sampleView{Repeat: sm.Repeat + 1, Score: fmtNum(sm.Score)}
			sv.Output, sv.Full = clipOutput(sm)
			switch {
			case runner.Missing(sm.ErrorClass):
				sv.Status = chip{Class: "warn", Icon: "⚠", Text: sm.ErrorClass}
				sv.Error = sm.ErrorText
				sv.Score = "-"
			case sm.Pass:
				sv.Status = chip{Class: "ok", Icon: "✓", Text: "pass"}
			default:
				sv.Status = chip{Class: "bad", Icon: "✗", Text: "fail"}
			}
			if sm.ErrorClass == runner.ClassRefused {
				sv.Error = "refused by the provider's policy (graded as an answer): " + sm.ErrorText
			}
			sv.Meta = []kv{
				{K: "model", V: orDash(sm.Model)},
				{K: "fingerprint", V: orDash(sm.Fingerprint)},
				{K: "latency", V: fmt.Sprintf("%.0f ms", sm.LatencyMS)},
				{K: "finish", V: orDash(sm.FinishReason)},
				{K: "tokens", V: fmt.Sprintf("%d + %d", sm.PromptTokens, sm.CompletionTokens)},
				{K: "attempts", V: strconv.Itoa(sm.Attempts)},
			}
			if sm.JudgeModel != "" || sm.JudgeFingerprint != "" {
				sv.Meta = append(sv.Meta, kv{K: "judge", V: orDash(sm.JudgeModel) + ", " + orDash(sm.JudgeFingerprint)})
			}
			sv.Turns = turnViews(&sm)
			for _, r := range sm.Results {
				av := assertView{Type: turnLabel(r), Score: fmtNum(r.Score), Weight: fmtNum(r.Weight), Reason: r.Reason}
				if r.Pass {
					av.Status = chip{Class: "ok", Icon: "✓", Text: "pass"}
				} else {
					av.Status = chip{Class: "bad", Icon: "✗", Text: "fail"}
				}
				sv.Assertions = append(sv.Assertions, av)
			}
			cv.Samples = append(cv.Samples, sv)
		}
		out = append(out, cv)
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
