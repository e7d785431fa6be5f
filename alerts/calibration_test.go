package alerts

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// calibrationEvent is a failed calibration after the judge's fingerprint
// changed, with one hostile judge reason and a hostile model id.
func calibrationEvent() Event {
	return NewCalibrationFailed("faq", 52, Calibration{
		JudgeTarget: "grader",
		Before:      &JudgeIdentity{Model: "gpt-4o-2024-08-06", Fingerprint: "fp_a1", Version: "5e1f0c2d3b4a59687766554433221100ffeeddccbbaa99887766554433221100", Status: "ok"},
		After:       JudgeIdentity{Model: "gpt-4o-2024-08-06", Fingerprint: "fp_z9", Version: "5e1f0c2d3b4a59687766554433221100ffeeddccbbaa99887766554433221100"},
		Items:       10, Disagreements: 4, Missing: 0, Rate: 0.4, MaxDisagreement: 0.2,
		Disagreeing: []CalibrationMiss{
			{Item: 0, Case: "refund-window", Expected: "pass", Got: "fail", Output: "You have 30 days to return an item.",
				Reason: "llm-rubric: the output does not mention the days"},
			{Item: 3, Expected: "fail", Got: "pass", Output: "We do not sell that.", Reason: "llm-rubric: " + injection},
			{Item: 4, Expected: "fail", Got: "pass", Output: "Two years.", Reason: "llm-rubric: fine"},
			{Item: 7, Expected: "pass", Got: "fail", Output: "Thirty days.", Reason: "llm-rubric: no"},
		},
	}, t0)
}

func TestCalibrationSlackGolden(t *testing.T) {
	ev := calibrationEvent()
	n, inc := notice(t, nil, &ev, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)
	if got, want := inc.Key, (Key{Suite: "faq", Target: "grader", Kind: KindJudgeCalibrationFailed}); got != want {
		t.Errorf("incident key = %v, want %v", got, want)
	}
	if got := len(n.Event.Calibration.Disagreeing); got != MaxCalibrationShown {
		t.Errorf("notice carries %d disagreeing items, want %d", got, MaxCalibrationShown)
	}
	msg := SlackMessage(n)
	golden(t, "slack_open_calibration.json", prettyJSON(t, msg))
	checkBlockKit(t, msg.Blocks.BlockSet)
	raw, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	assertInert(t, raw)
	for _, want := range []string{"Judge calibration failed: faq, judge grader", "*Disagreement* 40.0% of 10 graded items (4), limit 20.0%", "fingerprint `fp_a1` → `fp_z9`", "(3 of 4)"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("Slack message lacks %q", want)
		}
	}
	body := NewWebhookBody("dlv_1", n)
	if !strings.HasPrefix(body.Text, "Judge calibration failed: faq, judge grader — judge grader disagrees with 4 of 10") {
		t.Errorf("webhook text = %q", body.Text)
	}
}

func TestCalibrationHostileIdentityInert(t *testing.T) {
	ev := calibrationEvent()
	ev.Calibration.After.Model = injection
	ev.Calibration.Disagreeing[0].Case = "<!here> case"
	ev.Calibration.Disagreeing[0].Output = injection
	n, _ := notice(t, nil, &ev, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)
	raw, err := json.Marshal(SlackMessage(n))
	if err != nil {
		t.Fatal(err)
	}
	assertInert(t, raw)
}

func TestCalibrationNormalize(t *testing.T) {
	ev := calibrationEvent()
	ev.Calibration.Disagreeing[0].Reason = strings.Repeat("é", MaxTextRunes+50)
	n := ev.Normalize()
	if got := len(n.Calibration.Disagreeing); got != MaxCalibrationShown {
		t.Errorf("Normalize kept %d items, want %d", got, MaxCalibrationShown)
	}
	if got := utf8.RuneCountInString(n.Calibration.Disagreeing[0].Reason); got != MaxTextRunes {
		t.Errorf("Normalize left a reason of %d runes, want %d", got, MaxTextRunes)
	}
	if got := len(ev.Calibration.Disagreeing); got != 4 || utf8.RuneCountInString(ev.Calibration.Disagreeing[0].Reason) != MaxTextRunes+50 {
		t.Errorf("Normalize changed the caller's event (%d items)", got)
	}
}

// A repeat from the same judge is no news; a judge whose identity changed
// again is.
func TestCalibrationRepeatDecisions(t *testing.T) {
	ev := calibrationEvent()
	_, inc := notice(t, nil, &ev, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)
	now := t0.Add(time.Hour)
	same := calibrationEvent()
	same.Calibration.Disagreements, same.Calibration.Rate = 5, 0.5
	if got := Decide(inc, &same, false, now, 6*time.Hour); got.Action != ActionNone {
		t.Errorf("Decide(same judge, other numbers) = %v, want none", got)
	}
	moved := calibrationEvent()
	moved.Calibration.After.Fingerprint = "fp_y8"
	if got := Decide(inc, &moved, false, now, 6*time.Hour); got.Action != ActionUpdate {
		t.Errorf("Decide(judge changed again) = %v, want update", got)
	}
	if got := Decide(inc, nil, false, now, 6*time.Hour); got != (Decision{Action: ActionResolve, Reason: ReasonResolved}) {
		t.Errorf("Decide(calibration passed) = %v, want a resolution message", got)
	}
	if got := KindJudgeCalibrationFailed.Severity(); got != SeverityPage {
		t.Errorf("severity = %v, want page", got)
	}
	first := Calibration{JudgeTarget: "g", After: JudgeIdentity{Model: "m", Fingerprint: "f", Version: "v"}}
	if got := identityText(nil, first.After); !strings.Contains(got, "first calibration") {
		t.Errorf("identityText(no previous) = %q, want it to say first calibration", got)
	}
	if got := identityText(&first.After, first.After); !strings.Contains(got, "the calibration set changed") {
		t.Errorf("identityText(same) = %q, want it to say the set changed", got)
	}
}
