package server

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
)

func TestTrajectoryChanges(t *testing.T) {
	turns := func(ts ...scoring.Turn) *store.Sample {
		b, _ := json.Marshal(ts)
		return &store.Sample{Turns: string(b)}
	}
	a1 := scoring.ToolCall{Name: "lookup_order", Args: map[string]any{"order_id": "A1"}}
	b7 := scoring.ToolCall{Name: "lookup_order", Args: map[string]any{"order_id": "B7"}}
	cancel := scoring.ToolCall{Name: "cancel_order", Args: map[string]any{"order_id": "A1"}}
	for _, tc := range []struct {
		name      string
		base, cur *store.Sample
		want      []string
	}{
		{"same calls", turns(scoring.Turn{Calls: []scoring.ToolCall{a1}}), turns(scoring.Turn{Calls: []scoring.ToolCall{a1}}), nil},
		{"other arguments", turns(scoring.Turn{Calls: []scoring.ToolCall{a1}}), turns(scoring.Turn{Calls: []scoring.ToolCall{b7}}),
			[]string{"called lookup_order(order_id=B7) where it called lookup_order(order_id=A1)"}},
		{"a call more in turn 2", turns(scoring.Turn{Calls: []scoring.ToolCall{a1}}, scoring.Turn{}), turns(scoring.Turn{Calls: []scoring.ToolCall{a1}}, scoring.Turn{Calls: []scoring.ToolCall{cancel}}),
			[]string{"turn 2: called cancel_order(order_id=A1) where it made no such call"}},
		{"a call fewer", turns(scoring.Turn{Calls: []scoring.ToolCall{a1}}), turns(scoring.Turn{}),
			[]string{"made no call where it called lookup_order(order_id=A1)"}},
		{"no turns stored", &store.Sample{}, &store.Sample{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := trajectoryChanges(tc.base, tc.cur)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("trajectoryChanges = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRunPageShowsTurns: an agent case's turns, calls and results are on
// the run page as text, and the diff names the call that changed.
func TestRunPageShowsTurns(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	addAgentRun := func(at time.Time, orderID, output string, pass bool) int64 {
		id, err := st.CreateRun(ctx, store.Run{Suite: "agent", Target: "prod", Trigger: "schedule", StartedAt: at,
			SuiteVersion: "sv", PromptVersion: "pv", TargetVersion: "tv", Cases: 1})
		if err != nil {
			t.Fatal(err)
		}
		ts, _ := json.Marshal([]scoring.Turn{
			{User: "Where is <b>A1</b>?", Output: output, Calls: []scoring.ToolCall{{Name: "lookup_order", Args: map[string]any{"order_id": orderID}, Result: map[string]any{"status": "<i>shipped</i>"}}}},
			{User: "Thanks.", Output: "bye"},
		})
		score := 0.0
		reason := `expected a call matching lookup_order(order_id=A1) (partial), got lookup_order(order_id=B7)`
		if pass {
			score, reason = 1, ""
		}
		if err := st.AddSamples(ctx, id, []store.Sample{{CaseID: "where", Output: "bye", Pass: pass, Score: score, Attempts: 2, Turns: string(ts),
			Results: []store.AssertionResult{{Type: "trajectory:tool-args-match", Pass: pass, Score: score, Weight: 1, Reason: reason, Turn: 1}}}}); err != nil {
			t.Fatal(err)
		}
		rate := score
		if err := st.FinishRun(ctx, store.Run{ID: id, Status: "passed", FinishedAt: at.Add(time.Minute), PassRate: &rate, MeanScore: &rate,
			Cases: 1, Samples: 1, Detail: "{}"}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	addAgentRun(dashNow.Add(-time.Hour), "A1", "shipped", true)
	id := addAgentRun(dashNow.Add(-time.Minute), "B7", `<script>alert("x")</script>`, false)
	s, err := New(Options{Addr: "127.0.0.1:0", Daemon: &dashDaemon{pairs: []daemon.Pair{{Suite: "agent", Target: "prod"}}}, Store: st,
		Now: func() time.Time { return dashNow }})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Stop(context.Background()) })
	_, body := fetch(t, s, "/runs/"+strconv.FormatInt(id, 10))
	for _, want := range []string{
		"called lookup_order(order_id=B7) where it called lookup_order(order_id=A1)",
		"Where is &lt;b&gt;A1&lt;/b&gt;?",
		"lookup_order(order_id=B7) → {&#34;status&#34;:&#34;\\u003ci\\u003eshipped\\u003c/i\\u003e&#34;}",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		"turn 1: trajectory:tool-args-match",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>A1") {
		t.Errorf("run page holds model output as markup")
	}
}
