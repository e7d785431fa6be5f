package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/sim"
)

// project writes an evald.yaml and a suite into a temp dir, pointing the
// target at baseURL, and returns the config path.
func project(t *testing.T, baseURL string, passRate string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) { testfiles.Write(t, dir, name, body) }
	write("evald.yaml", `storage:
  sqlite: evald.db
targets:
  - name: prod
    base_url: `+baseURL+`
    model: sim-1
    concurrency: 4
    retries: 1
    timeout: 5s
    price: {input_per_mtok: 1, output_per_mtok: 2}
suites:
  - file: suites/faq.yaml
    targets: [prod]
`)
	write("prompts/faq.txt", `You answer customer questions.
refund return window days => You have 30 days to return an item.
shipping delivery time => Delivery takes 3 to 5 business days.
warranty guarantee => Every product has a two-year warranty.
`)
	write("suites/faq.yaml", `name: faq
prompt:
  - role: system
    content: file://../prompts/faq.txt
  - role: user
    content: "Customer question: {{question}}"
repeats: 2
tests:
  - id: refund
    vars: {question: "What is the refund window in days?"}
    assert:
      - type: contains
        value: "30 days"
  - id: shipping
    vars: {question: "What is the delivery time for shipping?"}
    assert:
      - type: icontains
        value: "business days"
  - id: warranty
    vars: {question: "Is there a warranty guarantee?"}
    assert:
      - type: contains
        value: "two-year"
thresholds:
  pass_rate: `+passRate+`
`)
	return signtest.File(t, filepath.Join(dir, "evald.yaml"))
}

func simServer(t *testing.T, opts sim.Options) string {
	t.Helper()
	h := sim.New(opts)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return srv.URL + "/v1"
}

func evald(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidate(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	code, out, errOut := evald(t, "validate", "--config", cfg)
	if code != 0 {
		t.Fatalf("validate = exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "ok (1 target, 1 suite, 3 cases)") || !strings.Contains(out, "  signed off\n") {
		t.Errorf("validate output = %q", out)
	}

	suite := filepath.Join(filepath.Dir(cfg), "suites/faq.yaml")
	edit(t, suite, "value: \"30 days\"", "value: \"30 days\"\n        threshold: 3")
	code, _, errOut = evald(t, "validate", "--config", cfg)
	if code != exitUsage {
		t.Errorf("validate of a bad suite = exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(errOut, "faq.yaml:") || !strings.Contains(errOut, "tests[0].assert[0].threshold") {
		t.Errorf("validate error = %q, want file:line and the field path", errOut)
	}
}

func TestRunJSONAndHistory(t *testing.T) {
	cfg := project(t, simServer(t, sim.Options{WrongRate: -1}), "0.9")
	code, out, errOut := evald(t, "run", "--config", cfg, "--format", "json", "faq")
	if code != exitOK {
		t.Fatalf("run = exit %d, stderr %q, stdout %q", code, errOut, out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("run --format json printed %q: %v", out, err)
	}
	for _, k := range []string{"suite", "suite_version", "prompt_version", "target", "target_version", "run_id", "status", "cases",
		"samples", "pass_rate", "mean_score", "thresholds", "threshold_failures", "regression", "provider", "tokens", "cost_usd", "errors", "duration_ms"} {
		if _, ok := got[k]; !ok {
			t.Errorf("run JSON lacks %q: %s", k, out)
		}
	}
	if got["status"] != "passed" || got["pass_rate"] != 1.0 || got["samples"] != 6.0 {
		t.Errorf("run JSON = %s, want passed, pass_rate 1, 6 samples", out)
	}
	if models := got["provider"].(map[string]any)["models"].(map[string]any); models["sim-1"] != 6.0 {
		t.Errorf("provider.models = %v, want sim-1: 6", models)
	}
	if _, ok := got["judge"]; ok {
		t.Errorf("run JSON of a suite without a judge has a judge: %s", out)
	}

	// Flags after the suite name work too.
	if code, _, errOut := evald(t, "run", "faq", "--config", cfg); code != exitOK {
		t.Fatalf("run with trailing flags = exit %d: %s", code, errOut)
	}
	code, out, errOut = evald(t, "history", "--config", cfg, "--json")
	if code != exitOK {
		t.Fatalf("history = exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("history printed %d lines, want 2:\n%s", len(lines), out)
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first["run_id"].(float64) >= second["run_id"].(float64) {
		t.Errorf("history not oldest first: %v then %v", first["run_id"], second["run_id"])
	}
	for _, k := range []string{"run_id", "suite", "target", "trigger", "status", "started_at", "finished_at", "pass_rate", "mean_score", "suite_version", "target_version", "provider", "verdict"} {
		if _, ok := first[k]; !ok {
			t.Errorf("history JSON lacks %q: %s", k, lines[0])
		}
	}
	if first["trigger"] != "ci" || first["verdict"] != "warming_up" {
		t.Errorf("history[0] trigger/verdict = %v/%v, want ci/warming_up", first["trigger"], first["verdict"])
	}
	code, out, _ = evald(t, "history", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "faq") || !strings.Contains(out, "passed") {
		t.Errorf("history text = exit %d, %q", code, out)
	}
}

func TestRunExitCodes(t *testing.T) {
	t.Run("threshold failed is 1", func(t *testing.T) {
		// Every answer wrong: the sim answers another fact for each pair.
		cfg := project(t, simServer(t, sim.Options{WrongRate: 1}), "0.9")
		code, out, errOut := evald(t, "run", "--config", cfg, "faq")
		if code != exitFailed {
			t.Fatalf("run = exit %d, want %d; stdout %q stderr %q", code, exitFailed, out, errOut)
		}
		if !strings.Contains(out, "FAILED threshold pass_rate") || !strings.Contains(out, "fail  refund") {
			t.Errorf("text report = %q, want the failed threshold and the failing cases", out)
		}
	})
	t.Run("endpoint down is 4", func(t *testing.T) {
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		defer down.Close()
		cfg := project(t, down.URL+"/v1", "0.9")
		code, out, _ := evald(t, "run", "--config", cfg, "--format", "json", "faq")
		if code != exitNoResult {
			t.Fatalf("run = exit %d, want %d", code, exitNoResult)
		}
		if !strings.Contains(out, `"status":"errored"`) || !strings.Contains(out, `"pass_rate":null`) {
			t.Errorf("json = %s, want errored with no pass rate (errors are not failures)", out)
		}
	})
	t.Run("usage errors are 2", func(t *testing.T) {
		cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
		for _, args := range [][]string{
			{"run", "--config", cfg, "nosuch"},
			{"run", "--config", cfg, "--format", "xml", "faq"},
			{"run", "--config", cfg, "--target", "staging", "faq"},
			{"run", "--config", filepath.Join(t.TempDir(), "missing.yaml"), "faq"},
			{"run", "--bogus-flag"},
			{"nosuchcommand"},
		} {
			if code, _, errOut := evald(t, args...); code != exitUsage || errOut == "" {
				t.Errorf("evald %v = exit %d (stderr %q), want %d with a message", args, code, errOut, exitUsage)
			}
		}
	})
}

func TestRunOutFile(t *testing.T) {
	cfg := project(t, simServer(t, sim.Options{WrongRate: -1}), "0.5")
	out := filepath.Join(t.TempDir(), "report.json")
	if code, _, errOut := evald(t, "run", "--config", cfg, "--format", "json", "--out", out, "faq"); code != exitOK {
		t.Fatalf("run = exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil || !json.Valid(bytes.TrimSpace(b)) {
		t.Errorf("--out file = %q, %v; want one JSON line", b, err)
	}
}

// TestRunIncompleteSaysWhy: a run that cannot be completed (exit 4) says
// why on stderr, in one line per run, from what the run knows.
func TestRunIncompleteSaysWhy(t *testing.T) {
	t.Run("errored", func(t *testing.T) {
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		defer down.Close()
		cfg := project(t, down.URL+"/v1", "0.9")
		code, _, errOut := evald(t, "run", "--config", cfg, "--format", "json", "faq")
		want := "evald run: faq on prod: errored: 6 of 6 samples missing (server_error 6: HTTP 503), over the 10% error budget\n"
		if code != exitNoResult || !strings.Contains(errOut, want) {
			t.Errorf("run = exit %d, stderr %q; want %d and %q", code, errOut, exitNoResult, want)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		// The endpoint holds every request until the run is stopped, as
		// Ctrl-C stops it.
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		held := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cancel()
			// Read to the end, so that the server notices the client go.
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}))
		defer held.Close()
		cfg := project(t, held.URL+"/v1", "0.9")
		var out, errb bytes.Buffer
		err := cmdRun(ctx, []string{"--config", cfg, "faq"}, &out, &errb)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitNoResult {
			t.Fatalf("run = %v, want exit %d", err, exitNoResult)
		}
		if !strings.Contains(errb.String(), "evald run: faq on prod: interrupted: stopped after 0 of 6 samples; run 1 keeps them\n") {
			t.Errorf("stderr = %q, want the interrupted run named with what it kept", errb.String())
		}
	})
}

// TestRunUnknownNames: a suite or target name that is not in the config
// gets the near miss, or the names there are.
func TestRunUnknownNames(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"fqa"}, `no suite named "fqa" in ` + cfg + ` (did you mean faq?)`},
		{[]string{"billing"}, `no suite named "billing" in ` + cfg + ` (known: faq)`},
		{[]string{"--target", "prd", "faq"}, `--target: no target named "prd" in ` + cfg + ` (did you mean prod?)`},
		{[]string{"--target", "staging", "faq"}, `--target: no target named "staging" in ` + cfg + ` (known: prod)`},
	} {
		code, _, errOut := evald(t, append([]string{"run", "--config", cfg}, tc.args...)...)
		if code != exitUsage || strings.TrimSpace(errOut) != "evald run: "+tc.want {
			t.Errorf("run %v = exit %d, %q; want %d, %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
}
