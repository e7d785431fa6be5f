package alerts

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// KindJudgeCalibrationFailed is raised when the judge of a suite disagrees with the
// suite's calibration set beyond its max_disagreement. The incident's
// Target is the judge target, not a target the suite runs on.
const KindJudgeCalibrationFailed Kind = "judge_calibration_failed"

// MaxCalibrationShown is how many disagreeing items an event carries.
const MaxCalibrationShown = 3

// Calibration is the evidence of a failed judge calibration.
type Calibration struct {
	JudgeTarget string `json:"judge_target"`
	// Before is the judge as the previous calibration found it (nil: this
	// is the first), After the judge now.
	Before *JudgeIdentity `json:"before,omitempty"`
	After  JudgeIdentity  `json:"after"`
	// Items counts the set; Disagreements and Missing are among them.
	Items           int     `json:"items"`
	Disagreements   int     `json:"disagreements"`
	Missing         int     `json:"missing"`
	Rate            float64 `json:"rate"`
	MaxDisagreement float64 `json:"max_disagreement"`
	// Disagreeing holds up to MaxCalibrationShown items the judge got wrong.
	Disagreeing []CalibrationMiss `json:"disagreeing,omitempty"`
}

// JudgeIdentity is who graded: the model id and system fingerprint the
// judge returned, and the judge target's version. Model and Fingerprint
// come from the provider and are untrusted.
type JudgeIdentity struct {
	Model       string `json:"model,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Version     string `json:"version,omitempty"`
	// Status is that calibration's outcome (ok, failed), for Before.
	Status string `json:"status,omitempty"`
}

// CalibrationMiss is a calibration item the judge graded against its
// expected verdict. Output is the suite's, Reason the judge's: both data,
// never markup.
type CalibrationMiss struct {
	Item     int    `json:"item"`
	Case     string `json:"case,omitempty"`
	Expected string `json:"expected"`
	Got      string `json:"got"`
	Output   string `json:"output"`
	Reason   string `json:"reason,omitempty"`
}

// NewCalibrationFailed builds the event of a failed calibration of suite's
// judge, found after run runID (0: none) at at.
func NewCalibrationFailed(suite string, runID int64, c Calibration, at time.Time) Event {
	summary := fmt.Sprintf("judge %s disagrees with %d of %d graded calibration items of %s (%s, limit %s)",
		c.JudgeTarget, c.Disagreements, c.Items-c.Missing, suite, pct(c.Rate), pct(c.MaxDisagreement))
	return Event{Kind: KindJudgeCalibrationFailed, Suite: suite, Target: c.JudgeTarget, RunID: runID, At: at, Summary: summary, Calibration: &c}
}

// normalize caps the items shown and the length of their texts.
func (c *Calibration) normalize() *Calibration {
	if c == nil {
		return nil
	}
	out := *c
	if out.Before != nil {
		b := *out.Before
		out.Before = &b
	}
	out.Disagreeing = slices.Clone(out.Disagreeing[:min(len(out.Disagreeing), MaxCalibrationShown)])
	for i := range out.Disagreeing {
		m := &out.Disagreeing[i]
		m.Output, m.Reason = Truncate(m.Output, MaxTextRunes), Truncate(m.Reason, MaxTextRunes)
	}
	return &out
}

// digest is the news of a calibration: which judge it found wanting.
func (c *Calibration) digest() string {
	if c == nil {
		return ""
	}
	return c.After.Version + "/" + c.After.Model + "/" + c.After.Fingerprint
}

// calibrationBlocks show the rate against the limit, the judge identity
// before and after, and the items the judge got wrong.
func calibrationBlocks(suite string, c *Calibration) []slack.Block {
	if c == nil {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Disagreement* %s of %d graded items (%d), limit %s", pct(c.Rate), c.Items-c.Missing, c.Disagreements, pct(c.MaxDisagreement))
	if c.Missing > 0 {
		fmt.Fprintf(&b, " · %d of %d items got no usable grade", c.Missing, c.Items)
	}
	b.WriteString("\nThe model-graded scores of this suite may be wrong. Pin the judge target's model, correct the calibration set if it is wrong, or check again with ")
	b.WriteString(code("evald calibrate "+suite) + ".")
	blocks := []slack.Block{section(b.String()), section("*Judge identity:* " + identityText(c.Before, c.After))}
	if len(c.Disagreeing) == 0 {
		return blocks
	}
	title := "*Disagreeing items*"
	if c.Disagreements > len(c.Disagreeing) {
		title = fmt.Sprintf("*Disagreeing items* (%d of %d)", len(c.Disagreeing), c.Disagreements)
	}
	blocks = append(blocks, slack.NewDividerBlock(), section(title))
	for _, m := range c.Disagreeing {
		head := fmt.Sprintf("*Item %d*", m.Item)
		if m.Case != "" {
			head += " (case " + code(m.Case) + ")"
		}
		head += fmt.Sprintf(": expected *%s*, the judge said *%s*", inline(m.Expected, 20), inline(m.Got, 20))
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(head), []*slack.TextBlockObject{
			mrkdwn("*Output*\n" + codeBlock(m.Output)),
			mrkdwn("*Judge's reason*\n" + codeBlock(m.Reason)),
		}, nil))
	}
	return blocks
}

// identityText prints what changed between two judge identities.
func identityText(before *JudgeIdentity, after JudgeIdentity) string {
	now := fmt.Sprintf("model %s, fingerprint %s, target version %s", code(after.Model), code(after.Fingerprint), code(short(after.Version)))
	if before == nil {
		return now + " _(first calibration)_"
	}
	var parts []string
	if before.Model != after.Model {
		parts = append(parts, "model "+code(before.Model)+" → "+code(after.Model))
	}
	if before.Fingerprint != after.Fingerprint {
		parts = append(parts, "fingerprint "+code(before.Fingerprint)+" → "+code(after.Fingerprint))
	}
	if before.Version != after.Version {
		parts = append(parts, "target version "+code(short(before.Version))+" → "+code(short(after.Version)))
	}
	if len(parts) == 0 {
		return now + " _(unchanged: the calibration set changed)_"
	}
	s := strings.Join(parts, ", ")
	if before.Status != "" {
		s += " _(previous calibration: " + inline(before.Status, 20) + ")_"
	}
	return s
}
