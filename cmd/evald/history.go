package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

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
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErr("takes at most one suite name (got %d)", len(pos))
	}
	st, err := pf.openStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	f := store.RunFilter{Target: *target, Limit: *limit}
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
	runs, err := st.History(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range runs {
			if err := enc.Encode(historyJSON(r, detailOf(r))); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tSUITE\tTARGET\tTRIGGER\tSTATUS\tPASS RATE\tMEAN SCORE\tVERDICT")
	for _, r := range runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.StartedAt.Local().Format("2006-01-02 15:04:05"),
			r.Suite, r.Target, triggerText(r.Trigger, r.Role), r.Status, fmtRate(r.PassRate), fmtRate(r.MeanScore), orDash(r.Verdict))
	}
	return tw.Flush()
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
