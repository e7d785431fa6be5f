package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/internal/plural"
)

// dryRunJSON is one line of `evald run --dry-run --format json`.
type dryRunJSON struct {
	DryRun   bool   `json:"dry_run"`
	Baseline string `json:"baseline,omitempty"`
	daemon.Estimate
}

// writeDryRun prints what each job would send and cost; nothing is sent.
// JSON prints one object per job; every other format prints text.
func writeDryRun(w io.Writer, format string, plans []jobPlan, total, budget float64) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, p := range plans {
			if err := enc.Encode(dryRunJSON{DryRun: true, Baseline: p.mode, Estimate: p.estimate}); err != nil {
				return err
			}
		}
		return nil
	}
	requests, judgeRequests := 0, 0
	for _, p := range plans {
		e := p.estimate
		requests += e.Requests
		what := "production measurement"
		if p.candidate {
			what = "candidate, baseline " + p.mode
			if p.gate.Baseline != nil {
				what += fmt.Sprintf(" (run %d)", p.gate.Baseline.Run.ID)
			}
		}
		arms := ""
		if e.SideBySide {
			arms = ", production and candidate side by side"
		}
		fmt.Fprintf(w, "%s on %s: dry run, nothing sent (%s)\n", e.Suite, e.Target, what)
		if e.CachedRequests > 0 {
			arms += fmt.Sprintf("; %d answered from the response cache, free", e.CachedRequests)
		}
		if e.LowerBound {
			arms = ", one a turn" + arms
		}
		fmt.Fprintf(w, "  requests       %d (%s × %s%s)\n", e.Requests, plural.N(e.Cases, "case"), plural.N(e.Repeats, "repeat"), arms)
		fmt.Fprintf(w, "  prompt tokens  ~%d (about %d characters a token, %d a message)\n", e.PromptTokens, daemon.CharsPerToken, daemon.TokensPerMessage)
		fmt.Fprintf(w, "  answer tokens  ~%d (%d a request: %s)\n", e.CompletionTokens, e.CompletionPerRequest, completionSource(e))
		fmt.Fprintf(w, "  cost           ~$%.4f", e.CostUSD)
		if e.MaxCostUSD > 0 {
			fmt.Fprintf(w, " (at most $%.4f with every answer at max_tokens)", e.MaxCostUSD)
		}
		fmt.Fprintln(w)
		if e.LowerBound {
			fmt.Fprintf(w, "  agent suite    a lower bound: one request per turn with the tools and the turns' messages; the tool round trips\n"+
				"                 and the answers and tool results each request re-sends are not counted (up to %d requests with max_tool_steps)\n", e.MaxRequests)
		}
		if j := e.Judge; j != nil {
			judgeRequests += j.Requests
			embeddings := ""
			if j.EmbeddingRequests > 0 {
				embeddings = fmt.Sprintf(" (%d embeddings, ~%d of the prompt tokens)", j.EmbeddingRequests, j.EmbeddingTokens)
			}
			fmt.Fprintf(w, "  judge          %s: %d requests%s, ~%d prompt tokens, ~%d answer tokens (%d an answer, assumed), ~$%.4f\n",
				j.Target, j.Requests, embeddings, j.PromptTokens, j.CompletionTokens, j.CompletionPerRequest, j.CostUSD)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range e.PerCase {
			arm := c.Arm
			if arm == "" {
				arm = "production"
			}
			fmt.Fprintf(tw, "    %s\t%s\tx%d\t~%d prompt tokens each\n", arm, c.ID, c.Requests, c.PromptTokens)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "total: %d requests", requests)
	if judgeRequests > 0 {
		fmt.Fprintf(w, " + %d judge requests", judgeRequests)
	}
	fmt.Fprintf(w, ", ~$%.4f", total)
	if budget > 0 {
		verdict := "within"
		if total > budget {
			verdict = "OVER"
		}
		fmt.Fprintf(w, " (%s --budget-usd %g)", verdict, budget)
	}
	fmt.Fprintln(w)
	return nil
}

func completionSource(e daemon.Estimate) string {
	switch e.CompletionSource {
	case daemon.FromHistory:
		return fmt.Sprintf("the mean answer of run %d", e.HistoryRunID)
	case daemon.FromMaxTokens:
		return "the target's max_tokens, an upper bound"
	}
	return "a default guess; no earlier run and no max_tokens"
}
