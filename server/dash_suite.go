package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

// The suite x target page: pass rate and mean score over time with error
// bars, the CUSUM statistic against its threshold, markers for what
// changed (provider identity, our versions, sign-offs, accepts, silences,
// incidents) and the runs.

// suiteRanges are the spans the page offers; the first is the default.
var suiteRanges = []struct {
	key  string
	days int
}{{"30d", 30}, {"1d", 1}, {"7d", 7}, {"90d", 90}, {"365d", 365}}

// maxRunPoints is how many runs the charts draw one by one; more are
// grouped into about bucketPoints time buckets.
const (
	maxRunPoints = 240
	bucketPoints = 120
	runsPerPage  = 50
)

// Event kinds, with the glyph their marker carries.
var eventGlyphs = map[string]string{
	"incident":  "!",
	"recovered": "R",
	"identity":  "P",
	"version":   "V",
	"signoff":   "S",
	"accept":    "A",
	"silence":   "M",
}

var eventNames = map[string]string{
	"incident":  "incident",
	"recovered": "recovered",
	"identity":  "provider identity",
	"version":   "our version",
	"signoff":   "thresholds",
	"accept":    "accepted",
	"silence":   "silenced",
}

type event struct {
	at    time.Time
	kind  string
	text  string
	runID int64
}

type eventView struct {
	At, AtTitle, Glyph, Kind, Name, Text, Href, Run string
}

type rangeLink struct {
	Label, Href string
	Current     bool
}

type legendItem struct {
	Glyph, Class, Text string
}

type runRow struct {
	ID                     int64
	Href                   string
	Started, StartedTitle  string
	Trigger                string
	Status                 chip
	PassRate, PassCI       string
	MeanScore              string
	Verdict, VerdictTitle  string
	Models, Cost, Duration string
}

type suitePage struct {
	layout
	Suite, Target, Href    string
	Status                 pairStatus
	Ranges                 []rangeLink
	RangeLabel             string
	Schedule, NextRun      string
	NextTitle              string
	Cost, Budget           string
	HasPoints              bool
	Points                 int
	Grouping               string
	PassChart, ScoreChart  chartView
	CusumChart             *chartView
	Legend                 []legendItem
	Events                 []eventView
	Runs                   []runRow
	OlderHref, NewestHref  string
	ThresholdPass, HNote   string
	ThresholdScore, Latest string
	// Power says what the detector can catch; PowerWarning is set when
	// the pair cannot see its drift.min_effect within 24 runs.
	Power, PowerWarning string
}

func (s *Server) pageSuite(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	suite, target := r.PathValue("suite"), r.PathValue("target")
	now := s.now()
	var pair *daemon.Pair
	for _, p := range s.opts.Daemon.Pairs() {
		if p.Suite == suite && p.Target == target {
			pair = &p
			break
		}
	}
	latest, last, err := s.newestRuns(ctx, suite, target)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if pair == nil && latest == nil {
		s.pageNotFound(w, r, fmt.Sprintf("No suite %q on target %q is scheduled or has runs.", suite, target))
		return
	}

	rangeKey, days := suiteRanges[0].key, suiteRanges[0].days
	for _, rg := range suiteRanges {
		if r.URL.Query().Get("range") == rg.key {
			rangeKey, days = rg.key, rg.days
		}
	}
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			before = 0
		}
	}
	since := now.AddDate(0, 0, -days)
	href := pairHref(suite, target)
	p := suitePage{layout: s.layout(suite+" on "+target, ""), Suite: suite, Target: target, Href: href, RangeLabel: rangeKey}
	silences, err := s.opts.Store.Silences(ctx, now)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p.Status = statusOf(latest, last, silenceFor(silences, suite, target), s.startFailure(suite, target), now)
	for _, rg := range suiteRanges {
		q := url.Values{"range": {rg.key}}
		p.Ranges = append(p.Ranges, rangeLink{Label: rg.key, Href: href + "?" + q.Encode(), Current: rg.key == rangeKey})
	}
	slices.SortStableFunc(p.Ranges, func(a, b rangeLink) int { return rangeDays(a.Label) - rangeDays(b.Label) })
	if pair != nil {
		p.Schedule = pair.Schedule
		next := s.opts.Daemon.NextRun(suite, target)
		p.NextRun, p.NextTitle = fmtIn(next, now), fmtTime(next)
		cost, err := s.opts.Store.CostSince(ctx, suite, todayUTC(now))
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		p.Cost = fmtUSD(cost)
		det, ok, err := s.detectability(ctx, suite, target, latest, now)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		if ok {
			p.Power, p.PowerWarning = powerText(det), det.Warning
		}
		if pair.BudgetUSDPerDay > 0 {
			p.Budget = fmtUSD(pair.BudgetUSDPerDay)
		}
	}
	var thresholds map[string]float64
	if last != nil {
		thresholds = parseThresholds(last.ThresholdsJSON)
		p.Latest = runHref(last.ID)
	}

	// Up to maxRunPoints runs are drawn one by one from their points; past
	// that SQL sums them into buckets and only the runs where something
	// changed are read, so the page costs the same at any length of history.
	n, first, err := s.opts.Store.RunSpan(ctx, suite, target, since)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var (
		pts      []store.RunPoint
		verdicts []*pointVerdict
		changes  []runChange
	)
	if n <= maxRunPoints {
		if pts, err = s.opts.Store.RunPoints(ctx, suite, target, since); err != nil {
			s.pageError(w, r, err)
			return
		}
		verdicts = pointVerdicts(pts)
		changes = pointChanges(pts, verdicts)
		n = len(pts)
		if n > 0 {
			first = pts[0].StartedAt
		}
	} else {
		cs, err := s.opts.Store.RunChanges(ctx, suite, target, since)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		changes = storeChanges(cs)
	}
	events, err := s.suiteEvents(ctx, suite, target, since, now, changes)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if n > 0 {
		p.HasPoints, p.Points = true, n
		t0 := first
		if len(events) > 0 && events[0].at.Before(t0) {
			t0 = events[0].at
		}
		var ser *series
		if pts != nil {
			ser = buildSeries(pts, verdicts, t0, now)
		} else {
			width := bucketWidth(t0, now)
			bs, err := s.opts.Store.RunBuckets(ctx, suite, target, since, t0, width)
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			ser = bucketSeries(bs, width)
		}
		if ser.bucket > 0 {
			p.Grouping = "each point is " + fmtSpan(ser.bucket) + " of runs: their mean, with whiskers from the lowest to the highest run"
		}
		p.PassChart, p.ScoreChart, p.CusumChart = ser.charts(thresholds, events, t0, now)
		if v, ok := thresholds["pass_rate"]; ok {
			p.ThresholdPass = fmtPct(v)
		}
		if v, ok := thresholds["mean_score"]; ok {
			p.ThresholdScore = fmtPct(v)
		}
		if h := ser.lastH(); !math.IsNaN(h) {
			p.HNote = fmtNum(h)
		}
	}
	p.Legend = legend()
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		ev := eventView{At: fmtShortTime(e.at, now), AtTitle: fmtTime(e.at), Glyph: eventGlyphs[e.kind], Kind: e.kind, Name: eventNames[e.kind], Text: e.text}
		if e.runID > 0 {
			ev.Href, ev.Run = runHref(e.runID), fmt.Sprintf("run %d", e.runID)
		}
		p.Events = append(p.Events, ev)
	}

	runs, err := s.opts.Store.Runs(ctx, store.RunFilter{Suite: suite, Target: target, Limit: runsPerPage, BeforeID: before})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, run := range runs {
		p.Runs = append(p.Runs, toRunRow(run, now))
	}
	if len(runs) == runsPerPage {
		q := url.Values{"range": {rangeKey}, "before": {strconv.FormatInt(runs[len(runs)-1].ID, 10)}}
		p.OlderHref = href + "?" + q.Encode() + "#runs"
	}
	if before > 0 {
		p.NewestHref = href + "?" + url.Values{"range": {rangeKey}}.Encode() + "#runs"
	}
	s.render(w, r, http.StatusOK, "suite", p)
}

func rangeDays(key string) int {
	for _, rg := range suiteRanges {
		if rg.key == key {
			return rg.days
		}
	}
	return 0
}

// runChip is a run's status as a badge.
func runChip(status store.Status) chip {
	switch status {
	case store.StatusPassed:
		return chip{Class: "ok", Icon: "✓", Text: string(status)}
	case store.StatusFailed:
		return chip{Class: "bad", Icon: "✗", Text: string(status)}
	case store.StatusRegressed:
		return chip{Class: "bad", Icon: "▼", Text: string(status)}
	case store.StatusErrored, store.StatusInterrupted:
		return chip{Class: "warn", Icon: "⚠", Text: string(status)}
	case store.StatusRefused:
		return chip{Class: "warn", Icon: "✎", Text: string(status)}
	case store.StatusRunning:
		return chip{Class: "info", Icon: "↻", Text: string(status)}
	}
	return chip{Class: "mute", Icon: "?", Text: string(status)}
}

func toRunRow(run store.Run, now time.Time) runRow {
	d := parseDetail(run.Detail)
	row := runRow{
		ID: run.ID, Href: runHref(run.ID), Started: fmtShortTime(run.StartedAt, now), StartedTitle: fmtTime(run.StartedAt),
		Trigger: run.Trigger, Status: runChip(run.Status), PassRate: fmtPctPtr(run.PassRate), MeanScore: fmtPctPtr(run.MeanScore),
		Verdict: run.Verdict, Models: fmtCounts(d.Models), Cost: fmtUSD(run.CostUSD), Duration: fmtDuration(run.DurationMS),
	}
	if run.PassRate != nil {
		n := d.ValidCases
		if n == 0 {
			n = run.Cases
		}
		lo, hi := wilson(*run.PassRate, float64(n))
		row.PassCI = fmt.Sprintf("95%% CI %s to %s over %d cases", fmtPct(lo), fmtPct(hi), n)
	}
	if v := parseVerdict(run.VerdictDetail); v != nil {
		row.VerdictTitle = v.Message
	}
	if row.Verdict == "" {
		row.Verdict = "-"
	}
	return row
}

// runChange is a run the events look at, with the versions of the run
// before it in the range (first: there is none) and its decoded verdict.
type runChange struct {
	store.RunPoint
	first                             bool
	prevSuite, prevPrompt, prevTarget string
	verdict                           *pointVerdict
}

// pointChanges is every run of pts as a runChange.
func pointChanges(pts []store.RunPoint, verdicts []*pointVerdict) []runChange {
	out := make([]runChange, len(pts))
	for i, pt := range pts {
		out[i] = runChange{RunPoint: pt, first: i == 0, verdict: verdicts[i]}
		if i > 0 {
			prev := pts[i-1]
			out[i].prevSuite, out[i].prevPrompt, out[i].prevTarget = prev.SuiteVersion, prev.PromptVersion, prev.TargetVersion
		}
	}
	return out
}

// storeChanges decodes the verdicts of the runs where something changed.
func storeChanges(cs []store.RunChange) []runChange {
	out := make([]runChange, len(cs))
	for i, c := range cs {
		out[i] = runChange{RunPoint: c.RunPoint, first: c.First,
			prevSuite: c.PrevSuiteVersion, prevPrompt: c.PrevPromptVersion, prevTarget: c.PrevTargetVersion}
		if c.VerdictDetail != "" {
			var v pointVerdict
			if json.Unmarshal([]byte(c.VerdictDetail), &v) == nil {
				out[i].verdict = &v
			}
		}
	}
	return out
}

// suiteEvents gathers what changed for the pair since since, oldest first:
// from the runs (our versions, provider identity, incidents, recoveries),
// the sign-offs of the suite and the audit log (accepts, silences).
func (s *Server) suiteEvents(ctx context.Context, suite, target string, since, now time.Time, changes []runChange) ([]event, error) {
	var out []event
	for _, c := range changes {
		pt := c.RunPoint
		if !c.first {
			switch {
			case pt.PromptVersion != c.prevPrompt:
				out = append(out, event{pt.StartedAt, "version", "prompt changed: version " + shortHash(c.prevPrompt) + " → " + shortHash(pt.PromptVersion), pt.ID})
			case pt.SuiteVersion != c.prevSuite:
				out = append(out, event{pt.StartedAt, "version", "suite changed (cases, scorers or repeats): version " + shortHash(c.prevSuite) + " → " + shortHash(pt.SuiteVersion), pt.ID})
			}
			if pt.TargetVersion != c.prevTarget {
				out = append(out, event{pt.StartedAt, "version", "target changed (endpoint, model or parameters): version " + shortHash(c.prevTarget) + " → " + shortHash(pt.TargetVersion), pt.ID})
			}
		}
		v := c.verdict
		if v == nil {
			continue
		}
		if v.Identity != nil {
			var what []string
			for _, c := range v.Identity.Changes {
				what = append(what, c.Source+": "+c.Reason)
			}
			out = append(out, event{pt.StartedAt, "identity", "provider identity changed (" + strings.Join(what, "; ") + ")", pt.ID})
		}
		if v.Page {
			out = append(out, event{pt.StartedAt, "incident", v.Message, pt.ID})
		}
		if v.Kind == drift.KindRecovered {
			out = append(out, event{pt.StartedAt, "recovered", v.Message, pt.ID})
		}
	}
	signoffs, err := s.opts.Store.Signoffs(ctx, suite)
	if err != nil {
		return nil, err
	}
	for _, so := range signoffs {
		if so.At.Before(since) || so.At.After(now) {
			continue
		}
		text := "thresholds signed off by " + so.By + ": " + so.Reason
		if so.By == governance.ActorBootstrap {
			text = "thresholds adopted on first sight of the suite"
		}
		out = append(out, event{so.At, "signoff", text, 0})
	}
	entries, err := s.opts.Store.AuditEntries(ctx, store.AuditFilter{
		Actions: []string{governance.ActionDriftAccepted, governance.ActionSilenceCreated}, Since: since,
	})
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		var pl struct {
			Suite, Target, Reason, Until string
		}
		if json.Unmarshal(e.Payload, &pl) != nil || pl.Suite != suite || pl.Target != target {
			continue
		}
		switch e.Action {
		case governance.ActionDriftAccepted:
			out = append(out, event{e.At, "accept", "new provider behaviour accepted by " + e.Actor + ": " + pl.Reason + " (the baseline re-anchors)", 0})
		case governance.ActionSilenceCreated:
			out = append(out, event{e.At, "silence", "silenced by " + e.Actor + " until " + pl.Until + ": " + pl.Reason, 0})
		}
	}
	slices.SortStableFunc(out, func(a, b event) int { return a.at.Compare(b.at) })
	return out, nil
}

// series is the runs of a page as chart points: one per run, or one per
// time bucket when there are too many runs.
type series struct {
	bucket                              time.Duration // 0: one point per run
	at                                  []time.Time
	from, to                            []time.Time
	runs, measured                      []int
	lastID                              []int64
	statuses                            []map[store.Status]int
	pass, passLo, passHi, passMin, pMax []float64
	score, scoreLo, scoreHi, sMin, sMax []float64
	cusum, h                            []float64
}

func (ser *series) lastH() float64 {
	for i := len(ser.h) - 1; i >= 0; i-- {
		if !math.IsNaN(ser.h[i]) {
			return ser.h[i]
		}
	}
	return math.NaN()
}

// scoreBounds is an upper bound of the 95% interval of a mean of n scores
// in [0, 1]: their variance is at most m(1-m) (Bhatia-Davis).
func scoreBounds(m, n float64) (lo, hi float64) {
	if n < 1 {
		return 0, 1
	}
	half := 1.96 * math.Sqrt(m*(1-m)/n)
	return math.Max(0, m-half), math.Min(1, m+half)
}

// pointVerdict is what the suite page reads of each run's verdict: a
// smaller target than drift.Verdict makes decoding a year of them cheaper.
type pointVerdict struct {
	Kind     string                `json:"kind"`
	Page     bool                  `json:"page"`
	Message  string                `json:"message"`
	S        float64               `json:"s"`
	H        float64               `json:"h"`
	Identity *drift.IdentityChange `json:"identity"`
}

// pointVerdicts decodes the runs' verdicts once (nil where a run has none).
func pointVerdicts(pts []store.RunPoint) []*pointVerdict {
	out := make([]*pointVerdict, len(pts))
	for i, pt := range pts {
		if pt.VerdictDetail == "" {
			continue
		}
		var v pointVerdict
		if json.Unmarshal([]byte(pt.VerdictDetail), &v) == nil {
			out[i] = &v
		}
	}
	return out
}

// bucketWidth is the width of the chart's time buckets over [t0, t1].
func bucketWidth(t0, t1 time.Time) time.Duration {
	return max(time.Second, t1.Sub(t0)/bucketPoints)
}

// bucketSeries is the chart series of buckets summed by the store, the
// same as buildSeries computes from the buckets' runs.
func bucketSeries(bs []store.RunBucket, width time.Duration) *series {
	ser := &series{bucket: width}
	nan := math.NaN()
	for _, b := range bs {
		ser.at = append(ser.at, mid(b.From, b.To))
		ser.from, ser.to = append(ser.from, b.From), append(ser.to, b.To)
		ser.runs, ser.measured = append(ser.runs, b.Runs), append(ser.measured, b.Measured)
		ser.lastID, ser.statuses = append(ser.lastID, b.LastID), append(ser.statuses, b.Statuses)
		ser.cusum, ser.h = append(ser.cusum, b.S), append(ser.h, b.H)
		if b.Measured == 0 {
			ser.pass, ser.passLo, ser.passHi = append(ser.pass, nan), append(ser.passLo, nan), append(ser.passHi, nan)
			ser.passMin, ser.pMax = append(ser.passMin, nan), append(ser.pMax, nan)
			ser.score, ser.scoreLo, ser.scoreHi = append(ser.score, nan), append(ser.scoreLo, nan), append(ser.scoreHi, nan)
			ser.sMin, ser.sMax = append(ser.sMin, nan), append(ser.sMax, nan)
			continue
		}
		n := float64(b.Measured)
		mp, ms, mc := b.SumPass/n, b.SumScore/n, b.SumCases/n
		lo, hi := wilson(mp, mc)
		slo, shi := scoreBounds(ms, mc)
		ser.pass, ser.passLo, ser.passHi = append(ser.pass, mp), append(ser.passLo, lo), append(ser.passHi, hi)
		ser.passMin, ser.pMax = append(ser.passMin, b.MinPass), append(ser.pMax, b.MaxPass)
		ser.score, ser.scoreLo, ser.scoreHi = append(ser.score, ms), append(ser.scoreLo, slo), append(ser.scoreHi, shi)
		ser.sMin, ser.sMax = append(ser.sMin, b.MinScore), append(ser.sMax, b.MaxScore)
	}
	return ser
}

func buildSeries(pts []store.RunPoint, verdicts []*pointVerdict, t0, t1 time.Time) *series {
	ser := &series{}
	if len(pts) > maxRunPoints {
		ser.bucket = bucketWidth(t0, t1)
	}
	nan := math.NaN()
	type acc struct {
		n, sumPass, sumScore, sumCases float64
	}
	var a acc
	key := func(t time.Time) int64 {
		if ser.bucket == 0 {
			return -1
		}
		return int64(t.Sub(t0) / ser.bucket)
	}
	cur := int64(math.MinInt64)
	finish := func() {
		i := len(ser.at) - 1
		if i < 0 {
			return
		}
		ser.at[i] = mid(ser.from[i], ser.to[i])
		if a.n == 0 {
			ser.pass[i], ser.passLo[i], ser.passHi[i], ser.passMin[i], ser.pMax[i] = nan, nan, nan, nan, nan
			ser.score[i], ser.scoreLo[i], ser.scoreHi[i], ser.sMin[i], ser.sMax[i] = nan, nan, nan, nan, nan
			return
		}
		mp, ms, mc := a.sumPass/a.n, a.sumScore/a.n, a.sumCases/a.n
		ser.pass[i], ser.score[i] = mp, ms
		ser.passLo[i], ser.passHi[i] = wilson(mp, mc)
		ser.scoreLo[i], ser.scoreHi[i] = scoreBounds(ms, mc)
	}
	for j, pt := range pts {
		k := key(pt.StartedAt)
		if ser.bucket == 0 || k != cur || len(ser.at) == 0 {
			finish()
			cur, a = k, acc{}
			ser.at = append(ser.at, pt.StartedAt)
			ser.from = append(ser.from, pt.StartedAt)
			ser.to = append(ser.to, pt.StartedAt)
			ser.runs = append(ser.runs, 0)
			ser.measured = append(ser.measured, 0)
			ser.lastID = append(ser.lastID, 0)
			ser.statuses = append(ser.statuses, map[store.Status]int{})
			ser.pass, ser.passLo, ser.passHi = append(ser.pass, nan), append(ser.passLo, nan), append(ser.passHi, nan)
			ser.passMin, ser.pMax = append(ser.passMin, 1), append(ser.pMax, 0)
			ser.score, ser.scoreLo, ser.scoreHi = append(ser.score, nan), append(ser.scoreLo, nan), append(ser.scoreHi, nan)
			ser.sMin, ser.sMax = append(ser.sMin, 1), append(ser.sMax, 0)
			ser.cusum, ser.h = append(ser.cusum, nan), append(ser.h, nan)
		}
		i := len(ser.at) - 1
		ser.to[i] = pt.StartedAt
		ser.runs[i]++
		ser.lastID[i] = max(ser.lastID[i], pt.ID)
		ser.statuses[i][pt.Status]++
		if pt.PassRate != nil && pt.MeanScore != nil {
			ser.measured[i]++
			a.n++
			a.sumPass += *pt.PassRate
			a.sumScore += *pt.MeanScore
			a.sumCases += pt.MeasuredCases()
			ser.passMin[i], ser.pMax[i] = math.Min(ser.passMin[i], *pt.PassRate), math.Max(ser.pMax[i], *pt.PassRate)
			ser.sMin[i], ser.sMax[i] = math.Min(ser.sMin[i], *pt.MeanScore), math.Max(ser.sMax[i], *pt.MeanScore)
		}
		if v := verdicts[j]; v != nil && v.H > 0 {
			if math.IsNaN(ser.cusum[i]) || v.S > ser.cusum[i] {
				ser.cusum[i] = v.S
			}
			if math.IsNaN(ser.h[i]) || v.H > ser.h[i] {
				ser.h[i] = v.H // a bucket's highest threshold
			}
		}
	}
	finish()
	return ser
}

// troubled lists the statuses counted in st that need attention, worst
// first (store.Status.Severity).
func troubled(st map[store.Status]int) []store.Status {
	var out []store.Status
	for s, n := range st {
		if n > 0 && s.Severity() > store.StatusPassed.Severity() {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b store.Status) int { return b.Severity() - a.Severity() })
	return out
}

// worst is the status a point is drawn as: regressed before failed before
// errored before passed.
func worst(st map[store.Status]int) store.Status {
	if t := troubled(st); len(t) > 0 {
		return t[0]
	}
	return store.StatusPassed
}

func (ser *series) tip(i int, metric string, v, lo, hi, vmin, vmax float64) string {
	var b strings.Builder
	if ser.bucket == 0 {
		fmt.Fprintf(&b, "run %d, %s\n", ser.lastID[i], fmtTime(ser.from[i]))
	} else {
		fmt.Fprintf(&b, "%d runs, %s to %s\n", ser.runs[i], fmtTime(ser.from[i]), fmtTime(ser.to[i]))
	}
	if ser.measured[i] == 0 {
		b.WriteString("nothing measured")
	} else {
		if ser.bucket == 0 {
			fmt.Fprintf(&b, "%s %s (95%% CI %s to %s)", metric, fmtPct(v), fmtPct(lo), fmtPct(hi))
		} else {
			fmt.Fprintf(&b, "mean %s %s (lowest run %s, highest %s)", metric, fmtPct(v), fmtPct(vmin), fmtPct(vmax))
		}
	}
	var st []string
	for _, s := range troubled(ser.statuses[i]) {
		if ser.bucket == 0 {
			st = append(st, string(s))
		} else {
			st = append(st, fmt.Sprintf("%d %s", ser.statuses[i][s], s))
		}
	}
	if len(st) > 0 {
		b.WriteString("\n" + strings.Join(st, ", "))
	}
	return b.String()
}

// charts draws the pass rate, mean score and CUSUM panels over [t0, t1]
// with the events as markers.
func (ser *series) charts(thresholds map[string]float64, events []event, t0, t1 time.Time) (passC, scoreC chartView, cusumC *chartView) {
	rateChart := func(metric string, vals, lo, hi, vmin, vmax []float64, threshold *float64, top float64) chartView {
		low := 1.0
		for i := range vals {
			if !math.IsNaN(lo[i]) {
				low = math.Min(low, lo[i])
			}
			if ser.bucket > 0 && !math.IsNaN(vmin[i]) {
				low = math.Min(low, vmin[i])
			}
		}
		if threshold != nil {
			low = math.Min(low, *threshold)
		}
		y0 := math.Max(0, math.Floor(low*10-0.5)/10)
		p := plot{w: 960, h: 230, l: 48, r: 14, t: top, b: 24, t0: t0, t1: t1, y0: y0, y1: 1}
		glyphs := top > 10
		if glyphs {
			// Room for one row of glyphs per group of events too close to share one.
			_, rows := glyphRows(p, events)
			p.t += 18 * float64(max(rows-1, 0))
			p.h += 18 * float64(max(rows-1, 0))
		}
		xs, ys := make([]float64, len(vals)), make([]float64, len(vals))
		view := p.view("plot", "")
		measured, regressed := 0, 0
		for i := range vals {
			xs[i] = p.x(ser.at[i])
			ys[i] = math.NaN()
			w := worst(ser.statuses[i])
			href := runHref(ser.lastID[i])
			tip := ser.tip(i, metric, vals[i], lo[i], hi[i], vmin[i], vmax[i])
			if math.IsNaN(vals[i]) {
				view.Points = append(view.Points, pointView{D: cross(xs[i], p.y(y0)-5, 3.5), Class: "pt-err", Tip: tip, Href: href})
				continue
			}
			measured++
			ys[i] = p.y(vals[i])
			if ser.bucket > 0 && ser.measured[i] > 1 {
				view.Bars = append(view.Bars, barView{X: f1(xs[i]), Y1: f1(p.y(vmin[i])), Y2: f1(p.y(vmax[i])), Class: "range"})
			}
			view.Bars = append(view.Bars, barView{X: f1(xs[i]), Y1: f1(p.y(lo[i])), Y2: f1(p.y(hi[i])), Class: "ci"})
			switch w {
			case store.StatusRegressed, store.StatusFailed:
				regressed++
				view.Points = append(view.Points, pointView{D: triangle(xs[i], ys[i], 5), Class: "pt-bad", Tip: tip, Href: href})
			default:
				view.Points = append(view.Points, pointView{D: circle(xs[i], ys[i], 3), Class: "pt", Tip: tip, Href: href})
			}
		}
		view.Paths = []pathView{{D: polyline(xs, ys), Class: "line"}}
		for v := 0.0; v <= 1.0001; v += 0.1 {
			if v+1e-9 < y0 {
				continue
			}
			if y0 < 0.5 && math.Mod(math.Round(v*10), 2) == 1 {
				continue // every 20% on a tall range
			}
			view.YTicks = append(view.YTicks, tickView{Pos: f1(p.y(v)), Label: fmt.Sprintf("%.0f%%", 100*v)})
		}
		view.XTicks = p.timeTicks(7)
		if threshold != nil {
			view.HLines = append(view.HLines, hlineView{Y: f1(p.y(*threshold)), X1: f1(p.l), X2: f1(p.w - p.r), LabelX: f1(p.w - p.r - 4),
				Label: "threshold " + fmtPct(*threshold), Class: "threshold"})
		}
		view.Markers = markers(p, events, glyphs)
		view.Label = fmt.Sprintf("%s of %d points from %s to %s; %d measured, %d below threshold or regressed",
			metric, len(vals), fmtTime(t0), fmtTime(t1), measured, regressed)
		return view
	}
	th := func(k string) *float64 {
		if v, ok := thresholds[k]; ok {
			return &v
		}
		return nil
	}
	passC = rateChart("pass rate", ser.pass, ser.passLo, ser.passHi, ser.passMin, ser.pMax, th("pass_rate"), 26)
	scoreC = rateChart("mean score", ser.score, ser.scoreLo, ser.scoreHi, ser.sMin, ser.sMax, th("mean_score"), 10)

	hMax, sMax, haveS := 0.0, 0.0, false
	for i := range ser.cusum {
		if !math.IsNaN(ser.cusum[i]) {
			haveS = true
			sMax = math.Max(sMax, ser.cusum[i])
		}
		if !math.IsNaN(ser.h[i]) {
			hMax = math.Max(hMax, ser.h[i])
		}
	}
	if !haveS {
		return passC, scoreC, nil
	}
	p := plot{w: 960, h: 170, l: 48, r: 14, t: 10, b: 24, t0: t0, t1: t1, y0: 0, y1: math.Max(1, math.Max(hMax, sMax)*1.1)}
	view := p.view("plot", fmt.Sprintf("CUSUM statistic S from %s to %s: highest %.2f against the alarm threshold H = %.2f", fmtTime(t0), fmtTime(t1), sMax, hMax))
	xs, ss, hs := make([]float64, len(ser.cusum)), make([]float64, len(ser.cusum)), make([]float64, len(ser.cusum))
	for i := range ser.cusum {
		xs[i] = p.x(ser.at[i])
		ss[i], hs[i] = math.NaN(), math.NaN()
		if !math.IsNaN(ser.cusum[i]) {
			ss[i] = p.y(ser.cusum[i])
			tip := fmt.Sprintf("run %d, %s\nS = %.2f of H = %.2f", ser.lastID[i], fmtTime(ser.to[i]), ser.cusum[i], ser.h[i])
			if ser.bucket > 0 {
				tip = fmt.Sprintf("%d runs, %s to %s\nhighest S = %.2f of H = %.2f", ser.runs[i], fmtTime(ser.from[i]), fmtTime(ser.to[i]), ser.cusum[i], ser.h[i])
			}
			if ser.cusum[i] >= ser.h[i] {
				view.Points = append(view.Points, pointView{D: triangle(xs[i], ss[i], 5), Class: "pt-bad", Tip: tip, Href: runHref(ser.lastID[i])})
			} else {
				view.Points = append(view.Points, pointView{D: circle(xs[i], ss[i], 2.5), Class: "pt", Tip: tip, Href: runHref(ser.lastID[i])})
			}
		}
		if !math.IsNaN(ser.h[i]) {
			hs[i] = p.y(ser.h[i])
		}
	}
	view.Paths = []pathView{{D: stepline(xs, hs), Class: "hline"}, {D: stepline(xs, ss), Class: "cusum"}}
	step := niceStep(p.y1 / 4)
	for v := 0.0; v <= p.y1; v += step {
		view.YTicks = append(view.YTicks, tickView{Pos: f1(p.y(v)), Label: fmtNum(v)})
	}
	view.XTicks = p.timeTicks(7)
	if hMax > 0 {
		view.HLines = append(view.HLines, hlineView{Y: f1(p.y(hMax)), X1: f1(p.w - p.r), X2: f1(p.w - p.r), LabelX: f1(p.w - p.r - 4),
			Label: "H = " + fmtNum(hMax) + " (alarm)", Class: "threshold", Dy: "14"})
	}
	view.Markers = markers(p, events, false)
	return passC, scoreC, &view
}

// niceStep rounds a tick step to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return m * pow
		}
	}
	return 10 * pow
}

// maxGlyphRows bounds the rows of glyphs above a chart; past it glyphs overlap.
const maxGlyphRows = 4

// glyphRows gives each event in the plot's time range a row for its glyph
// so that glyphs closer than their width never overlap (-1: out of range),
// and returns the number of rows used.
func glyphRows(p plot, events []event) ([]int, int) {
	rows := make([]int, len(events))
	var placed [][]float64
	for i, e := range events {
		if e.at.Before(p.t0) || e.at.After(p.t1) {
			rows[i] = -1
			continue
		}
		x := p.x(e.at)
		r := 0
		for ; r < len(placed) && r < maxGlyphRows-1; r++ {
			free := true
			for _, px := range placed[r] {
				if math.Abs(px-x) < 18 {
					free = false
					break
				}
			}
			if free {
				break
			}
		}
		if r == len(placed) {
			placed = append(placed, nil)
		}
		placed[r] = append(placed[r], x)
		rows[i] = r
	}
	return rows, len(placed)
}

// markers draws the events as vertical lines, with their glyphs on top
// when glyphs is set.
func markers(p plot, events []event, glyphs bool) []markerView {
	rows, _ := glyphRows(p, events)
	var out []markerView
	for i, e := range events {
		if rows[i] < 0 {
			continue
		}
		x := f1(p.x(e.at))
		m := markerView{X: x, Y1: f1(p.t), Y2: f1(p.h - p.b), Class: "mk-" + e.kind, Tip: eventNames[e.kind] + ": " + e.text + "\n" + fmtTime(e.at)}
		if glyphs {
			m.Glyph, m.GlyphY = eventGlyphs[e.kind], f1(p.t-12-18*float64(rows[i]))
		}
		if e.runID > 0 {
			m.Href = runHref(e.runID)
		}
		out = append(out, m)
	}
	return out
}

func legend() []legendItem {
	return []legendItem{
		{Glyph: "●", Class: "lg-pt", Text: "a run (or the mean of a time bucket), with its 95% interval"},
		{Glyph: "▼", Class: "lg-bad", Text: "a run below threshold or regressed"},
		{Glyph: "×", Class: "lg-err", Text: "a run that measured nothing (errored, interrupted, refused)"},
		{Glyph: "P", Class: "mk-identity", Text: "provider identity changed (model or fingerprint)"},
		{Glyph: "V", Class: "mk-version", Text: "our prompt, suite or target version changed"},
		{Glyph: "S", Class: "mk-signoff", Text: "thresholds signed off"},
		{Glyph: "A", Class: "mk-accept", Text: "new provider behaviour accepted"},
		{Glyph: "!", Class: "mk-incident", Text: "incident: a regression paged"},
		{Glyph: "R", Class: "mk-recovered", Text: "recovered"},
		{Glyph: "M", Class: "mk-silence", Text: "silenced"},
	}
}

// powerText is the detector's reach in one line (drift.Detectability.Summary).
func powerText(d drift.Detectability) string { return d.Summary() }

// detectCache keeps each pair's detectability (drift.Assess costs tens of
// milliseconds) until the pair records a new run or the minute turns, so a
// reloaded configuration shows within a minute.
type detectCache struct {
	mu sync.Mutex
	m  map[[2]string]detectEntry
}

type detectKey struct {
	newestID     int64
	newestStatus store.Status
	minute       time.Time
}

type detectEntry struct {
	key detectKey
	det drift.Detectability
	ok  bool
}

// detectability is the daemon's Detectability of the pair, cached.
func (s *Server) detectability(ctx context.Context, suite, target string, latest *store.Run, now time.Time) (drift.Detectability, bool, error) {
	key := detectKey{minute: now.Truncate(time.Minute)}
	if latest != nil {
		key.newestID, key.newestStatus = latest.ID, latest.Status
	}
	c := &s.detects
	c.mu.Lock()
	e, ok := c.m[[2]string{suite, target}]
	c.mu.Unlock()
	if ok && e.key == key {
		return e.det, e.ok, nil
	}
	det, found, err := s.opts.Daemon.Detectability(ctx, suite, target)
	if err != nil {
		return det, found, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[[2]string]detectEntry{}
	}
	c.m[[2]string{suite, target}] = detectEntry{key: key, det: det, ok: found}
	c.mu.Unlock()
	return det, found, nil
}
