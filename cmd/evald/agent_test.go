package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/sim"
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

// TestDemoAgentSuitePagesOnTheUpdate: the demo's agent suite, run against
// the simulator, pages when the simulated provider updates, and the run's
// page names the tool calls that changed.
func TestDemoAgentSuitePagesOnTheUpdate(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, configs.DemoFS()); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "evald.yaml")
	// How many requests one run of the suite sends (the simulator is
	// deterministic without noise), so the update can fall after three.
	counter := sim.New(sim.Options{})
	cs := httptest.NewServer(counter)
	t.Cleanup(cs.Close)
	edit(t, cfg, "http://127.0.0.1:8090/v1", cs.URL+"/v1")
	signtest.File(t, cfg)
	if code, _, errOut := evald(t, "run", "--config", cfg, "--db", filepath.Join(dir, "count.db"), "support-agent"); code != exitOK {
		t.Fatalf("counting run = exit %d: %s", code, errOut)
	}
	perRun := int(counter.Requests())

	provider := sim.New(sim.Options{DriftAfter: 3 * perRun})
	ps := httptest.NewServer(provider)
	t.Cleanup(ps.Close)
	edit(t, cfg, cs.URL+"/v1", ps.URL+"/v1")
	db := filepath.Join(dir, "evald.db")
	for i := range 3 {
		if code, out, errOut := evald(t, "run", "--config", cfg, "--db", db, "support-agent"); code != exitOK {
			t.Fatalf("run %d before the update = exit %d: %s%s", i+1, code, out, errOut)
		}
	}
	code, out, errOut := evald(t, "run", "--config", cfg, "--db", db, "--format", "json", "support-agent")
	if code != exitFailed {
		t.Fatalf("run after the update = exit %d, want %d: %s%s", code, exitFailed, out, errOut)
	}
	var rep struct {
		RunID      int64  `json:"run_id"`
		Status     string `json:"status"`
		Regression struct {
			Detected bool   `json:"detected"`
			Verdict  string `json:"verdict"`
		} `json:"regression"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if rep.Status != "regressed" || !rep.Regression.Detected {
		t.Fatalf("run after the update: status %s, regression %+v; want regressed", rep.Status, rep.Regression)
	}
	srv, _ := serveProduction(t, cfg, db, nil)
	resp, err := http.Get("http://" + srv.Addr() + "/runs/" + strconv.FormatInt(rep.RunID, 10))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	changed := regexp.MustCompile(`called (lookup|cancel|refund)_order\(order_id=[A-K][0-9]\) where it called (lookup|cancel|refund)_order\(order_id=[A-K][0-9]\)`)
	if !changed.Match(page) {
		t.Errorf("the regressed run's page names no changed tool call:\n%s", page)
	}
}

// TestRunAgentCache: an agent suite's candidate run re-run with --cache
// sends nothing: its conversations are answered from the cache, tool calls
// and all, with the same verdicts.
func TestRunAgentCache(t *testing.T) {
	var requests atomic.Int64
	inner := agentEndpoint(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		resp, err := http.Post(inner+"/chat/completions", "application/json", r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	cfg := agentProject(t, srv.URL+"/v1")
	dir := t.TempDir()
	args := []string{"run", "--config", cfg, "--baseline", "none", "--cache", dir, "--format", "json", "agent"}
	code, first, errOut := evald(t, args...)
	if code != exitFailed {
		t.Fatalf("first run = exit %d: %s", code, errOut)
	}
	sent := requests.Load()
	if sent == 0 {
		t.Fatal("the first run sent no request")
	}
	code, second, errOut := evald(t, args...)
	if now := requests.Load(); code != exitFailed || now != sent {
		t.Errorf("cached re-run = exit %d, %d more requests (%s); want %d and none", code, now-sent, errOut, exitFailed)
	}
	reasons := func(out string) string {
		var rep struct {
			FailedCases []struct{ Reasons []string } `json:"failed_cases"`
		}
		json.Unmarshal([]byte(out), &rep)
		b, _ := json.Marshal(rep.FailedCases)
		return string(b)
	}
	if a, b := reasons(first), reasons(second); a != b || !strings.Contains(a, "turn 2") {
		t.Errorf("failed cases first %s, cached %s; want the same, naming turn 2", a, b)
	}
}
