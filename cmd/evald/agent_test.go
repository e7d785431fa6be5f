package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/internal/testfiles"
)

// agentEndpoint is an OpenAI-compatible endpoint that looks order B7 up
// whatever it is asked, then reports the tool's answer.
func agentEndpoint(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		last := req.Messages[len(req.Messages)-1]
		msg := map[string]any{"role": "assistant", "content": "Order status: " + last.Content}
		if last.Role == "user" && strings.Contains(last.Content, "Where") {
			msg = map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
				"id": "call_1", "type": "function", "function": map[string]any{"name": "lookup_order", "arguments": `{"order_id":"B7"}`}}}}
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "x", "object": "chat.completion", "model": "sim-1",
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": "stop"}},
			"usage":   map[string]any{"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func agentProject(t *testing.T, baseURL string) string {
	t.Helper()
	dir := t.TempDir()
	testfiles.Write(t, dir, "evald.yaml", `storage:
  sqlite: evald.db
targets:
  - name: prod
    base_url: `+baseURL+`
    model: sim-1
    timeout: 5s
suites:
  - file: suites/agent.yaml
    targets: [prod]
`)
	testfiles.Write(t, dir, "suites/agent.yaml", `name: agent
prompt:
  - {role: system, content: "You are a shop's agent."}
tools:
  - type: function
    function: {name: lookup_order, parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}}
tool_results:
  lookup_order:
    - when: {order_id: A1}
      result: {status: shipped}
    - result: {error: not found}
tests:
  - id: where
    turns:
      - user: "Hello"
        assert:
          - type: not-trajectory:tool-used
            value: lookup_order
      - user: "Where is order A1?"
        assert:
          - type: trajectory:tool-args-match
            value: {name: lookup_order, args: {order_id: A1}}
thresholds:
  pass_rate: 1
`)
	return signtest.File(t, filepath.Join(dir, "evald.yaml"))
}

// TestRunAgentReportsNameTheTurn: JSON, markdown and JUnit reports of an
// agent suite name the turn that failed.
func TestRunAgentReportsNameTheTurn(t *testing.T) {
	cfg := agentProject(t, agentEndpoint(t))
	const why = `turn 2: expected a call matching lookup_order(order_id=A1) (partial), got lookup_order(order_id=B7)`
	for _, format := range []string{"json", "markdown", "junit", "text"} {
		t.Run(format, func(t *testing.T) {
			code, out, errOut := evald(t, "run", "--config", cfg, "--format", format, "agent")
			if code != exitFailed {
				t.Fatalf("run = exit %d, stderr %q; want %d (the case fails)", code, errOut, exitFailed)
			}
			want := why
			if format == "markdown" {
				out = strings.ReplaceAll(out, `\_`, "_")
			}
			if format == "junit" || format == "json" {
				want = strings.NewReplacer(`"`, "").Replace(why)
				out = strings.NewReplacer(`&#34;`, "", `&quot;`, "", `\"`, "", `"`, "").Replace(out)
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s report lacks %q:\n%s", format, want, out)
			}
		})
	}
}
