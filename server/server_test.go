package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

type fakeDaemon struct {
	mu        sync.Mutex
	ready     error
	triggered []string
	trigErr   error
	signed    *governance.RecordEntry
	// dbChecked and dbProblem are the background database check's.
	dbChecked time.Time
	dbProblem string
	// detect is the Detectability of every pair (nil: not configured).
	detect *drift.Detectability
	// detectCalls counts the calls of Detectability.
	detectCalls int
}

func (f *fakeDaemon) Detectability(context.Context, string, string) (drift.Detectability, bool, error) {
	f.mu.Lock()
	f.detectCalls++
	f.mu.Unlock()
	if f.detect == nil {
		return drift.Detectability{}, false, nil
	}
	return *f.detect, true, nil
}

func (f *fakeDaemon) Trigger(suite, target, trigger string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.trigErr != nil {
		return f.trigErr
	}
	f.triggered = append(f.triggered, suite+"/"+target+"/"+trigger)
	return nil
}
func (f *fakeDaemon) Ready(context.Context) error { return f.ready }
func (f *fakeDaemon) Signoff(_ context.Context, suite, by, reason string) ([]governance.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if reason == "" {
		return nil, governance.ErrNoReason
	}
	f.triggered = append(f.triggered, "signoff:"+suite+":"+by)
	return nil, nil
}
func (f *fakeDaemon) SignedOff(suite string) (*governance.RecordEntry, bool) {
	return f.signed, suite == "faq"
}
func (f *fakeDaemon) Silence(_ context.Context, suite, target, by, reason string, d time.Duration) (store.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.triggered = append(f.triggered, "silence:"+suite+":"+target+":"+by+":"+d.String())
	return store.Silence{ID: 1, Suite: suite, Target: target, By: by, Reason: reason, Until: time.Now().Add(d)}, nil
}
func (f *fakeDaemon) Pairs() []daemon.Pair {
	return []daemon.Pair{{Suite: "faq", Target: "prod", Schedule: "@every 5m"}}
}

func newServer(t *testing.T, d *fakeDaemon) (*Server, *store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	id, err := st.CreateRun(ctx, store.Run{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddSamples(ctx, id, []store.Sample{{CaseID: "c1", Output: `<script>alert(1)</script>`, Pass: true, Score: 1,
		JudgeModel: "judge-model", JudgeFingerprint: "fp_judge", JudgePromptTokens: 200, JudgeCompletionTokens: 10, JudgeCostUSD: 0.5,
		Results: []store.AssertionResult{{Type: "contains", Pass: true, Score: 1, Weight: 1}}}}); err != nil {
		t.Fatal(err)
	}
	pr := 1.0
	if err := st.FinishRun(ctx, store.Run{ID: id, Status: "passed", FinishedAt: time.Now(), PassRate: &pr, MeanScore: &pr, Samples: 1, Cases: 1}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "evald_test_total", Help: "t"})
	reg.MustRegister(c)
	c.Inc()
	s, err := New(Options{Addr: "127.0.0.1:0", Daemon: d, Store: st, Gatherer: reg, Tokens: map[string]string{"tok-alice": "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s, st
}

func get(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProbesAndMetrics(t *testing.T) {
	d := &fakeDaemon{}
	s, _ := newServer(t, d)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %q, want a loopback address", s.Addr())
	}
	tests := []struct {
		path     string
		ready    error
		want     int
		contains string
	}{
		{"/healthz", nil, 200, "ok"},
		{"/readyz", nil, 200, "ready"},
		{"/readyz", errors.New("store: disk I/O error at /secret/path"), 503, "not ready"},
		{"/metrics", nil, 200, "evald_test_total 1"},
		{"/nope", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			d.ready = tt.ready
			code, body := get(t, s, tt.path)
			if code != tt.want || !strings.Contains(body, tt.contains) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tt.path, code, body, tt.want, tt.contains)
			}
			if strings.Contains(body, "/secret/path") {
				t.Errorf("GET %s leaks the internal error: %q", tt.path, body)
			}
		})
	}
}

func TestAPIReads(t *testing.T) {
	s, _ := newServer(t, &fakeDaemon{})
	code, body := get(t, s, "/api/suites")
	var suites []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &suites) != nil || len(suites) != 1 || suites[0]["last_run"] == nil {
		t.Fatalf("GET /api/suites = %d %s, want one pair with its last run", code, body)
	}
	code, body = get(t, s, "/api/runs?suite=faq&limit=5")
	var runs []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &runs) != nil || len(runs) != 1 || runs[0]["status"] != "passed" {
		t.Fatalf("GET /api/runs = %d %s", code, body)
	}
	code, body = get(t, s, "/api/runs/1")
	var run struct {
		Status  string `json:"status"`
		Samples []struct {
			Output           string  `json:"output"`
			Assertions       []any   `json:"assertions"`
			JudgeModel       string  `json:"judge_model"`
			JudgeFingerprint string  `json:"judge_system_fingerprint"`
			JudgePrompt      int     `json:"judge_prompt_tokens"`
			JudgeCost        float64 `json:"judge_cost_usd"`
		} `json:"samples"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &run) != nil || len(run.Samples) != 1 || len(run.Samples[0].Assertions) != 1 {
		t.Fatalf("GET /api/runs/1 = %d %s", code, body)
	}
	if run.Samples[0].Output != "<script>alert(1)</script>" {
		t.Errorf("output = %q, want the stored text as JSON data", run.Samples[0].Output)
	}
	if j := run.Samples[0]; j.JudgeModel != "judge-model" || j.JudgeFingerprint != "fp_judge" || j.JudgePrompt != 200 || j.JudgeCost != 0.5 {
		t.Errorf("sample judge = %q %q %d %v, want judge-model fp_judge 200 0.5", j.JudgeModel, j.JudgeFingerprint, j.JudgePrompt, j.JudgeCost)
	}
	if strings.Contains(body, "<script>") {
		t.Errorf("JSON body carries a raw <script> tag (want it escaped as \\u003c): %s", body)
	}
	for _, tt := range []struct {
		path string
		want int
	}{{"/api/runs/999", 404}, {"/api/runs/abc", 400}, {"/api/runs?limit=0", 400}} {
		if code, _ := get(t, s, tt.path); code != tt.want {
			t.Errorf("GET %s = %d, want %d", tt.path, code, tt.want)
		}
	}
}

func TestTriggerNeedsToken(t *testing.T) {
	d := &fakeDaemon{}
	s, _ := newServer(t, d)
	post := func(token, body string) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+s.Addr()+"/api/runs", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	body := `{"suite":"faq","target":"prod"}`
	if code, _ := post("", body); code != 401 {
		t.Errorf("POST without token = %d, want 401", code)
	}
	if code, resp := post("wrong", body); code != 401 || !strings.Contains(resp, "server.tokens_env") {
		t.Errorf("POST with an unknown token = %d, %s; want 401 naming server.tokens_env, the setting that holds the tokens", code, resp)
	}
	if len(d.triggered) != 0 {
		t.Fatalf("unauthorised requests triggered runs: %v", d.triggered)
	}
	code, resp := post("tok-alice", body)
	if code != 202 || !strings.Contains(resp, `"requested_by":"alice"`) {
		t.Errorf("POST with alice's token = %d %s, want 202 naming alice", code, resp)
	}
	if got, want := strings.Join(d.triggered, ","), "faq/prod/manual"; got != want {
		t.Errorf("triggered = %q, want %q", got, want)
	}
	if code, _ := post("tok-alice", `{"suite":"faq"}`); code != 400 {
		t.Errorf("POST without target = %d, want 400", code)
	}
	d.trigErr = daemon.ErrBusy
	if code, _ := post("tok-alice", body); code != 409 {
		t.Errorf("POST while a run is in flight = %d, want 409", code)
	}
	d.trigErr = daemon.ErrUnknown
	if code, _ := post("tok-alice", body); code != 404 {
		t.Errorf("POST of an unknown suite = %d, want 404", code)
	}
}

func TestParseTokens(t *testing.T) {
	got, err := ParseTokens(" alice=tok1, bob=tok2 ,")
	if err != nil || got["tok1"] != "alice" || got["tok2"] != "bob" || len(got) != 2 {
		t.Errorf("ParseTokens = %v, %v", got, err)
	}
	for _, bad := range []string{"s3cr3t", "=s3cr3t", "alice=", "alice=ok,s3cr3t"} {
		if _, err := ParseTokens(bad); err == nil {
			t.Errorf("ParseTokens(%q) accepted a malformed list", bad)
		} else if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("ParseTokens(%q) error %q repeats the secret", bad, err)
		}
	}
}

func TestGovernanceOverHTTP(t *testing.T) {
	d := &fakeDaemon{}
	s, _ := newServer(t, d)
	post := func(path, token, body string) int {
		req, _ := http.NewRequest("POST", "http://"+s.Addr()+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/api/suites/faq/signoff", "", `{"reason":"x"}`); code != 401 {
		t.Errorf("signoff without token = %d, want 401", code)
	}
	if code := post("/api/suites/faq/signoff", "tok-alice", `{"reason":"x","by":"mallory"}`); code != 400 {
		t.Errorf("signoff naming its own signer = %d, want 400 (identity comes from the token)", code)
	}
	if code := post("/api/suites/faq/signoff", "tok-alice", `{"reason":""}`); code != 400 {
		t.Errorf("signoff with an empty reason = %d, want 400", code)
	}
	if code := post("/api/suites/faq/signoff", "tok-alice", `{"reason":"agreed"}`); code != 200 {
		t.Errorf("signoff = %d, want 200", code)
	}
	if code := post("/api/silences", "", `{"suite":"faq","target":"prod","reason":"x","for":"1h"}`); code != 401 {
		t.Errorf("silence without token = %d, want 401", code)
	}
	if code := post("/api/silences", "tok-alice", `{"suite":"faq","target":"prod","reason":"incident","for":"1h"}`); code != 201 {
		t.Errorf("silence = %d, want 201", code)
	}
	if got, want := strings.Join(d.triggered, ","), "signoff:faq:alice,silence:faq:prod:alice:1h0m0s"; got != want {
		t.Errorf("recorded = %q, want %q (identity from the token)", got, want)
	}
}

func TestAPIAlerts(t *testing.T) {
	s, st := newServer(t, &fakeDaemon{})
	ctx := context.Background()
	t0 := time.Now().UTC()
	if err := st.SaveAlerts(ctx, store.AlertWrites{
		Incidents:  []store.Incident{{ID: "inc-1", Suite: "faq", Target: "prod", Kind: "regression", OpenedAt: t0, Data: []byte(`{"id":"inc-1"}`)}},
		Deliveries: []store.Delivery{{ID: "d-1", Sink: "slack", IncidentID: "inc-1", Action: "open", Payload: []byte(`{}`), CreatedAt: t0}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkDeliveryFailed(ctx, "d-1", "slack: channel_not_found"); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, s, "/api/alerts?open=1")
	var out struct {
		Incidents  []map[string]any `json:"incidents"`
		Deliveries []map[string]any `json:"deliveries"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("GET /api/alerts = %d %s", code, body)
	}
	if len(out.Incidents) != 1 || out.Incidents[0]["kind"] != "regression" {
		t.Errorf("incidents = %v, want the open regression", out.Incidents)
	}
	if len(out.Deliveries) != 1 || out.Deliveries[0]["status"] != "failed" || out.Deliveries[0]["last_error"] != "slack: channel_not_found" {
		t.Errorf("deliveries = %v, want the failed one with its error", out.Deliveries)
	}
}

// TestAPISignedOff: GET /api/suites/{name}/signoff shows the sign-off in
// force, for `evald run --server`; it needs no token, like every read.
func TestAPISignedOff(t *testing.T) {
	d := &fakeDaemon{}
	s, _ := newServer(t, d)
	code, body := get(t, s, "/api/suites/faq/signoff")
	if code != 200 || body != `{"suite":"faq","known":true,"entry":null}`+"\n" {
		t.Errorf("unsigned suite = %d %q", code, body)
	}
	e, err := governance.NewRecordEntry(nil, "faq", governance.Set{}, "alice", "", "agreed", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	d.signed = &e
	code, body = get(t, s, "/api/suites/faq/signoff")
	if code != 200 || !strings.Contains(body, `"known":true`) || !strings.Contains(body, `"hash":"`+e.Hash+`"`) || !strings.Contains(body, `"by":"alice"`) {
		t.Errorf("signed suite = %d %q, want the entry", code, body)
	}
	if code, body := get(t, s, "/api/suites/nope/signoff"); code != 200 || !strings.Contains(body, `"known":false`) {
		t.Errorf("unknown suite = %d %q, want known false", code, body)
	}
}

// TestDBCheckShown: the dashboard's footer says when the database was last
// checked, and a check that found damage puts a banner on every page.
func TestDBCheckShown(t *testing.T) {
	d := &fakeDaemon{}
	s, _ := newServer(t, d)
	if _, body := get(t, s, "/"); strings.Contains(body, "database checked") {
		t.Errorf("overview before any database check mentions one:\n%s", body)
	}
	d.dbChecked = time.Now().Add(-2 * time.Hour)
	_, body := get(t, s, "/governance")
	if !strings.Contains(body, "database checked 2 h ago: sound") || strings.Contains(body, "found damage") {
		t.Errorf("governance page after a sound check, want its footer to say so:\n%s", body)
	}
	d.dbProblem = "quick check failed: runs: <page 7> invalid"
	_, body = get(t, s, "/")
	if !strings.Contains(body, "The database check found damage") || !strings.Contains(body, "&lt;page 7&gt; invalid") {
		t.Errorf("overview after a check that found damage, want a banner with the finding escaped:\n%s", body)
	}
}

// TestDetectabilityShown: /api/suites carries each pair's detectability and
// the suite page shows its reach, with the under-powered warning when there
// is one (escaped like every other string).
func TestDetectabilityShown(t *testing.T) {
	det := drift.Assess(drift.Config{Binary: true, MinEffect: 0.02, ARL0: 8760}, 20, 1, nil)
	s, _ := newServer(t, &fakeDaemon{detect: &det})
	code, body := get(t, s, "/api/suites")
	var suites []struct {
		Detectability *drift.Detectability `json:"detectability"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &suites) != nil || len(suites) != 1 || suites[0].Detectability == nil {
		t.Fatalf("GET /api/suites = %d %s, want the pair's detectability", code, body)
	}
	if got := *suites[0].Detectability; !got.UnderPowered || got.Warning != det.Warning || got.MinDrop != det.MinDrop {
		t.Errorf("detectability = %+v, want %+v", got, det)
	}
	code, body = get(t, s, "/suites/faq/prod")
	if code != 200 || !strings.Contains(body, "drift detection: catches a drop of ") || !strings.Contains(body, "under-powered: drift.min_effect 2.0 pp") {
		t.Errorf("suite page = %d, want the reach and the warning:\n%s", code, body)
	}
	ok := drift.Assess(drift.Config{Binary: true, ARL0: 8760}, 200, 1, nil)
	s, _ = newServer(t, &fakeDaemon{detect: &ok})
	if _, body := get(t, s, "/suites/faq/prod"); strings.Contains(body, "under-powered") || !strings.Contains(body, "drift detection: ") {
		t.Errorf("suite page of a suite that sees its min_effect warns or lacks its reach:\n%s", body)
	}
}

// TestPrunedRunPage: a run whose samples retention deleted says so on its
// page and in the API.
func TestPrunedRunPage(t *testing.T) {
	ctx := context.Background()
	s, st := newServer(t, &fakeDaemon{})
	if n, err := st.PruneSamples(ctx, time.Now().Add(time.Hour), store.Keep{}, 10); err != nil || n != 1 {
		t.Fatalf("PruneSamples = %d, %v; want the one run", n, err)
	}
	code, body := get(t, s, "/runs/1")
	if code != 200 || !strings.Contains(body, "samples and assertion results were deleted on") {
		t.Errorf("GET /runs/1 of a pruned run = %d, want a note that its samples were deleted:\n%s", code, body)
	}
	code, body = get(t, s, "/api/runs/1")
	if code != 200 || !strings.Contains(body, `"samples_pruned_at":"`) {
		t.Errorf("GET /api/runs/1 of a pruned run = %d %s, want samples_pruned_at", code, body)
	}
}

// TestDetectabilityCached: the suite page asks the daemon for the pair's
// detectability once a minute, and again at once after a new run.
func TestDetectabilityCached(t *testing.T) {
	ctx := context.Background()
	det := drift.Assess(drift.Config{Binary: true, ARL0: 8760}, 200, 1, nil)
	d := &fakeDaemon{detect: &det}
	s, st := newServer(t, d)
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 12, 0, 10, 0, time.UTC)
	s.opts.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	calls := func() int { d.mu.Lock(); defer d.mu.Unlock(); return d.detectCalls }
	for range 3 {
		if code, _ := get(t, s, "/suites/faq/prod"); code != 200 {
			t.Fatalf("suite page = %d", code)
		}
	}
	if got := calls(); got != 1 {
		t.Errorf("three suite page loads in a minute asked for the detectability %d times, want 1", got)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	get(t, s, "/suites/faq/prod")
	if got := calls(); got != 2 {
		t.Errorf("after the minute turned: %d calls, want 2", got)
	}
	if _, err := st.CreateRun(ctx, store.Run{Suite: "faq", Target: "prod", Trigger: "schedule"}); err != nil {
		t.Fatal(err)
	}
	get(t, s, "/suites/faq/prod")
	if got := calls(); got != 3 {
		t.Errorf("after a new run: %d calls, want 3", got)
	}
}
