package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/sim"
)

// calibrationSet parses a suite holding items and returns its set.
func calibrationSet(t testing.TB, maxDisagreement, items string) *evals.Calibration {
	t.Helper()
	suite := `name: c
prompt: [{role: user, content: "{{question}}"}]
tests:
  - id: window
    vars: {question: "How long is the refund window?"}
    assert: [{type: llm-rubric, value: refund window days}]
calibration:
  max_disagreement: ` + maxDisagreement + `
  items:
` + items
	s, err := evals.Parse(fstest.MapFS{"s.yaml": {Data: []byte(suite)}}, "s.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s.Calibration
}

// The simulator grades an llm-rubric by the share of the rubric's keywords
// the output uses: these items get pass, fail, pass.
const simItems = `    - case: window
      output: "You have 30 days in the refund window."
      expect: pass
    - vars: {question: "Is there a warranty?"}
      assert: [{type: llm-rubric, value: warranty coverage terms}]
      output: "We do not sell that."
      expect: fail
    - vars: {question: "Is there a warranty?"}
      assert: [{type: llm-rubric, value: warranty coverage}]
      output: "Two years of warranty coverage."
      expect: fail
`

// driftingJudge serves the simulator, and while drift is set rewrites the
// judge's system fingerprint and flips its llm-rubric verdicts: a judge
// whose provider changed it behind the same name.
type driftingJudge struct {
	next  http.Handler
	drift atomic.Bool
	chats atomic.Int64
}

func (h *driftingJudge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		h.next.ServeHTTP(w, r)
		return
	}
	h.chats.Add(1)
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if h.drift.Load() && rec.Code == http.StatusOK {
		var resp map[string]any
		if err := json.Unmarshal(body, &resp); err == nil {
			resp["system_fingerprint"] = "fp_drifted"
			for _, c := range resp["choices"].([]any) {
				msg := c.(map[string]any)["message"].(map[string]any)
				var v map[string]any
				if json.Unmarshal([]byte(msg["content"].(string)), &v) == nil {
					v["pass"] = !v["pass"].(bool)
					v["score"] = 1 - v["score"].(float64)
					b, _ := json.Marshal(v)
					msg["content"] = string(b)
				}
			}
			body, _ = json.Marshal(resp)
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = io.Copy(w, bytes.NewReader(body))
}

func simJudge(t testing.TB) (*driftingJudge, *Judge) {
	t.Helper()
	s := sim.New(sim.Options{WrongRate: -1})
	h := &driftingJudge{next: s}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { s.Close(); srv.Close() })
	return h, judgeOf(t, srv.URL, NewGradeCache(100))
}

func TestCalibrateWithSimulator(t *testing.T) {
	ctx := context.Background()
	h, j := simJudge(t)

	res, err := Calibrate(ctx, j, calibrationSet(t, "0.4", simItems), fast)
	if err != nil {
		t.Fatalf("Calibrate: %v", err)
	}
	got := []string{}
	for _, r := range res.Results {
		got = append(got, r.Expected+"/"+r.Got)
	}
	if diff := cmp.Diff([]string{"pass/pass", "fail/fail", "fail/pass"}, got); diff != "" {
		t.Errorf("expected/got per item (-want +got):\n%s", diff)
	}
	if res.Items != 3 || res.Agreements != 2 || res.Disagreements != 1 || res.Missing != 0 {
		t.Errorf("items %d, agreements %d, disagreements %d, missing %d; want 3, 2, 1, 0", res.Items, res.Agreements, res.Disagreements, res.Missing)
	}
	if got, want := res.Rate, 1.0/3; !near(got, want) {
		t.Errorf("Rate = %v, want %v", got, want)
	}
	if got, want := res.Status, CalibrationOK; got != want {
		t.Errorf("Status = %q at limit 0.4, want %q", got, want)
	}
	if d := res.Disagreeing(); len(d) != 1 || d[0].Index != 2 || d[0].Case != "" {
		t.Errorf("Disagreeing = %+v, want item 2", d)
	}
	if got := res.Results[0].Case; got != "window" {
		t.Errorf("item 0 case = %q, want window", got)
	}
	if res.Models[sim.DefaultModel] != 3 || len(res.Fingerprints) == 0 {
		t.Errorf("Models = %v, Fingerprints = %v; want the simulator's model on 3 items and its fingerprints", res.Models, res.Fingerprints)
	}
	if res.PromptTokens == 0 || res.CostUSD <= 0 || res.Calls != 3 {
		t.Errorf("tokens %d, cost %v, calls %d; want tokens and cost counted for 3 calls", res.PromptTokens, res.CostUSD, res.Calls)
	}

	// Without the grade cache: a second calibration asks the judge again,
	// and leaves nothing in the cache for the runs.
	before := h.chats.Load()
	strict, err := Calibrate(ctx, j, calibrationSet(t, "0.2", simItems), fast)
	if err != nil {
		t.Fatalf("Calibrate: %v", err)
	}
	if got := h.chats.Load() - before; got != 3 {
		t.Errorf("judge requests of the second calibration = %d, want 3 (no cache)", got)
	}
	if got := j.Cache.Len(); got != 0 {
		t.Errorf("grade cache holds %d answers after calibrating, want 0", got)
	}
	if got, want := strict.Status, CalibrationFailed; got != want {
		t.Errorf("Status at limit 0.2 = %q, want %q (1 of 3 disagree)", got, want)
	}

	// The provider changes the judge: another fingerprint, flipped verdicts.
	h.drift.Store(true)
	drifted, err := Calibrate(ctx, j, calibrationSet(t, "0.4", simItems), fast)
	if err != nil {
		t.Fatalf("Calibrate: %v", err)
	}
	if drifted.Status != CalibrationFailed || drifted.Disagreements != 2 || drifted.Fingerprints["fp_drifted"] != 3 {
		t.Errorf("drifted judge: status %q, %d disagreements, fingerprints %v; want failed, 2, fp_drifted on 3 items",
			drifted.Status, drifted.Disagreements, drifted.Fingerprints)
	}
	for _, r := range drifted.Disagreeing() {
		if r.Fingerprint != "fp_drifted" || r.Model != sim.DefaultModel {
			t.Errorf("item %d judged by %q/%q, want %q/fp_drifted", r.Index, r.Model, r.Fingerprint, sim.DefaultModel)
		}
	}
}

// A judge that fails or answers garbage leaves grades missing, never
// disagreeing; the calibration is inconclusive when the missing grades
// could decide it.
func TestCalibrateGarbageJudge(t *testing.T) {
	long := strings.Repeat("verbose ", 400)
	const five = `    - {case: window, output: "30 days in the refund window", expect: pass}
    - {case: window, output: "a refund window of 30 days", expect: pass}
    - {case: window, output: "the refund window: 30 days", expect: pass}
    - {case: window, output: "refund window is 30 days", expect: pass}
    - {case: window, output: "We have no refunds.", expect: fail}
`
	for _, tc := range []struct {
		name        string
		reply       func(n int, w http.ResponseWriter, req chatReq)
		wantStatus  string
		wantMissing int
		wantText    string
	}{
		{"prose is unreadable", func(n int, w http.ResponseWriter, _ chatReq) {
			io.WriteString(w, completion("It reads nicely, I suppose.", "j", "fp", "stop"))
		}, CalibrationInconclusive, 5, "It reads nicely"},
		{"endpoint down", func(n int, w http.ResponseWriter, _ chatReq) {
			w.WriteHeader(500)
			io.WriteString(w, `{"error":{"message":"judge down"}}`)
		}, CalibrationInconclusive, 5, "judge down"},
		{"truncated body", func(n int, w http.ResponseWriter, _ chatReq) {
			io.WriteString(w, `{"id":"x","choices":[{"mess`)
		}, CalibrationInconclusive, 5, "judge failed"},
		{"score out of range", func(n int, w http.ResponseWriter, _ chatReq) {
			io.WriteString(w, completion(`{"pass": true, "score": 7, "reason": "`+long+`"}`, "j", "fp", "stop"))
		}, CalibrationInconclusive, 5, "not in [0,1]"},
		{"one missing cannot change the verdict", func(n int, w http.ResponseWriter, req chatReq) {
			text := req.Messages[len(req.Messages)-1].Content
			switch {
			case strings.Contains(text, "a refund window of 30 days"):
				io.WriteString(w, completion("no idea", "j", "fp", "stop"))
			case strings.Contains(text, "no refunds"):
				io.WriteString(w, completion(`{"pass": false, "score": 0, "reason": "`+long+`"}`, "j", "fp", "stop"))
			default:
				io.WriteString(w, completion(`{"pass": true, "score": 1}`, "j", "fp", "stop"))
			}
		}, CalibrationOK, 1, "no idea"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := newJudgeServer(t, tc.reply, nil)
			res, err := Calibrate(context.Background(), judgeOf(t, js.URL, nil), calibrationSet(t, "0.2", five), fast)
			if err != nil {
				t.Fatalf("Calibrate: %v", err)
			}
			if res.Status != tc.wantStatus || res.Missing != tc.wantMissing || res.Disagreements != 0 {
				t.Errorf("status %q, missing %d, disagreements %d; want %q, %d, 0", res.Status, res.Missing, res.Disagreements, tc.wantStatus, tc.wantMissing)
			}
			found := false
			for _, r := range res.Results {
				if n := utf8.RuneCountInString(r.Reason); n > maxCalibrationReason {
					t.Errorf("item %d reason of %d runes, want at most %d", r.Index, n, maxCalibrationReason)
				}
				if strings.Contains(r.Reason, "sk-judge-secret") {
					t.Errorf("item %d reason leaks the judge's key: %q", r.Index, r.Reason)
				}
				found = found || r.Got == VerdictMissing && strings.Contains(r.Reason, tc.wantText)
			}
			if !found {
				t.Errorf("no missing item says %q: %+v", tc.wantText, res.Results)
			}
			if tc.wantMissing == res.Items && (len(res.Models) != 0 || res.Rate != 0) {
				t.Errorf("nothing graded, yet Models = %v, Rate = %v", res.Models, res.Rate)
			}
		})
	}
}

func TestCalibrationStatus(t *testing.T) {
	for _, tc := range []struct {
		disagree, missing, items int
		limit                    float64
		want                     string
	}{
		{0, 0, 10, 0.2, CalibrationOK},
		{2, 0, 10, 0.2, CalibrationOK}, // exactly the limit is allowed
		{3, 0, 10, 0.2, CalibrationFailed},
		{1, 1, 10, 0.2, CalibrationOK},
		{2, 1, 10, 0.2, CalibrationInconclusive},
		{3, 5, 10, 0.2, CalibrationFailed}, // even if every missing grade agreed
		{0, 10, 10, 0.2, CalibrationInconclusive},
		{1, 0, 10, 0, CalibrationFailed},
		{0, 0, 0, 0.2, CalibrationInconclusive},
	} {
		if got := calibrationStatus(tc.disagree, tc.missing, tc.items, tc.limit); got != tc.want {
			t.Errorf("calibrationStatus(%d, %d, %d, %v) = %q, want %q", tc.disagree, tc.missing, tc.items, tc.limit, got, tc.want)
		}
	}
}

func TestCalibrateStopped(t *testing.T) {
	_, j := simJudge(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Calibrate(ctx, j, calibrationSet(t, "0.2", simItems), fast); err == nil {
		t.Errorf("Calibrate on a stopped context = nil error, want one (a partial calibration says nothing)")
	}
}
