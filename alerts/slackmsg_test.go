package alerts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evald/evald/governance"
)

// notice plans d for open and ev at now and returns the notice it sends.
func notice(t *testing.T, open *Incident, ev *Event, d Decision, now time.Time) (Notice, *Incident) {
	t.Helper()
	p := &Planner{Sinks: []Sink{&LogSink{}}, NewID: func() string { return "inc_7f3a" }}
	out, err := p.Plan(open, ev, d, now)
	if err != nil {
		t.Fatalf("Plan() error = %v", err)
	}
	if len(out.Deliveries) != 1 {
		t.Fatalf("Plan() deliveries = %d, want 1", len(out.Deliveries))
	}
	n, err := DecodeNotice(out.Deliveries[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	return n, out.Incident
}

func goldenNotices(t *testing.T) map[string]Notice {
	ev := sampleEvent()
	opened, inc := notice(t, nil, &ev, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)

	idev := identityEvent()
	identity, _ := notice(t, nil, &idev, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)

	th := thresholdEvent()
	threshold, _ := notice(t, nil, &th, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)

	old, loose := 0.9, 0.8
	pend := Event{Kind: KindThresholdChangePending, Suite: "faq", Target: "prod", RunID: 44, At: t0,
		Summary:        "suite file thresholds differ from the signed-off set; the signed-off values stay in force",
		PendingChanges: []governance.Change{{Key: "pass_rate", Old: &old, New: &loose, Direction: governance.Loosened}}}
	pending, _ := notice(t, nil, &pend, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)

	cnm := Event{Kind: KindCouldNotMeasure, Suite: "faq", Target: "prod", RunID: 45, At: t0,
		Summary: "run 45 could not be completed: 38 of 120 samples failed (error budget 10%)",
		Error:   "POST https://api.example.com/v1/chat/completions: 503 Service Unavailable <html>"}
	could, _ := notice(t, nil, &cnm, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)

	held := sampleVerdict()
	held.RunID, held.Page, held.Evidence, held.D = 61, false, nil, -0.13
	held.Message = "alert of run 43 still open (silent provider change or provider incident); D = -13.0 pp, S held at 9.10"
	hev := NewRegression("faq", "prod", held, nil, t0.Add(6*time.Hour))
	hev.RunURL = RunURL("https://evald.example.com", 61)
	renotify, _ := notice(t, inc, &hev, Decision{Action: ActionRenotify, Reason: ReasonRepeatDue}, t0.Add(6*time.Hour))

	upd := identityEvent()
	upd.RunID = 44
	upd.At = t0.Add(30 * time.Minute)
	upd.Summary = "alert of run 43 now attributed: provider (identity changed at run 41)"
	updated, _ := notice(t, inc, &upd, Decision{Action: ActionUpdate, Reason: ReasonChanged}, t0.Add(30*time.Minute))

	resolved, _ := notice(t, inc, nil, Decision{Action: ActionResolve, Reason: ReasonResolved,
		Note: "alert of run 43 closed: 3 consecutive runs within d_min/2 of the reference"}, t0.Add(5*time.Hour+20*time.Minute))

	return map[string]Notice{
		"slack_open_regression.json": opened,
		"slack_open_identity.json":   identity,
		"slack_open_threshold.json":  threshold,
		"slack_open_pending.json":    pending,
		"slack_open_unmeasured.json": could,
		"slack_renotify.json":        renotify,
		"slack_update.json":          updated,
		"slack_resolved.json":        resolved,
	}
}

func TestSlackMessageGolden(t *testing.T) {
	for name, n := range goldenNotices(t) {
		t.Run(name, func(t *testing.T) {
			msg := SlackMessage(n)
			golden(t, name, prettyJSON(t, msg))
			checkBlockKit(t, msg.Blocks.BlockSet)
		})
	}
}

func TestWebhookBodyGolden(t *testing.T) {
	n := goldenNotices(t)["slack_open_regression.json"]
	golden(t, "webhook_open_regression.json", prettyJSON(t, NewWebhookBody("dlv_5c1d", n)))
}

// checkBlockKit checks Slack's limits and that every mrkdwn object is
// verbatim (no automatic links or mentions).
func checkBlockKit(t *testing.T, blocks any) {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) > 50 {
		t.Errorf("%d blocks, Slack allows 50", len(list))
	}
	walkJSON(list, func(obj map[string]any) {
		switch obj["type"] {
		case "mrkdwn":
			if obj["verbatim"] != true {
				t.Errorf("mrkdwn text object not verbatim: %v", obj["text"])
			}
			if n := len([]rune(obj["text"].(string))); n > 3000 {
				t.Errorf("text object of %d runes, Slack allows 3000", n)
			}
		case "header":
			if n := len([]rune(obj["text"].(map[string]any)["text"].(string))); n > 150 {
				t.Errorf("header of %d runes, Slack allows 150", n)
			}
		case "section":
			if fields, ok := obj["fields"].([]any); ok {
				for _, f := range fields {
					if n := len([]rune(f.(map[string]any)["text"].(string))); n > 2000 {
						t.Errorf("field of %d runes, Slack allows 2000", n)
					}
				}
			}
		}
	})
}

func walkJSON(v any, visit func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		visit(x)
		for _, c := range x {
			walkJSON(c, visit)
		}
	case []any:
		for _, c := range x {
			walkJSON(c, visit)
		}
	case []map[string]any:
		for _, c := range x {
			walkJSON(c, visit)
		}
	}
}

// jsonStrings returns every string value in a JSON document.
func jsonStrings(t testing.TB, raw []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %q: %v", raw, err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return out
}

// assertInert checks that hostile model output in a Slack payload can
// neither mention, link nor break out of its code block, and that it is
// still shown, escaped.
func assertInert(t *testing.T, payload []byte) {
	t.Helper()
	strs := jsonStrings(t, payload)
	all := strings.Join(strs, "\n")
	for _, bad := range []string{"<!channel>", "<https://evil", "<script>", "<!here>", "<@"} {
		if strings.Contains(all, bad) {
			t.Errorf("payload contains live markup %q", bad)
		}
	}
	if want := "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; &lt;script&gt;"; !strings.Contains(all, want) {
		t.Errorf("payload does not show the output escaped (%q)", want)
	}
	for _, s := range strs {
		if strings.Contains(s, "evil.example") && strings.Count(s, "```")%2 != 0 {
			t.Errorf("model output broke out of its code block: %q", s)
		}
	}
}

func TestSlackMessageInjectionInert(t *testing.T) {
	ev := sampleEvent()
	ev.Summary = "summary with " + injection
	ev.Flipped[0].ID = "<!here> case"
	ev.Flipped[0].Input = injection
	n, _ := notice(t, nil, &ev, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)
	raw, err := json.Marshal(SlackMessage(n))
	if err != nil {
		t.Fatal(err)
	}
	assertInert(t, raw)
	checkBlockKit(t, SlackMessage(n).Blocks.BlockSet)
}

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{name: "short", in: "abc", n: 5, want: "abc"},
		{name: "exact", in: "abcde", n: 5, want: "abcde"},
		{name: "cut", in: "abcdef", n: 5, want: "abcd…"},
		{name: "runes not bytes", in: "ééééééé", n: 3, want: "éé…"},
		{name: "invalid utf8", in: "a\xffb", n: 5, want: "a\uFFFDb"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Truncate(tt.in, tt.n); got != tt.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestCodeBlockLong(t *testing.T) {
	got := codeBlock(strings.Repeat("&", 1000))
	if n := strings.Count(got, "&amp;"); n != SlackTextRunes-1 {
		t.Errorf("codeBlock kept %d escaped runes, want %d", n, SlackTextRunes-1)
	}
	if !strings.HasPrefix(got, "```") || !strings.HasSuffix(got, "…```") {
		t.Errorf("codeBlock() = %.40q..., want a fenced, cut block", got)
	}
}

// TestDocsShowGolden keeps the examples of docs/alerts.md in step with the
// renderer.
func TestDocsShowGolden(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "alerts.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"slack_open_regression.json", "webhook_open_regression.json"} {
		want, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), "```json\n"+string(want)+"```") {
			t.Errorf("docs/alerts.md does not show testdata/%s as it is; paste the file into its json block", name)
		}
	}
}
