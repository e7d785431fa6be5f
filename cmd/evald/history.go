package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/store"
)

func cmdHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("history", stdout, stderr)
	var pf projectFlags
	pf.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per run")
	target := fs.String("target", "", "only runs on this `target`")
	limit := fs.Int("limit", 0, "only the newest `N` runs (0: all)")
	var since, until timeFlag
	fs.Var(&since, "since", "only runs started at or after `WHEN`: a time (2025-06-01 or RFC 3339) or how long ago (7d, 12h)")
	fs.Var(&until, "until", "only runs started before `WHEN` (as --since)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *limit < 0 {
		return usageErr("--limit must be 0 (all) or more (got %d)", *limit)
	}
	if len(pos) > 1 {
		return usageErr("takes at most one suite name (got %d)", len(pos))
	}
	st, err := pf.openStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	f := store.RunFilter{Target: *target, Limit: *limit, Since: since.at(now), Until: until.at(now)}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return usageErr("--since (%s) must be before --until (%s)", f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	if len(pos) == 1 {
		f.Suite = pos[0]
	}
	// Names are checked against the config (when --db does not stand in
	// for it) and the store: a typo exits 2 instead of an empty table.
	var proj *configs.Project
	if pf.db == "" {
		if proj, err = pf.load(); err != nil {
			return err
		}
	}
	if err := storedNames(ctx, proj, pf.dbPath(proj), st, f.Suite, f.Target); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return st.EachRun(ctx, f, store.OldestFirst, func(r store.Run) error {
			return enc.Encode(historyJSON(r, detailOf(r)))
		})
	}
	return historyTable(ctx, st, f, stdout)
}

// historyTable prints the runs matching f as a table, streaming them: the
// columns' widths are measured by the store first, so no run is held.
func historyTable(ctx context.Context, st *store.Store, f store.RunFilter, stdout io.Writer) error {
	w, err := st.TextWidths(ctx, f)
	if err != nil {
		return err
	}
	trig := len("TRIGGER")
	for role, n := range w.Trigger {
		if n > 0 {
			trig = max(trig, utf8.RuneCountInString(triggerText(strings.Repeat("x", n), role)))
		}
	}
	cols := []int{max(len("RUN"), len(strconv.FormatInt(w.MaxID, 10))), len("2006-01-02 15:04:05"),
		max(len("SUITE"), w.Suite), max(len("TARGET"), w.Target), trig, len(store.StatusInterrupted), len("PASS RATE"), len("MEAN SCORE")}
	bw := bufio.NewWriter(stdout)
	line := func(cells ...string) error {
		for i, c := range cells[:len(cells)-1] {
			fmt.Fprintf(bw, "%-*s  ", cols[i], c)
		}
		_, err := fmt.Fprintln(bw, cells[len(cells)-1])
		return err
	}
	if err := line("RUN", "STARTED", "SUITE", "TARGET", "TRIGGER", "STATUS", "PASS RATE", "MEAN SCORE", "VERDICT"); err != nil {
		return err
	}
	err = st.EachRun(ctx, f, store.OldestFirst, func(r store.Run) error {
		return line(strconv.FormatInt(r.ID, 10), r.StartedAt.Local().Format("2006-01-02 15:04:05"),
			r.Suite, r.Target, triggerText(r.Trigger, r.Role), string(r.Status), fmtRate(r.PassRate), fmtRate(r.MeanScore), orDash(r.Verdict))
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// timeFlag is --since or --until: a time, a date (midnight UTC) or how
// long before now.
type timeFlag struct {
	t   time.Time
	ago time.Duration
	set bool
}

func (f *timeFlag) String() string {
	switch {
	case !f.set:
		return ""
	case f.ago > 0:
		return f.ago.String() + " ago"
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			*f = timeFlag{t: t, set: true}
			return nil
		}
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a time (2025-06-01, 2025-06-01T12:00:00Z) or how long ago (7d, 12h) (got %q)", s)
	}
	*f = timeFlag{ago: d, set: true}
	return nil
}

// at is the flag's time (zero when unset), durations counted back from now.
func (f *timeFlag) at(now time.Time) time.Time {
	if f.ago > 0 {
		return now.Add(-f.ago)
	}
	return f.t
}

// detailOf decodes a run's detail once for every field history shows; a
// detail that does not decode (or is empty) shows as none.
func detailOf(r store.Run) daemon.Detail {
	var d daemon.Detail
	_ = json.Unmarshal([]byte(r.Detail), &d)
	return d
}

// triggerText is a run's trigger as the table shows it: a gate run of
// `evald run`, which does not measure production, says which side it was.
func triggerText(trigger string, role store.Role) string {
	switch role {
	case store.RoleReference:
		return trigger + " (side-by-side baseline)"
	case store.RoleCandidate:
		return trigger + " (candidate)"
	}
	return trigger
}

// historyRun is one line of `evald history --json`. Candidate marks a
// candidate run of `evald run` (--prompt, --model, --baseline) and GateRole
// a gate run's side (candidate, side_by_side_baseline): neither measures
// production. Verdict, the drift verdict, is null for a run without one
// (refused, candidate, still running).
type historyRun struct {
	RunID         int64          `json:"run_id"`
	Suite         string         `json:"suite"`
	Target        string         `json:"target"`
	Trigger       string         `json:"trigger"`
	Candidate     bool           `json:"candidate"`
	GateRole      string         `json:"gate_role,omitempty"`
	Status        store.Status   `json:"status"`
	StartedAt     string         `json:"started_at"`
	FinishedAt    *string        `json:"finished_at"`
	PassRate      *float64       `json:"pass_rate"`
	MeanScore     *float64       `json:"mean_score"`
	SuiteVersion  string         `json:"suite_version"`
	PromptVersion string         `json:"prompt_version"`
	TargetVersion string         `json:"target_version"`
	Provider      providerJSON   `json:"provider"`
	Judge         *judgeJSON     `json:"judge,omitempty"`
	Verdict       *string        `json:"verdict"`
	Cases         int            `json:"cases"`
	Samples       int            `json:"samples"`
	Errors        int            `json:"errors"`
	CostUSD       float64        `json:"cost_usd"`
	DurationMS    int64          `json:"duration_ms"`
	Extra         map[string]any `json:"-"`
}

type providerJSON struct {
	Models       map[string]int `json:"models"`
	Fingerprints map[string]int `json:"fingerprints"`
}

func historyJSON(r store.Run, d daemon.Detail) historyRun {
	h := historyRun{
		RunID: r.ID, Suite: r.Suite, Target: r.Target, Trigger: r.Trigger, Status: r.Status,
		StartedAt: r.StartedAt.UTC().Format(timeFormat), PassRate: r.PassRate, MeanScore: r.MeanScore,
		SuiteVersion: r.SuiteVersion, PromptVersion: r.PromptVersion, TargetVersion: r.TargetVersion,
		Cases: r.Cases, Samples: r.Samples, Errors: r.Errors, CostUSD: r.CostUSD, DurationMS: r.DurationMS,
	}
	if !r.FinishedAt.IsZero() {
		s := r.FinishedAt.UTC().Format(timeFormat)
		h.FinishedAt = &s
	}
	if r.Verdict != "" {
		h.Verdict = &r.Verdict
	}
	h.Candidate, h.GateRole = d.Candidate, d.GateRole
	h.Provider = nonNilProvider(providerJSON{Models: d.Models, Fingerprints: d.Fingerprints})
	h.Judge = judgeOf(d.Judge)
	return h
}

const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// nonNilProvider makes nil maps empty, so that JSON shows {} rather than
// null for a run that got no answer.
func nonNilProvider(p providerJSON) providerJSON {
	if p.Models == nil {
		p.Models = map[string]int{}
	}
	if p.Fingerprints == nil {
		p.Fingerprints = map[string]int{}
	}
	return p
}

// judgeJSON is the judge that graded a run's model-graded assertions: its
// target, the model and system_fingerprint values it returned (per graded
// sample) and what grading cost. Runs without a judge have none.
type judgeJSON struct {
	Target       string         `json:"target"`
	Models       map[string]int `json:"models"`
	Fingerprints map[string]int `json:"fingerprints"`
	Tokens       tokensJSON     `json:"tokens"`
	CostUSD      float64        `json:"cost_usd"`
}

// judgeOf reads the judge from a run's detail; nil when the run had none.
func judgeOf(jd *daemon.JudgeDetail) *judgeJSON {
	if jd == nil {
		return nil
	}
	j := &judgeJSON{
		Target: jd.Target, Models: jd.Models, Fingerprints: jd.Fingerprints,
		Tokens:  tokensJSON{Prompt: jd.PromptTokens, Completion: jd.CompletionTokens},
		CostUSD: jd.CostUSD,
	}
	if j.Models == nil {
		j.Models = map[string]int{}
	}
	if j.Fingerprints == nil {
		j.Fingerprints = map[string]int{}
	}
	return j
}

func fmtRate(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *p)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
