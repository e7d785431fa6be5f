package server

import (
	"encoding/json"
	"fmt"

	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
)

// How the dashboard shows an agent suite's samples: each turn's user
// message, tool calls with their results, and final text; and, in a run
// diff, the calls that changed. All of it is model output or built from
// it, and goes to the page as text (html/template escapes it).

type turnView struct {
	N       int
	User    string
	Calls   []string
	Output  string
	Failure string
	Error   string
}

// sampleTurns decodes a sample's stored turns (nil for a one-turn sample
// of a suite without tools, or a row the store could not hold as JSON).
func sampleTurns(sm *store.Sample) []scoring.Turn {
	if sm == nil || sm.Turns == "" {
		return nil
	}
	var ts []scoring.Turn
	if err := json.Unmarshal([]byte(sm.Turns), &ts); err != nil {
		return nil
	}
	return ts
}

// maxResultText bounds a tool result as shown.
const maxResultText = 300

func turnViews(sm *store.Sample) []turnView {
	ts := sampleTurns(sm)
	out := make([]turnView, len(ts))
	for i, t := range ts {
		tv := turnView{N: i + 1, User: t.User, Output: clip(t.Output, 4<<10), Failure: t.Failure, Error: t.Error}
		for _, c := range t.Calls {
			tv.Calls = append(tv.Calls, c.String()+" → "+resultText(c.Result))
		}
		out[i] = tv
	}
	return out
}

func resultText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(string(b), maxResultText)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// trajectoryChanges names, turn by turn, the tool calls of cur that differ
// from base's: "turn 1: called lookup_order(order_id=B7) where it called
// lookup_order(order_id=A1)". Nil when both made the same calls.
func trajectoryChanges(base, cur *store.Sample) []string {
	bt, ct := sampleTurns(base), sampleTurns(cur)
	if bt == nil && ct == nil {
		return nil
	}
	var out []string
	for i := range max(len(bt), len(ct)) {
		var bc, cc []scoring.ToolCall
		if i < len(bt) {
			bc = bt[i].Calls
		}
		if i < len(ct) {
			cc = ct[i].Calls
		}
		prefix := ""
		if len(bt) > 1 || len(ct) > 1 {
			prefix = fmt.Sprintf("turn %d: ", i+1)
		}
		for j := range max(len(bc), len(cc)) {
			switch {
			case j >= len(bc):
				out = append(out, prefix+"called "+cc[j].String()+" where it made no such call")
			case j >= len(cc):
				out = append(out, prefix+"made no call where it called "+bc[j].String())
			case bc[j].String() != cc[j].String():
				out = append(out, prefix+"called "+cc[j].String()+" where it called "+bc[j].String())
			}
		}
	}
	return out
}

// turnLabel prefixes a result's type with its turn in a multi-turn case.
func turnLabel(r store.AssertionResult) string {
	if r.Turn > 0 {
		return "turn " + fmt.Sprint(r.Turn) + ": " + r.Type
	}
	return r.Type
}
