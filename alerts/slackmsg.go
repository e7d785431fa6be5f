package alerts

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/evald/evald/drift"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/plural"
)

// Slack Block Kit limits the renderer stays within.
const (
	slackHeaderRunes  = 150
	slackSectionRunes = 3000
)

// SlackMessage renders a notice as a Slack message: Block Kit blocks and
// the fallback text shown in notifications. Every piece of untrusted text
// is escaped for mrkdwn, and mrkdwn objects are verbatim (no automatic
// links or mentions), so model output cannot ping a channel or make a link.
// Link unfurling is off.
func SlackMessage(n Notice) slack.WebhookMessage {
	var blocks []slack.Block
	switch n.Action {
	case ActionResolve:
		blocks = resolutionBlocks(n)
	case ActionUpdate, ActionSuppress, ActionNone:
		blocks = updateBlocks(n)
	default:
		blocks = openBlocks(n)
	}
	no := false
	return slack.WebhookMessage{
		Text:        fallbackText(n),
		Blocks:      &slack.Blocks{BlockSet: blocks},
		UnfurlLinks: &no,
		UnfurlMedia: &no,
	}
}

// what names the incident: "Regression: faq on prod".
func what(n Notice) string {
	s := n.Incident.Kind.Title()
	if n.Incident.Kind == KindIdentityChanged && n.Event != nil && n.Event.Identity.judgeOnly() {
		s = "Judge identity changed"
	}
	switch {
	case n.Incident.Kind == KindJudgeCalibrationFailed && n.Incident.Suite != "":
		s += ": " + n.Incident.Suite + ", judge " + n.Incident.Target
	case n.Incident.Suite != "" && n.Incident.Target != "":
		s += ": " + n.Incident.Suite + " on " + n.Incident.Target
	case n.Incident.Suite != "":
		s += ": " + n.Incident.Suite
	}
	return s
}

func fallbackText(n Notice) string {
	var prefix string
	switch n.Action {
	case ActionResolve:
		prefix = "Resolved: "
	case ActionRenotify:
		prefix = "Still open: "
	case ActionUpdate:
		prefix = "Update: "
	}
	s := prefix + what(n)
	switch {
	case n.Action == ActionResolve:
		if n.Note != "" {
			s += " — " + n.Note
		}
	case n.Event.Summary != "":
		s += " — " + n.Event.Summary
	}
	return inline(s, 500)
}

func header(text string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, Truncate(text, slackHeaderRunes), true, false))
}

// mrkdwn is a verbatim mrkdwn text object: text must already be escaped.
func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, Truncate(text, slackSectionRunes), false, true)
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(mrkdwn(text), nil, nil)
}

func contextBlock(text string) slack.Block {
	return slack.NewContextBlock("", mrkdwn(text))
}

func emoji(n Notice) string {
	switch {
	case n.Action == ActionResolve:
		return ":white_check_mark:"
	case n.Incident.Severity == SeverityInfo:
		return ":information_source:"
	}
	return ":rotating_light:"
}

func openBlocks(n Notice) []slack.Block {
	title := emoji(n) + " " + what(n)
	if n.Action == ActionRenotify {
		title = emoji(n) + " Still open: " + what(n)
	}
	blocks := []slack.Block{header(title)}
	if n.Action == ActionRenotify {
		blocks = append(blocks, contextBlock(fmt.Sprintf("Still open after %s (opened %s).",
			humanDuration(n.At.Sub(n.Incident.OpenedAt)), n.Incident.OpenedAt.UTC().Format("2006-01-02 15:04 MST"))))
	}
	if n.Event.Summary != "" {
		blocks = append(blocks, section(inline(n.Event.Summary, 1000)))
	}
	blocks = append(blocks, factBlocks(n)...)
	blocks = append(blocks, flippedBlocks(n.Event)...)
	return append(blocks, footer(n)...)
}

func updateBlocks(n Notice) []slack.Block {
	text := "*Update* on " + Escape(what(n))
	if n.Event.Summary != "" {
		text += ": " + inline(n.Event.Summary, 1000)
	}
	blocks := []slack.Block{section(text)}
	blocks = append(blocks, factBlocks(n)...)
	return append(blocks, footer(n)...)
}

func resolutionBlocks(n Notice) []slack.Block {
	blocks := []slack.Block{header(emoji(n) + " Resolved: " + what(n))}
	text := fmt.Sprintf("Cleared after %s (opened %s).", humanDuration(n.Incident.ResolvedAt.Sub(n.Incident.OpenedAt)),
		n.Incident.OpenedAt.UTC().Format("2006-01-02 15:04 MST"))
	if n.Note != "" {
		text += "\n*Why:* " + inline(n.Note, 1000)
	}
	blocks = append(blocks, section(text))
	return append(blocks, footer(n)...)
}

// factBlocks are the evidence: statistics, provider side, failed bars,
// pending changes and the cause.
func factBlocks(n Notice) []slack.Block {
	ev := n.Event
	var blocks []slack.Block
	if r := ev.Regression; r != nil {
		blocks = append(blocks, section(regressionText(r)))
	}
	switch {
	case ev.Kind == KindScorerChanged:
		blocks = append(blocks, section("*Judge side:* "+providerText(ev.Identity)),
			section("The grades moved because the judge changed, not the model under test. "+
				"Re-grade stored reference outputs with today's judge to confirm, pin the judge, then accept the new reference."))
	case ev.Regression != nil || ev.Identity != nil:
		blocks = append(blocks, section("*Provider side:* "+providerText(ev.Identity)))
	}
	if bs := ev.Behaviour; bs != nil {
		blocks = append(blocks, section(behaviourText(bs)))
	}
	if len(ev.ThresholdFailures) > 0 {
		var b strings.Builder
		b.WriteString("*Failed bars:*")
		for _, f := range ev.ThresholdFailures {
			fmt.Fprintf(&b, "\n• %s %.3f, bar %.3f", code(f.Metric), f.Got, f.Want)
		}
		blocks = append(blocks, section(b.String()))
	}
	if len(ev.PendingChanges) > 0 {
		var b strings.Builder
		b.WriteString("*Changes pending sign-off* (the signed-off bar stays in force where the files allow):")
		for _, c := range ev.PendingChanges {
			b.WriteString("\n• " + inline(c.String(), 300))
		}
		if ev.Suite != "" {
			b.WriteString("\nSign off with " + code(governance.SignoffCommand(ev.Suite)))
		}
		blocks = append(blocks, section(b.String()))
	}
	blocks = append(blocks, calibrationBlocks(ev.Suite, ev.Calibration)...)
	if ev.Error != "" {
		blocks = append(blocks, section("*Cause:*\n"+codeBlock(ev.Error)))
	}
	return blocks
}

// behaviourText lists the behaviour signals that moved and the cases that
// moved most each way (case ids are data: escaped).
func behaviourText(bs *drift.BehaviourStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*Moved* _(%d runs from run %d against %d reference runs; each signal at level %.2g)_", bs.Runs, bs.FromRun, bs.RefRuns, bs.Alpha)
	for _, s := range bs.Signals {
		if s.Moved {
			fmt.Fprintf(&b, "\n• %s: %.3g → %.3g (p = %.2g)", Escape(s.Name), s.Before, s.After, s.P)
		}
	}
	moves := func(label string, ms []drift.CaseMove) {
		if len(ms) == 0 {
			return
		}
		b.WriteString("\n*" + label + ":* ")
		for i, m := range ms {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %.0f%% → %.0f%%", code(m.Case), 100*m.Before, 100*m.After)
		}
	}
	moves("Up most", bs.Up)
	moves("Down most", bs.Down)
	return b.String()
}

func regressionText(r *Regression) string {
	var b strings.Builder
	metric := cmp.Or(r.Metric, "pass rate")
	if r.Before != nil && r.After != nil {
		fmt.Fprintf(&b, "*%s* %s → %s _(95%% Wilson intervals over %d cases)_\n",
			capitalize(Escape(metric)), rateText(r.Before), rateText(r.After), r.Before.N)
	}
	fmt.Fprintf(&b, "*Δ* %s", pp(r.Delta))
	if r.DeltaLow != 0 || r.DeltaHigh != 0 {
		fmt.Fprintf(&b, " (95%% CI %s %s to %s)", drift.CIScope, pp(r.DeltaLow), pp(r.DeltaHigh))
	}
	fmt.Fprintf(&b, " · *p* %s one-sided", pValue(r.PValue))
	if r.Test != "" {
		fmt.Fprintf(&b, " (%s)", Escape(r.Test))
	}
	if r.PValueLabel != "" {
		fmt.Fprintf(&b, ", %s", Escape(r.PValueLabel))
	}
	if r.RunsSinceChange > 0 {
		fmt.Fprintf(&b, "\n*Runs since the change point:* %d (from run %d), against %d reference runs", r.RunsSinceChange, r.ChangeRun, r.ReferenceRuns)
	}
	if r.PassToFail > 0 || r.FailToPass > 0 {
		fmt.Fprintf(&b, " · %s pass → fail, %d fail → pass", plural.N(r.PassToFail, "case"), r.FailToPass)
	}
	if len(r.Reference) > 0 {
		fmt.Fprintf(&b, "\n*Measured against reference* %s", Escape(referenceText(r.Reference)))
	}
	return b.String()
}

func providerText(id *Identity) string {
	if id == nil || len(id.Changes) == 0 {
		return Escape(NoIdentityChange)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "identity changed at run %d", id.Run)
	for _, c := range id.Changes {
		fmt.Fprintf(&b, "\n• %s: %s", Escape(c.Source), inline(c.Reason, 300))
		if len(c.Before.Models)+len(c.After.Models) > 0 {
			fmt.Fprintf(&b, "\n   models %s → %s", shares(c.Before.Models), shares(c.After.Models))
		}
		if len(c.Before.Fingerprints)+len(c.After.Fingerprints) > 0 {
			fmt.Fprintf(&b, "\n   fingerprints %s → %s", shares(c.Before.Fingerprints), shares(c.After.Fingerprints))
		}
	}
	return b.String()
}

// shares prints a distribution as its three largest shares.
func shares(m map[string]int) string {
	total := 0
	for _, v := range m {
		total += max(v, 0)
	}
	if total == 0 {
		return "_(none)_"
	}
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	var parts []string
	for i, k := range keys {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("+%d more", len(keys)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", code(k), 100*float64(max(m[k], 0))/float64(total)))
	}
	return strings.Join(parts, ", ")
}

func flippedBlocks(ev *Event) []slack.Block {
	if len(ev.Flipped) == 0 {
		return nil
	}
	title := "*Flipped cases* (pass → fail)"
	if r := ev.Regression; r != nil && r.PassToFail > len(ev.Flipped) {
		title = fmt.Sprintf("*Flipped cases* (%d of %d pass → fail)", len(ev.Flipped), r.PassToFail)
	}
	blocks := []slack.Block{slack.NewDividerBlock(), section(title)}
	for _, f := range ev.Flipped {
		blocks = append(blocks, slack.NewSectionBlock(
			mrkdwn("*Case* "+code(f.ID)+"\n*Input*\n"+codeBlock(f.Input)),
			[]*slack.TextBlockObject{
				mrkdwn("*Before*\n" + codeBlock(f.Baseline)),
				mrkdwn("*Now*\n" + codeBlock(f.Current)),
			}, nil))
	}
	return blocks
}

// footer is the versions and the link to the run.
func footer(n Notice) []slack.Block {
	ev := n.Event
	var parts []string
	for _, v := range []struct{ name, hash string }{
		{"prompt", ev.Versions.Prompt}, {"suite", ev.Versions.Suite},
		{"target", ev.Versions.Target}, {"thresholds", ev.Versions.Thresholds},
	} {
		if v.hash != "" {
			parts = append(parts, v.name+" "+code(short(v.hash)))
		}
	}
	var blocks []slack.Block
	if len(parts) > 0 {
		blocks = append(blocks, contextBlock("*Versions* "+strings.Join(parts, " · ")))
	}
	var ctx []string
	switch {
	case n.Action == ActionResolve && n.ResolvedByRun != 0 && ev.RunID != 0:
		ctx = append(ctx, fmt.Sprintf("cleared by run %d (last seen in run %d)", n.ResolvedByRun, ev.RunID))
	case n.Action == ActionResolve && n.ResolvedByRun != 0:
		ctx = append(ctx, fmt.Sprintf("cleared by run %d", n.ResolvedByRun))
	case ev.RunID != 0 && n.Action == ActionResolve:
		ctx = append(ctx, fmt.Sprintf("last seen in run %d", ev.RunID))
	case ev.RunID != 0:
		ctx = append(ctx, fmt.Sprintf("run %d", ev.RunID))
	}
	if !ev.At.IsZero() {
		ctx = append(ctx, ev.At.UTC().Format("2006-01-02 15:04 MST"))
	}
	if ev.RunURL != "" {
		ctx = append(ctx, link(ev.RunURL, "open the run on the dashboard"))
	}
	if len(ctx) > 0 {
		blocks = append(blocks, contextBlock(strings.Join(ctx, " · ")))
	}
	return blocks
}

// link makes a mrkdwn link to a URL of our own dashboard: escaped, and
// without the "|" that would end the URL early.
func link(u, text string) string {
	return "<" + strings.ReplaceAll(Escape(u), "|", "%7C") + "|" + Escape(text) + ">"
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

func rateText(r *Rate) string {
	return fmt.Sprintf("%s [%s–%s]", pct(r.Value), pct(r.Low), pct(r.High))
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// pp formats a difference of rates in percentage points.
func pp(x float64) string { return fmt.Sprintf("%+.1f pp", 100*x) }

func pValue(p float64) string {
	switch {
	case math.IsNaN(p):
		return "n/a"
	case p < 0.0001:
		return "< 0.0001"
	}
	return fmt.Sprintf("= %.2g", p)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// humanDuration prints d as "3h 20m", "45m" or "2d 4h".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}
