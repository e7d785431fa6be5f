package main

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/plural"
	"github.com/evald/evald/store"
)

// markdownReport renders one run for a pull request comment or a CI step
// summary (GitHub-flavoured markdown): a verdict line, the metrics of the
// baseline and the candidate with their 95 % intervals, and the regressed
// and improved cases with short excerpts. Everything that comes from a
// model or a file is escaped as data.
func markdownReport(rep *runReport) string {
	res := rep.res
	r := res.Run
	var b strings.Builder
	kind := ""
	if rep.candidate {
		kind = " (candidate)"
	}
	fmt.Fprintf(&b, "### evald: %s on %s%s: %s\n\n", md(r.Suite), md(r.Target), kind, strings.ToUpper(string(r.Status)))
	fmt.Fprintf(&b, "%s\n\n", verdictLine(rep))
	if r.Status == store.StatusRefused {
		// What a pull-request comment needs: what changed, as stderr says.
		if changes := res.Governance.Changes; len(changes) > 0 {
			b.WriteString("| governed | signed off | now | change |\n| --- | --- | --- | --- |\n")
			for _, c := range changes {
				old, now := c.Values()
				dir := string(c.Direction)
				if c.Direction == governance.Added && c.NeedsSignoff {
					dir += ", needs sign-off"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", md(c.Key), md(old), md(now), md(dir))
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	g := res.Gate
	if g != nil && g.PassRate.N == 0 {
		b.WriteString("No case has answers on both sides: nothing could be compared.\n\n")
	} else if g != nil {
		fmt.Fprintf(&b, "| metric | baseline: run %d | candidate: run %d | change |\n| --- | --- | --- | --- |\n", g.Baseline.RunID, r.ID)
		fmt.Fprintf(&b, "| pass rate | %s | %s | %s |\n", withCI(g.Baseline.PassRate, g.Baseline.PassRateCI), withCI(g.Candidate.PassRate, g.Candidate.PassRateCI), change(g.PassRate))
		fmt.Fprintf(&b, "| mean score | %s | %s | %s |\n", withCI(g.Baseline.MeanScore, g.Baseline.MeanScoreCI), withCI(g.Candidate.MeanScore, g.Candidate.MeanScoreCI), change(g.MeanScore))
		fmt.Fprintf(&b, "| paired cases | %d | %d | %d dropped (on one side only) |\n\n", g.Baseline.Cases, g.Candidate.Cases, g.PassRate.Dropped)
	} else if r.PassRate != nil {
		lo, hi := wilson(*r.PassRate, res.Summary.ValidCases)
		fmt.Fprintf(&b, "| metric | run %d |\n| --- | --- |\n", r.ID)
		fmt.Fprintf(&b, "| pass rate | %s |\n| mean score | %.3f |\n| cases | %d of %d answered |\n\n", withCI(*r.PassRate, [2]float64{lo, hi}), *r.MeanScore, res.Summary.ValidCases, r.Cases)
	}
	if t := thresholdsLine(res); t != "" {
		fmt.Fprintf(&b, "Thresholds: %s.\n\n", t)
	}
	fmt.Fprintf(&b, "%s\n\n", runLine(rep))
	if g != nil && g.PassRate.N > 0 {
		mdCases(&b, "Regressed cases", g.RegressedCases, g.NRegressedCases, "candidate's failed assertions")
		mdCases(&b, "Improved cases", g.ImprovedCases, g.NImprovedCases, "baseline's failed assertions")
	}
	if failing, listed := rep.failingNotListed(); (g == nil || len(res.ThresholdFailures) > 0) && len(failing) > 0 {
		fmt.Fprintf(&b, "#### Failing cases (%d)\n\n", len(res.FailedCases))
		if listed > 0 {
			fmt.Fprintf(&b, "%s listed above as regressed; the others:\n\n", plural.N(listed, "case"))
		}
		b.WriteString("| case | passed | why |\n| --- | --- | --- |\n")
		for i, c := range failing {
			if i == drift.MaxListedCases {
				fmt.Fprintf(&b, "\n... and %d more.\n", len(failing)-i)
				break
			}
			fmt.Fprintf(&b, "| %s | %d/%d | %s |\n", md(c.ID), c.Passed, c.Samples, md(strings.Join(c.Reasons, "; ")))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// verdictLine is the one sentence a reviewer reads first.
func verdictLine(rep *runReport) string {
	res := rep.res
	r, g := res.Run, res.Gate
	against := ""
	if g != nil {
		against = " against " + md(baselineName(g))
	}
	switch r.Status {
	case store.StatusRefused:
		if res.Governance.Kind == governance.Unsigned {
			return fmt.Sprintf("**REFUSED**: the suite has no sign-off (a new or renamed suite needs its own); to record the first, run `%s`.", rep.cmd.signoff(r.Suite))
		}
		return fmt.Sprintf("**REFUSED**: the suite's governed set (thresholds, cases, assertions, judge) differs from the signed-off one as below; to put it in force run `%s`.", rep.cmd.signoff(r.Suite))
	case store.StatusErrored, store.StatusInterrupted:
		return fmt.Sprintf("**%s**: the run could not be completed: %s.", strings.ToUpper(string(r.Status)), md(incompleteWhy(rep)))
	case store.StatusRegressed:
		return fmt.Sprintf("**REGRESSED**%s: %s.", against, md(g.Message))
	}
	var parts []string
	if len(res.ThresholdFailures) > 0 {
		fs := make([]string, len(res.ThresholdFailures))
		for i, f := range res.ThresholdFailures {
			fs[i] = f.String()
		}
		parts = append(parts, "threshold failed: "+md(strings.Join(fs, ", ")))
	}
	switch {
	case g != nil && g.Decision == daemon.DecisionImproved:
		parts = append(parts, "better"+against+": "+md(g.Message))
	case g != nil:
		parts = append(parts, "no regression"+against+": "+md(g.Message))
	case rep.candidate:
		parts = append(parts, "no baseline: thresholds only")
	case len(res.ThresholdFailures) == 0:
		parts = append(parts, "every threshold met")
	}
	return fmt.Sprintf("**%s**: %s.", strings.ToUpper(string(r.Status)), strings.Join(parts, "; "))
}

func baselineName(g *daemon.GateVerdict) string {
	b := g.Baseline
	switch b.Mode {
	case daemon.BaselineSideBySide:
		return fmt.Sprintf("production run side by side (run %d)", b.RunID)
	case daemon.BaselineRun:
		return fmt.Sprintf("run %d", b.RunID)
	}
	if b.Source != "" && b.Source != "store" {
		return fmt.Sprintf("the latest production run (run %d on %s)", b.RunID, b.Source)
	}
	return fmt.Sprintf("the latest production run (run %d)", b.RunID)
}

func withCI(v float64, ci [2]float64) string {
	return fmt.Sprintf("%.3f (%.3f to %.3f)", v, ci[0], ci[1])
}

func change(c drift.Comparison) string {
	if c.N == 0 {
		return "no paired case"
	}
	return fmt.Sprintf("%+.3f (%+.3f to %+.3f), p = %.3g", c.Delta, c.CILow, c.CIHigh, c.PTwoSided)
}

func thresholdsLine(res *daemon.Result) string {
	var parts []string
	checked := res.Run.Status != store.StatusErrored && res.Run.Status != store.StatusInterrupted
	add := func(metric string, want, got *float64) {
		if want == nil {
			return
		}
		if !checked {
			parts = append(parts, fmt.Sprintf("%s >= %.3f: not checked (the run did not complete)", metric, *want))
			return
		}
		verdict := "met"
		for _, f := range res.ThresholdFailures {
			if f.Metric == metric {
				verdict = "**not met**"
			}
		}
		v := "n/a"
		if got != nil {
			v = fmt.Sprintf("%.3f", *got)
		}
		parts = append(parts, fmt.Sprintf("%s >= %.3f: %s, %s", metric, *want, v, verdict))
	}
	add("pass_rate", res.Suite.Thresholds.PassRate, res.Run.PassRate)
	add("mean_score", res.Suite.Thresholds.MeanScore, res.Run.MeanScore)
	return strings.Join(parts, "; ")
}

func runLine(rep *runReport) string {
	res := rep.res
	r, s := res.Run, res.Summary
	var b strings.Builder
	if o := overrides(rep); o != "" {
		fmt.Fprintf(&b, "Candidate: %s. ", md(o))
	}
	fmt.Fprintf(&b, "Run %d: suite version `%s`, prompt version `%s`, target version `%s`; %d samples, %d missing; %d tokens in, %d out; cost $%.4f.",
		r.ID, short(r.SuiteVersion), short(r.PromptVersion), short(r.TargetVersion), s.Samples, s.Errors, s.PromptTokens, s.CompletionTokens, rep.costUSD())
	if rep.cached {
		fmt.Fprintf(&b, " %d of %d answers from the response cache, which cost nothing.", min(rep.cacheHits, rep.cacheSamples()), rep.cacheSamples())
	}
	if g := res.Gate; g != nil && g.Baseline.SuiteVersion != "" {
		fmt.Fprintf(&b, " Baseline run %d: suite version `%s`, prompt version `%s`, target version `%s`.",
			g.Baseline.RunID, short(g.Baseline.SuiteVersion), short(g.Baseline.PromptVersion), short(g.Baseline.TargetVersion))
	}
	return b.String()
}

// short abbreviates a sha256 version for display.
func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

func mdCases(b *strings.Builder, title string, cs []daemon.CaseChange, n int, why string) {
	fmt.Fprintf(b, "#### %s (%d)\n\n", title, n)
	if n == 0 {
		b.WriteString("None.\n\n")
		return
	}
	fmt.Fprintf(b, "| case | baseline | candidate | baseline answer | candidate answer | %s |\n| --- | --- | --- | --- | --- | --- |\n", why)
	for _, c := range cs {
		fmt.Fprintf(b, "| %s | %d/%d | %d/%d | %s | %s | %s |\n", md(c.ID), c.BaselinePassed, c.BaselineSamples, c.CandidatePassed, c.CandidateSamples,
			md(clipText(c.BaselineOutput, 80)), md(clipText(c.CandidateOutput, 80)), md(clipText(strings.Join(c.Reasons, "; "), 120)))
	}
	if n > len(cs) {
		fmt.Fprintf(b, "\n... and %d more (the JSON report lists up to %d).\n", n-len(cs), drift.MaxListedCases)
	}
	b.WriteString("\n")
}

// md escapes text for markdown, as data: markup characters are
// backslash-escaped, line breaks become spaces (a table row is one line),
// and @mentions are broken so a model's answer pings nobody.
func md(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&', '#':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '@':
			b.WriteString("@\u200b")
		default:
			if unicode.IsControl(r) {
				r = '\uFFFD' // an escape sequence must not reach a terminal or a CI log
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
