package daemon

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/sim"
	"github.com/evald/evald/store"
)

// hook records the generic webhook deliveries it receives.
type hook struct {
	mu     sync.Mutex
	bodies []map[string]any
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	h.mu.Lock()
	h.bodies = append(h.bodies, m)
	h.mu.Unlock()
}

// messages returns "kind:action" of every delivery so far, and forgets them.
func (h *hook) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, b := range h.bodies {
		inc, _ := b["incident"].(map[string]any)
		out = append(out, inc["kind"].(string)+":"+b["action"].(string))
	}
	h.bodies = nil
	return out
}

func TestRegressionAlertEndToEnd(t *testing.T) {
	const cases, before = 60, 8
	h := sim.New(sim.Options{Noise: 0.01, WrongRate: -1, DriftAfter: before * cases, DriftShare: 0.4, Seed: 5})
	simSrv := httptest.NewServer(h)
	defer func() { h.Close(); simSrv.Close() }()
	rec := &hook{}
	hookSrv := httptest.NewServer(rec)
	defer hookSrv.Close()
	// A stand-in for a Slack incoming webhook: it answers "ok" as Slack does.
	var slackMu sync.Mutex
	var slackBodies []string
	slackSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		slackMu.Lock()
		slackBodies = append(slackBodies, string(b))
		slackMu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer slackSrv.Close()

	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	suite := factSuite(t, cases)
	// The drop also fails the bar: one page says both.
	bar := 0.9
	suite.Thresholds.PassRate = &bar
	proj := &configs.Project{
		Config: &configs.Config{
			Targets: []configs.Target{{Name: "prod", BaseURL: simSrv.URL + "/v1", Model: "sim-1", Concurrency: 8, Timeout: 10 * time.Second, Retries: 2}},
			Suites:  []configs.SuiteRef{{File: "facts.yaml", Targets: []string{"prod"}, Schedule: "@hourly"}},
			Alerts: configs.Alerts{
				Webhook:  &configs.WebhookAlerts{URLEnv: "HOOK_URL", SecretEnv: "HOOK_SECRET"},
				Slack:    &configs.SlackAlerts{WebhookURLEnv: "SLACK_URL"},
				Renotify: 6 * time.Hour,
			},
		},
		Suites: []*evals.Suite{suite},
	}
	signtest.Project(t, proj)
	env := map[string]string{"HOOK_URL": hookSrv.URL, "HOOK_SECRET": "s3cr3t-signing-key", "SLACK_URL": slackSrv.URL + "/services/T0/B0/xyzzy"}
	d, err := New(Options{Project: proj, Store: st, Registry: prometheus.NewRegistry(), Alerts: true, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The audit log's heads (audit_appended) are counted apart: every
	// governance change sends one.
	var audits []string
	drain := func() []string {
		t.Helper()
		if _, err := d.alerting.worker.Drain(ctx); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		var out []string
		for _, m := range rec.messages() {
			if strings.HasPrefix(m, "audit_appended:") {
				audits = append(audits, m)
				continue
			}
			out = append(out, m)
		}
		return out
	}
	for i := 1; i <= before; i++ {
		if _, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule}); err != nil {
			t.Fatal(err)
		}
	}
	if got := drain(); len(got) != 0 {
		t.Fatalf("deliveries before the update = %v, want none", got)
	}
	regressions := func(msgs []string) (n int) {
		for _, m := range msgs {
			if strings.HasPrefix(m, "regression:") {
				n++
			}
		}
		return n
	}
	var pages []string
	for i := 1; i <= 4; i++ {
		if _, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule}); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, drain()...)
	}
	if got := regressions(pages); got != 1 {
		t.Fatalf("regression messages over 4 runs after the update = %v, want exactly one open", pages)
	}
	if !strings.Contains(strings.Join(pages, ","), "regression:open") {
		t.Errorf("messages = %v, want regression:open", pages)
	}
	for _, m := range pages {
		if strings.HasPrefix(m, "threshold_failure:") {
			t.Errorf("messages = %v: the failed bar of the regressed runs is a second page, want it in the regression's", pages)
		}
	}
	// A person accepts the new behaviour from the command line: a one-shot
	// daemon without the sinks' secrets queues the resolution, and the
	// serving daemon's worker sends it.
	cli, err := New(Options{Project: proj, Store: st, Registry: prometheus.NewRegistry(), QueueAlerts: true, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("New(QueueAlerts) without secrets: %v", err)
	}
	if err := cli.Accept(ctx, "facts", "prod", "carol", "the new model is fine"); err != nil {
		t.Fatal(err)
	}
	sentAudits := len(audits)
	if got := drain(); strings.Join(got, ",") != "regression:resolve" {
		t.Errorf("after accept = %v, want one regression:resolve", got)
	}
	if got := audits[sentAudits:]; len(got) != 1 || got[0] != "audit_appended:update" {
		t.Errorf("audit heads sent after accept = %v, want one audit_appended:update", got)
	}
	// Slack got the page with its evidence, then the resolution.
	slackMu.Lock()
	var regressionMsgs []string
	for _, b := range slackBodies {
		if strings.Contains(b, "Regression") || strings.Contains(b, "regression") {
			regressionMsgs = append(regressionMsgs, b)
		}
	}
	slackMu.Unlock()
	if len(regressionMsgs) != 2 {
		t.Fatalf("Slack regression messages = %d, want the page and the resolution:\n%s", len(regressionMsgs), strings.Join(regressionMsgs, "\n"))
	}
	for _, want := range []string{`"blocks"`, "facts", "prod", "sim-1-2026-11-update", "Failed bars"} {
		if !strings.Contains(regressionMsgs[0], want) {
			t.Errorf("Slack page lacks %q: %s", want, regressionMsgs[0])
		}
	}
	if !strings.Contains(regressionMsgs[1], "carol") {
		t.Errorf("Slack resolution does not say who accepted: %s", regressionMsgs[1])
	}
	incs, err := st.Incidents(ctx, true, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range incs {
		if in.Kind == "regression" {
			t.Errorf("regression incident %s still open after accept", in.ID)
		}
	}
	all, _ := st.Deliveries(ctx, 100)
	for _, dl := range all {
		if dl.Status != store.DeliverySent {
			t.Errorf("delivery %s to %s is %s (%s), want sent", dl.ID, dl.Sink, dl.Status, dl.LastError)
		}
		if strings.Contains(string(dl.Payload), "s3cr3t") || strings.Contains(string(dl.Payload), hookSrv.URL) || strings.Contains(string(dl.Payload), "xyzzy") {
			t.Errorf("delivery %s stores a secret", dl.ID)
		}
	}
}

// TestUnsignedSuitePagesOnce: serve runs a suite with no sign-off on its
// files' bar and pages threshold_change_pending once, not every run; the
// sign-off closes it.
func TestUnsignedSuitePagesOnce(t *testing.T) {
	h := sim.New(sim.Options{WrongRate: -1})
	simSrv := httptest.NewServer(h)
	defer func() { h.Close(); simSrv.Close() }()
	rec := &hook{}
	hookSrv := httptest.NewServer(rec)
	defer hookSrv.Close()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	proj := &configs.Project{
		Config: &configs.Config{
			Targets: []configs.Target{{Name: "prod", BaseURL: simSrv.URL + "/v1", Model: "sim-1", Concurrency: 4, Timeout: 10 * time.Second, Retries: 1}},
			Suites:  []configs.SuiteRef{{File: "facts.yaml", Targets: []string{"prod"}, Schedule: "@hourly"}},
			Alerts:  configs.Alerts{Webhook: &configs.WebhookAlerts{URLEnv: "HOOK_URL", SecretEnv: "HOOK_SECRET"}, Renotify: 6 * time.Hour},
		},
		Suites: []*evals.Suite{factSuite(t, 4)},
		Record: &governance.Record{}, // nothing signed off
	}
	env := map[string]string{"HOOK_URL": hookSrv.URL, "HOOK_SECRET": "s3cr3t-signing-key"}
	d, err := New(Options{Project: proj, Store: st, Registry: prometheus.NewRegistry(), Alerts: true, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pending := func() (n int, all []string) {
		t.Helper()
		if _, err := d.alerting.worker.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		for _, m := range rec.messages() {
			all = append(all, m)
			if strings.HasPrefix(m, "threshold_change_pending:") {
				n++
			}
		}
		return n, all
	}
	for i := range 3 {
		res, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		if res.Run.Status != store.StatusPassed || !res.Governance.Pending() {
			t.Fatalf("run %d = %s, governance %v; want passed on the files' bar, pending sign-off", i, res.Run.Status, res.Governance.Kind)
		}
		n, all := pending()
		if want := map[int]int{0: 1}[i]; n != want {
			t.Errorf("run %d: %d threshold_change_pending deliveries (%v), want %d: one page, not one per run", i, n, all, want)
		}
	}
	if _, err := d.Signoff(ctx, "facts", "alice", "first bar"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Evaluate(ctx, Request{Suite: "facts", Target: "prod", Trigger: TriggerSchedule}); err != nil {
		t.Fatal(err)
	}
	if n, all := pending(); n != 0 {
		t.Errorf("after the sign-off: %v, want no threshold_change_pending delivery (it closes quietly)", all)
	}
	open, err := st.Incidents(ctx, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range open {
		if inc.Kind == "threshold_change_pending" {
			t.Errorf("incident %+v still open after the sign-off", inc)
		}
	}
}
