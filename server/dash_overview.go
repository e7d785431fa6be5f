package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/plural"
	"github.com/evald/evald/store"
)

// sparkDays is the span of the overview's sparklines.
const sparkDays = 30

// chip is a status badge: an icon and a word, never colour alone.
type chip struct {
	Class, Icon, Text, Title string
}

// pairStatus is what the dashboard says of one suite on one target.
type pairStatus struct {
	Chips []chip
	// Attention names why a person should look ("" when healthy).
	Attention string
}

// statusOf derives a pair's status from its newest run (latest, perhaps
// still running), its newest finished run (last), its active silence and
// the daemon's start failure of the pair (nil when its runs start). It
// only reads what the daemon recorded: the run status, the drift verdict
// and the pending sign-off in the run's detail.
func statusOf(latest, last *store.Run, silence *store.Silence, fail *daemon.StartFailure, now time.Time) pairStatus {
	var ps pairStatus
	add := func(class, icon, text, title string) {
		ps.Chips = append(ps.Chips, chip{Class: class, Icon: icon, Text: text, Title: title})
	}
	attention := func(why string) {
		if ps.Attention == "" {
			ps.Attention = why
		}
	}
	if fail != nil {
		// First: the last verdict, however good, is all there will be
		// until this is fixed.
		add("bad", "⚠", "cannot start", "the newest run failed to start "+fmtAgo(fail.At, now)+": "+fail.Err)
		attention("runs fail to start: " + fail.Err)
	}
	if last == nil {
		add("mute", "…", "no runs yet", "the scheduler has not finished a run of this pair")
	} else {
		d := parseDetail(last.Detail)
		v := parseVerdict(last.VerdictDetail)
		msg := ""
		if v != nil {
			msg = v.Message
		}
		switch last.Status {
		case store.StatusRegressed:
			// The run's status is regressed for both drift verdicts that
			// page on the model; the chip names the verdict (a provider
			// update reads "provider changed behaviour" on every suite).
			word := drift.Words(drift.KindRegressed)
			if v != nil && v.Kind != "" {
				word = drift.Words(v.Kind)
			}
			add("bad", "▼", word, msg)
			attention(word)
		case store.StatusErrored, store.StatusInterrupted:
			add("warn", "⚠", string(last.Status), last.ErrorText)
			attention(string(last.Status))
		case store.StatusRefused:
			add("warn", "✎", "refused: pending sign-off", strings.TrimSpace(governance.FormatDiff(d.PendingSignoff)))
			attention("pending sign-off")
		case store.StatusFailed:
			var fs []string
			for _, f := range d.ThresholdFailures {
				fs = append(fs, fmt.Sprintf("%s %s < %s", f.Metric, fmtPct(f.Got), fmtPct(f.Want)))
			}
			add("bad", "✗", "below threshold", strings.Join(fs, "; "))
			attention("below threshold")
		case store.StatusPassed:
			add("ok", "✓", "ok", msg)
		default:
			add("mute", "?", string(last.Status), "")
		}
		if len(d.PendingSignoff) > 0 && last.Status != store.StatusRefused {
			add("warn", "✎", "pending sign-off", "the suite file changes thresholds nobody signed off; the signed-off ones are enforced:\n"+
				strings.TrimSpace(governance.FormatDiff(d.PendingSignoff)))
			attention("pending sign-off")
		}
		if v != nil {
			switch v.Kind {
			case drift.KindScorerChanged:
				add("warn", "⚖", drift.Words(v.Kind), v.Message)
				attention(drift.Words(v.Kind))
			case drift.KindIdentityChanged:
				who := "provider"
				if v.Identity != nil && v.Identity.Source() == "judge" {
					who = "judge"
				}
				add("info", "⇄", who+" "+drift.Words(v.Kind), v.Message)
			case drift.KindBehaviourChanged:
				add("info", "⇅", drift.Words(v.Kind), v.Message)
			case drift.KindWarmingUp:
				add("info", "◔", drift.Words(v.Kind), v.Message)
			case drift.KindNewSegment:
				add("info", "★", drift.Words(v.Kind), v.Message)
			case drift.KindRecovered:
				add("ok", "↑", drift.Words(v.Kind), v.Message)
			}
		}
	}
	if silence != nil {
		add("mute", "⊘", "silenced "+fmtIn(silence.Until, now), "silenced by "+silence.By+" until "+fmtTime(silence.Until)+": "+silence.Reason)
		if ps.Attention != "" {
			ps.Attention += " (silenced by " + silence.By + ")"
		}
	}
	if latest != nil && latest.Status == store.StatusRunning {
		add("info", "↻", "running", "run "+fmt.Sprint(latest.ID)+" started "+fmtAgo(latest.StartedAt, now))
	}
	return ps
}

// newestRuns returns a pair's newest production run and its newest
// finished one (nil when none). A pair's health is production's: the runs
// of CI gates (candidates, side-by-side arms) are left out, or a regressed
// candidate would show production as regressed.
func (s *Server) newestRuns(ctx context.Context, suite, target string) (latest, last *store.Run, err error) {
	runs, err := s.opts.Store.Runs(ctx, store.RunFilter{Suite: suite, Target: target, Production: true, Limit: 2})
	if err != nil {
		return nil, nil, err
	}
	for i := range runs {
		if i == 0 {
			latest = &runs[0]
		}
		if runs[i].Status != store.StatusRunning {
			last = &runs[i]
			break
		}
	}
	return latest, last, nil
}

// startFailure is the daemon's start failure of the pair, nil if none.
func (s *Server) startFailure(suite, target string) *daemon.StartFailure {
	if f, ok := s.opts.Daemon.StartFailure(suite, target); ok {
		return &f
	}
	return nil
}

func silenceFor(silences []store.Silence, suite, target string) *store.Silence {
	var out *store.Silence
	for i, si := range silences {
		if si.Suite == suite && si.Target == target && (out == nil || si.Until.After(out.Until)) {
			out = &silences[i]
		}
	}
	return out
}

func pairHref(suite, target string) string {
	return "/suites/" + url.PathEscape(suite) + "/" + url.PathEscape(target)
}

func runHref(id int64) string { return fmt.Sprintf("/runs/%d", id) }

type overviewRow struct {
	Suite, Target, Href string
	Schedule            string
	Status              pairStatus
	Spark               *chartView
	SparkNote           string
	PassRate, PassCI    string
	LastRun, LastTitle  string
	LastHref            string
	NextRun, NextTitle  string
	Cost, Budget        string
	BudgetMax, BudgetAt string // meter bounds
	OverBudget          bool
}

type overviewPage struct {
	layout
	Rows      []overviewRow
	Attention []overviewRow
}

// todayUTC is the start of the UTC day of t: budgets are per UTC day.
func todayUTC(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (s *Server) pageOverview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	silences, err := s.opts.Store.Silences(ctx, now)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	pairs := s.opts.Daemon.Pairs()
	costs := map[string]float64{}
	for _, pair := range pairs {
		if _, ok := costs[pair.Suite]; ok {
			continue
		}
		if costs[pair.Suite], err = s.opts.Store.CostSince(ctx, pair.Suite, todayUTC(now)); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	// The rows read the store independently: build them on as many
	// goroutines as there are CPUs (the store's read pool is at least as
	// large), all done before the page renders.
	rows := make([]overviewRow, len(pairs))
	errs := make([]error, len(pairs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, pair := range pairs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			rows[i], errs[i] = s.overviewRow(ctx, pair, silences, costs[pair.Suite], now)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.pageError(w, r, err)
		return
	}
	p := overviewPage{layout: s.layout("Overview", "overview"), Rows: rows}
	p.Refresh = 60
	for _, row := range rows {
		if row.Status.Attention != "" {
			p.Attention = append(p.Attention, row)
		}
	}
	s.render(w, r, http.StatusOK, "overview", p)
}

func (s *Server) overviewRow(ctx context.Context, pair daemon.Pair, silences []store.Silence, cost float64, now time.Time) (overviewRow, error) {
	row := overviewRow{Suite: pair.Suite, Target: pair.Target, Href: pairHref(pair.Suite, pair.Target), Schedule: pair.Schedule}
	latest, last, err := s.newestRuns(ctx, pair.Suite, pair.Target)
	if err != nil {
		return row, err
	}
	row.Status = statusOf(latest, last, silenceFor(silences, pair.Suite, pair.Target), s.startFailure(pair.Suite, pair.Target), now)
	var threshold *float64
	if last != nil {
		row.LastRun, row.LastTitle, row.LastHref = fmtAgo(last.StartedAt, now), fmtTime(last.StartedAt), runHref(last.ID)
		row.PassRate = fmtPctPtr(last.PassRate)
		if last.PassRate != nil {
			n := float64(parseDetail(last.Detail).ValidCases)
			if n == 0 {
				n = float64(last.Cases)
			}
			lo, hi := wilson(*last.PassRate, n)
			row.PassCI = fmt.Sprintf("95%% CI %s to %s over %d cases", fmtPct(lo), fmtPct(hi), int(n))
		}
		if t, ok := parseThresholds(last.ThresholdsJSON)["pass_rate"]; ok {
			threshold = &t
		}
	} else {
		row.LastRun = "never"
	}
	next := s.opts.Daemon.NextRun(pair.Suite, pair.Target)
	row.NextRun, row.NextTitle = fmtIn(next, now), fmtTime(next)
	if next.IsZero() {
		row.NextTitle = "the scheduler is not running this pair"
	}

	pts, err := s.trend(ctx, pair, latest, now)
	if err != nil {
		return row, err
	}
	if len(pts) > 0 {
		sp := sparkline(pts, threshold, pair.Suite+" on "+pair.Target)
		row.Spark = &sp
		row.SparkNote = "since " + fmtShortTime(pts[0].From, now)
	}

	row.Cost = fmtUSD(cost)
	if pair.BudgetUSDPerDay > 0 {
		row.Budget = fmtUSD(pair.BudgetUSDPerDay)
		row.BudgetMax = f4(pair.BudgetUSDPerDay)
		row.BudgetAt = f4(math.Min(cost, pair.BudgetUSDPerDay))
		row.OverBudget = cost >= pair.BudgetUSDPerDay
	}
	return row, nil
}

// sparkPoints is how many points a sparkline has at most (it is 160 px wide).
const sparkPoints = 40

// trendKey identifies what a pair's sparkline was computed from: runs are
// only ever added, and only the newest run of a pair changes (from
// running to its final status), so while the newest run and the hour of
// the window's start stay the same, so do the points.
type trendKey struct {
	suite, target string
	newestID      int64
	newestStatus  store.Status
	since         time.Time
}

// trendCache keeps each pair's sparkline points between requests: the
// overview of a year of history reads a month of runs per pair, and most
// refreshes find that no run has finished since the last one.
type trendCache struct {
	mu sync.Mutex
	m  map[[2]string]trendEntry
}

type trendEntry struct {
	key trendKey
	pts []store.TrendPoint
}

// trend returns a pair's sparkline points over the last sparkDays.
func (s *Server) trend(ctx context.Context, pair daemon.Pair, latest *store.Run, now time.Time) ([]store.TrendPoint, error) {
	key := trendKey{suite: pair.Suite, target: pair.Target, since: now.AddDate(0, 0, -sparkDays).Truncate(time.Hour)}
	if latest != nil {
		key.newestID, key.newestStatus = latest.ID, latest.Status
	}
	c := &s.trends
	c.mu.Lock()
	e, ok := c.m[[2]string{pair.Suite, pair.Target}]
	c.mu.Unlock()
	if ok && e.key == key {
		return e.pts, nil
	}
	pts, err := s.opts.Store.Trend(ctx, pair.Suite, pair.Target, key.since, sparkPoints)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[[2]string]trendEntry{}
	}
	c.m[[2]string{pair.Suite, pair.Target}] = trendEntry{key: key, pts: pts}
	c.mu.Unlock()
	return pts, nil
}

func f4(v float64) string { return fmt.Sprintf("%.4f", v) }

// sparkline draws the pass rate of trend points with the 95% Wilson band
// of one run at each point's rate; worse runs are triangles, runs that
// measured nothing crosses.
func sparkline(pts []store.TrendPoint, threshold *float64, what string) chartView {
	p := plot{w: 160, h: 36, l: 3, r: 3, t: 3, b: 3, t0: pts[0].From, t1: pts[len(pts)-1].To, y0: 0, y1: 1}
	xs, ys, lo, hi := make([]float64, len(pts)), make([]float64, len(pts)), make([]float64, len(pts)), make([]float64, len(pts))
	var marks []pointView
	regressed, runs := 0, 0
	for i, pt := range pts {
		xs[i] = p.x(mid(pt.From, pt.To))
		runs += pt.Total()
		if pt.Measured == 0 {
			ys[i], lo[i], hi[i] = math.NaN(), math.NaN(), math.NaN()
			marks = append(marks, pointView{D: cross(xs[i], p.y(0)-2, 2), Class: "pt-err"})
			continue
		}
		l, h := wilson(pt.PassRate, pt.Cases)
		ys[i], lo[i], hi[i] = p.y(pt.PassRate), p.y(l), p.y(h)
		if n := pt.Runs[store.StatusRegressed]; n > 0 {
			regressed += n
			marks = append(marks, pointView{D: triangle(xs[i], ys[i], 3), Class: "pt-bad"})
		}
	}
	first, last := "", ""
	for _, pt := range pts {
		if pt.Measured > 0 {
			if first == "" {
				first = fmtPct(pt.PassRate)
			}
			last = fmtPct(pt.PassRate)
		}
	}
	label := fmt.Sprintf("pass rate of %s over %s: %s at first, %s last", what, plural.N(runs, "run"), first, last)
	if regressed > 0 {
		label += fmt.Sprintf("; %s regressed", plural.N(regressed, "run"))
	}
	v := p.view("spark", label)
	v.Bands = []pathView{{D: band(xs, lo, hi), Class: "band"}}
	v.Paths = []pathView{{D: polyline(xs, ys), Class: "line"}}
	if threshold != nil {
		y := f1(p.y(*threshold))
		v.HLines = []hlineView{{Y: y, X1: f1(p.l), X2: f1(p.w - p.r), Class: "threshold"}}
	}
	v.Points = marks
	return v
}

func mid(a, b time.Time) time.Time { return a.Add(b.Sub(a) / 2) }
