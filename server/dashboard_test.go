package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/store"
)

// NextRun completes the shared fakeDaemon: nothing is scheduled.
func (f *fakeDaemon) NextRun(string, string) time.Time { return time.Time{} }

// StartFailure completes the shared fakeDaemon: every run starts.
func (f *fakeDaemon) StartFailure(string, string) (daemon.StartFailure, bool) {
	return daemon.StartFailure{}, false
}

// DBCheck completes the shared fakeDaemon: the database was checked and
// found sound (or dbProblem) at dbChecked, when set.
func (f *fakeDaemon) DBCheck() daemon.DBCheck {
	return daemon.DBCheck{At: f.dbChecked, Err: f.dbProblem}
}

// dashDaemon is the fake daemon of the dashboard tests: its own pairs and
// a scheduler that runs everything at next.
type dashDaemon struct {
	fakeDaemon
	pairs []daemon.Pair
	next  time.Time
	// fails are the pairs' start failures, by "suite/target".
	fails map[string]daemon.StartFailure
}

func (d *dashDaemon) Pairs() []daemon.Pair                   { return d.pairs }
func (d *dashDaemon) NextRun(suite, target string) time.Time { return d.next }
func (d *dashDaemon) StartFailure(suite, target string) (daemon.StartFailure, bool) {
	f, ok := d.fails[suite+"/"+target]
	return f, ok
}

// dashNow is the dashboard's clock in these tests.
var dashNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const (
	secretToken = "tok-alice-5ecr3t-do-not-show"
	evilOutput  = `<script>alert("pwned")</script>`
	evilReason  = `<img src=x onerror=alert(1)>`
)

// sealAt seals audit entries at a fixed time with the governance rules.
func sealAt(at time.Time, actor, action string, payload any) store.SealFunc {
	return func(prev *store.AuditEntry) (store.AuditEntry, error) {
		var p *governance.Entry
		if prev != nil {
			p = &governance.Entry{Seq: prev.Seq, At: prev.At, Actor: prev.Actor, Action: prev.Action, Payload: prev.Payload, PrevHash: prev.PrevHash, Hash: prev.Hash}
		}
		e, err := governance.Seal(p, at, actor, action, payload)
		if err != nil {
			return store.AuditEntry{}, err
		}
		return store.AuditEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Payload: e.Payload, PrevHash: e.PrevHash, Hash: e.Hash}, nil
	}
}

type seedRun struct {
	suite      string
	status     store.Status
	role       store.Role // default production
	trigger    string     // default schedule
	at         time.Time
	pass       []bool // one sample per case c1, c2, c3...
	outputs    map[int]string
	verdict    drift.Verdict
	detail     daemon.Detail
	model      string
	judgeModel string
}

func addRun(t *testing.T, st *store.Store, r seedRun) int64 {
	t.Helper()
	ctx := context.Background()
	if r.trigger == "" {
		r.trigger = "schedule"
	}
	id, err := st.CreateRun(ctx, store.Run{Suite: r.suite, Target: "prod", Trigger: r.trigger, Role: r.role, StartedAt: r.at,
		SuiteVersion: "sv1", PromptVersion: "pv1", TargetVersion: "tv1", ThresholdsJSON: `{"pass_rate":0.8,"mean_score":0.7}`, Cases: len(r.pass)})
	if err != nil {
		t.Fatal(err)
	}
	var samples []store.Sample
	passed := 0
	for i, ok := range r.pass {
		out := fmt.Sprintf("answer %d", i)
		if o, found := r.outputs[i]; found {
			out = o
		}
		reason := ""
		if !ok {
			reason = `expected output to contain "30 days"`
		} else {
			passed++
		}
		score := 0.0
		if ok {
			score = 1
		}
		samples = append(samples, store.Sample{CaseID: fmt.Sprintf("c%d", i+1), CaseIndex: i, Output: out, Model: r.model, JudgeModel: r.judgeModel, Pass: ok, Score: score, Attempts: 1,
			Results: []store.AssertionResult{{Type: "contains", Pass: ok, Score: score, Weight: 1, Reason: reason}}})
	}
	if err := st.AddSamples(ctx, id, samples); err != nil {
		t.Fatal(err)
	}
	rate := float64(passed) / float64(len(r.pass))
	r.detail.ValidCases = len(r.pass)
	r.detail.Models = map[string]int{r.model: len(r.pass)}
	detail, _ := json.Marshal(r.detail)
	if err := st.FinishRun(ctx, store.Run{ID: id, Status: r.status, FinishedAt: r.at.Add(time.Minute), PassRate: &rate, MeanScore: &rate,
		Cases: len(r.pass), Samples: len(r.pass), CostUSD: 0.25, DurationMS: 60000, Detail: string(detail),
		ThresholdsJSON: `{"pass_rate":0.8,"mean_score":0.7}`}); err != nil {
		t.Fatal(err)
	}
	r.verdict.RunID = id
	if r.verdict.Kind != "" {
		v, _ := json.Marshal(r.verdict)
		if err := st.SaveRunVerdict(ctx, id, r.suite, "prod", []byte("{}"), r.verdict.Kind, string(v)); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// seedDashboard records: faq on prod, four good runs and a regression that
// paged on a provider identity change, with a model output that is a
// script, regraded twice; tone on prod with a threshold change pending; orders on prod
// with no run yet; sign-offs, an accept and a silence.
func seedDashboard(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	at := func(d time.Duration) time.Time { return dashNow.Add(d) }
	if _, _, err := st.RecordSignoff(ctx, store.Signoff{Suite: "faq", SetJSON: []byte(`{"pass_rate":0.8}`), Hash: "h1", By: governance.ActorBootstrap, Reason: "first sight", At: at(-3 * time.Hour)},
		sealAt(at(-3*time.Hour), governance.ActorBootstrap, governance.ActionSuiteAdopted, map[string]any{"suite": "faq", "hash": "h1"})); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		addRun(t, st, seedRun{suite: "faq", status: "passed", at: at(time.Duration(i-12) * 10 * time.Minute), pass: []bool{true, true, false}, model: "m-1",
			verdict: drift.Verdict{Kind: drift.KindOK, Message: "D = +0.0 pp", S: 0.5 * float64(i), H: 15.7}})
	}
	if _, _, err := st.RecordSignoff(ctx, store.Signoff{Suite: "faq", SetJSON: []byte(`{"pass_rate":0.85}`), Hash: "h2", By: "alice", Reason: "<i>raise the bar</i>", At: at(-70 * time.Minute), PrevHash: "h1"},
		sealAt(at(-70*time.Minute), "alice", governance.ActionThresholdsSignedOff, map[string]any{"suite": "faq", "hash": "h2", "prev_hash": "h1", "reason": "<i>raise the bar</i>"})); err != nil {
		t.Fatal(err)
	}
	addRun(t, st, seedRun{suite: "faq", status: "regressed", at: at(-60 * time.Minute), pass: []bool{false, true, false}, model: "m-2",
		outputs: map[int]string{0: evilOutput}, judgeModel: "<b>judge-2</b>",
		detail: daemon.Detail{Judge: &daemon.JudgeDetail{Target: "grader", TargetVersion: "jv1", Models: map[string]int{"<b>judge-2</b>": 3},
			Fingerprints: map[string]int{"fp_j": 3}, PromptTokens: 300, CompletionTokens: 30, CostUSD: 0.01, CacheHits: 1}},
		verdict: drift.Verdict{Kind: drift.KindRegressed, Page: true, ChangeRun: 5, AlertRun: 5, S: 16.2, H: 15.7, D: -0.33, N: 3, RefRuns: 4,
			Message:     "pass rate -33.3 pp since run 5 <b>bold</b>",
			Attribution: "provider (identity changed at run 5)",
			Identity: &drift.IdentityChange{Run: 5, Changes: []drift.SourceChange{{Source: "target", Reason: `new model "m-2"`,
				Before: drift.Distribution{Models: map[string]int{"m-1": 12}}, After: drift.Distribution{Models: map[string]int{"m-2": 3}}}}},
			Evidence: &drift.Evidence{Label: drift.EvidenceLabel, FromRun: 5, Runs: 1, RefRuns: 4, Describe: "1 run from run 5 pooled against 4 reference runs",
				Pooled:    drift.Comparison{Test: "cmh", N: 3, Reference: 0.67, Current: 0.33, Delta: -0.33, PassToFail: []string{"c1"}, NPassToFail: 1},
				Reference: []drift.RefRun{{Run: 1, At: at(-120 * time.Minute)}, {Run: 2, At: at(-110 * time.Minute)}, {Run: 3}}},
		}})
	// Run 5 regraded twice, once by a judge whose name is markup.
	for _, g := range []store.Regrade{
		{Suite: "faq", Target: "prod", RunID: 5, JudgeTarget: "grader", JudgeVersion: "jv2-0123456789", At: at(-50 * time.Minute),
			Status: daemon.RegradeDisagree, Graded: 3, Compared: 3, PassToFail: 2, FailToPass: 1, CostUSD: 0.0042},
		{Suite: "faq", Target: "prod", RunID: 5, JudgeTarget: "<b>bold</b>", JudgeVersion: "jv3", At: at(-40 * time.Minute),
			Status: daemon.RegradeAgree, Graded: 3, Compared: 3, CostUSD: 0.5},
	} {
		if _, err := st.SaveRegrade(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.AppendAudit(ctx, sealAt(at(-30*time.Minute), "bob", governance.ActionDriftAccepted,
		map[string]any{"suite": "faq", "target": "prod", "reason": "the new model is fine"})); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AddSilence(ctx, store.Silence{Suite: "faq", Target: "prod", By: "carol", Reason: evilReason, Start: at(-20 * time.Minute), Until: at(time.Hour)},
		sealAt(at(-20*time.Minute), "carol", governance.ActionSilenceCreated, map[string]any{"suite": "faq", "target": "prod", "reason": evilReason, "until": at(time.Hour).Format(time.RFC3339)})); err != nil {
		t.Fatal(err)
	}
	old, cur := 0.9, 0.8
	addRun(t, st, seedRun{suite: "tone", status: "passed", at: at(-5 * time.Minute), pass: []bool{true, true}, model: "m-1",
		detail:  daemon.Detail{PendingSignoff: []governance.Change{{Key: "pass_rate", Old: &old, New: &cur, Direction: governance.Loosened}}, SignoffHash: "h3"},
		verdict: drift.Verdict{Kind: drift.KindWarmingUp, Message: "reference has 1 of 5 runs", H: 15.7}})
}

func newDashServer(t *testing.T) (*Server, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedDashboard(t, st)
	d := &dashDaemon{
		pairs: []daemon.Pair{
			{Suite: "faq", Target: "prod", Schedule: "@every 10m", BudgetUSDPerDay: 5},
			{Suite: "tone", Target: "prod", Schedule: "@hourly"},
			{Suite: "orders", Target: "prod", Schedule: "@daily", BudgetUSDPerDay: 0.1},
		},
		next: dashNow.Add(5 * time.Minute),
	}
	s, err := New(Options{Addr: "127.0.0.1:0", Daemon: d, Store: st, Tokens: map[string]string{secretToken: "alice"},
		Now: func() time.Time { return dashNow }})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s, st
}

func fetch(t *testing.T, s *Server, path string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestDashboardStatusCodes(t *testing.T) {
	s, _ := newDashServer(t)
	tests := []struct {
		path  string
		want  int
		ctype string
	}{
		{"/", 200, "text/html; charset=utf-8"},
		{"/suites/faq/prod", 200, "text/html; charset=utf-8"},
		{"/suites/faq/prod?range=365d", 200, "text/html; charset=utf-8"},
		{"/suites/faq/prod?range=bogus&before=3", 200, "text/html; charset=utf-8"},
		{"/suites/orders/prod", 200, "text/html; charset=utf-8"},
		{"/suites/nope/prod", 404, "text/html; charset=utf-8"},
		{"/suites/faq/staging", 404, "text/html; charset=utf-8"},
		{"/runs/1", 200, "text/html; charset=utf-8"},
		{"/runs/5", 200, "text/html; charset=utf-8"},
		{"/runs/5?vs=1", 200, "text/html; charset=utf-8"},
		{"/runs/5?vs=999", 404, "text/html; charset=utf-8"},
		{"/runs/999", 404, "text/html; charset=utf-8"},
		{"/runs/abc", 404, "text/html; charset=utf-8"},
		{"/runs/0", 404, "text/html; charset=utf-8"},
		{"/governance", 200, "text/html; charset=utf-8"},
		{"/governance?before=2", 200, "text/html; charset=utf-8"},
		{"/static/dashboard.css", 200, "text/css; charset=utf-8"},
		{"/static/dashboard.js", 200, "text/javascript; charset=utf-8"},
		{"/static/nope.css", 404, ""},
		{"/static/", 404, ""},
		{"/suites", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := fetch(t, s, tt.path)
			if got := resp.StatusCode; got != tt.want {
				t.Errorf("GET %s = %d, want %d", tt.path, got, tt.want)
			}
			if tt.ctype != "" {
				if got := resp.Header.Get("Content-Type"); got != tt.ctype {
					t.Errorf("GET %s Content-Type = %q, want %q", tt.path, got, tt.ctype)
				}
			}
			if strings.HasPrefix(tt.ctype, "text/html") {
				if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") {
					t.Errorf("GET %s Content-Security-Policy = %q, want one allowing only the page's own script", tt.path, got)
				}
				if !strings.Contains(body, "</html>") {
					t.Errorf("GET %s sent no complete page", tt.path)
				}
			}
		})
	}
}

// pages lists every dashboard page the seeded store has.
var dashPages = []string{"/", "/suites/faq/prod", "/suites/tone/prod", "/suites/orders/prod", "/runs/1", "/runs/5", "/runs/6", "/governance"}

// TestDashboardEscapes: model outputs, reasons and verdict messages are
// data; no stored text becomes markup.
func TestDashboardEscapes(t *testing.T) {
	s, _ := newDashServer(t)
	for _, path := range dashPages {
		_, body := fetch(t, s, path)
		for _, raw := range []string{"<script>alert", "<img src=x", "<b>bold</b>", "<i>raise"} {
			if strings.Contains(body, raw) {
				t.Errorf("GET %s contains %q unescaped", path, raw)
			}
		}
		// The only script is the dashboard's own, loaded from /static/.
		for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(m, `src="/static/dashboard.js?v=`) {
				t.Errorf("GET %s has a script tag %q that is not the dashboard's", path, m)
			}
		}
	}
	_, body := fetch(t, s, "/runs/5")
	if want := "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;"; !strings.Contains(body, want) {
		t.Errorf("GET /runs/5 does not show the output as text %q", want)
	}
	_, body = fetch(t, s, "/governance")
	if want := "&lt;img src=x onerror=alert(1)&gt;"; !strings.Contains(body, want) {
		t.Errorf("GET /governance does not show the silence reason as text %q", want)
	}
}

// TestDashboardNoSecrets: a token that may change state over the API is
// never shown.
func TestDashboardNoSecrets(t *testing.T) {
	s, _ := newDashServer(t)
	for _, path := range append(dashPages, "/suites/nope/prod", "/runs/999") {
		if _, body := fetch(t, s, path); strings.Contains(body, secretToken) || strings.Contains(body, "5ecr3t") {
			t.Errorf("GET %s shows an API token", path)
		}
	}
}

func TestDashboardOverview(t *testing.T) {
	s, st := newDashServer(t)
	_, body := fetch(t, s, "/")
	for _, want := range []string{
		"2 of 3 suite × target pairs need attention",
		`<a href="/suites/faq/prod">faq on prod</a>: regressed (silenced by carol)`,
		`<a href="/suites/tone/prod">tone on prod</a>: pending sign-off`,
		"no runs yet",              // orders
		"silenced in 1 h",          // faq's silence
		"in 5 min",                 // the scheduler's next run
		"$1.75 of $5.00",           // faq: five runs at $0.25 and two regrades ($0.5042) today
		`<svg class="chart spark"`, // a sparkline
		`aria-label="pass rate of faq on prod over 5 runs: 66.7% at first, 33.3% last; 1 run regressed"`,
		`<meta http-equiv="refresh" content="60">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if n := strings.Count(body, `<tr class="attention">`); n != 2 {
		t.Errorf("overview marks %d rows for attention, want 2", n)
	}

	// The sparklines are cached between requests; a new run shows at once.
	addRun(t, st, seedRun{suite: "faq", status: "passed", at: dashNow.Add(-time.Minute), pass: []bool{true, true, true}, model: "m-2",
		verdict: drift.Verdict{Kind: drift.KindRecovered, Message: "recovered", H: 15.7}})
	_, body = fetch(t, s, "/")
	if want := "pass rate of faq on prod over 6 runs: 66.7% at first, 100.0% last"; !strings.Contains(body, want) {
		t.Errorf("overview after a new run lacks %q", want)
	}
}

// TestDashboardStartFailure: a pair whose runs cannot start needs
// attention, whatever its last finished run said; the banner says why.
func TestDashboardStartFailure(t *testing.T) {
	s, _ := newDashServer(t)
	d := s.opts.Daemon.(*dashDaemon)
	d.pairs = d.pairs[2:] // orders alone: no runs, no attention so far
	_, body := fetch(t, s, "/")
	if !strings.Contains(body, "The 1 suite × target pair is healthy") {
		t.Fatalf("overview of orders alone does not call it healthy")
	}
	d.fails = map[string]daemon.StartFailure{"orders/prod": {At: dashNow.Add(-3 * time.Minute), Reason: "secret",
		Err: "evald.yaml:6: targets[0].api_key_env: environment variable PROD_KEY is not set"}}
	_, body = fetch(t, s, "/")
	for _, want := range []string{
		"1 of 1 suite × target pair needs attention",
		`<a href="/suites/orders/prod">orders on prod</a>: runs fail to start: evald.yaml:6: targets[0].api_key_env: environment variable PROD_KEY is not set`,
		"cannot start",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview with a start failure lacks %q", want)
		}
	}
	if strings.Contains(body, "are healthy") {
		t.Errorf("overview calls a pair whose runs cannot start healthy")
	}
	_, body = fetch(t, s, "/suites/orders/prod")
	if !strings.Contains(body, "cannot start") {
		t.Errorf("suite page does not show the start failure")
	}
}

func TestDashboardSuitePage(t *testing.T) {
	s, _ := newDashServer(t)
	_, body := fetch(t, s, "/suites/faq/prod")
	for _, want := range []string{
		"What changed, and when",
		`provider identity changed (target: new model &#34;m-2&#34;)`,
		"thresholds signed off by alice: &lt;i&gt;raise the bar&lt;/i&gt;",
		"thresholds adopted on first sight of the suite",
		"new provider behaviour accepted by bob: the new model is fine",
		"silenced by carol until",
		"pass rate -33.3 pp since run 5 &lt;b&gt;bold&lt;/b&gt;",
		`class="marker mk-identity"`,
		`class="marker mk-incident"`,
		`class="marker mk-signoff"`,
		`class="marker mk-accept"`,
		`class="marker mk-silence"`,
		`aria-label="CUSUM statistic S`,
		"H = 15.7 (alarm)",
		"threshold 80.0%",
		`<a href="/runs/5">5</a>`,
		`aria-current="true">30d</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("suite page lacks %q", want)
		}
	}
	_, body = fetch(t, s, "/suites/orders/prod")
	if !strings.Contains(body, "No finished run in the last 30d") {
		t.Errorf("suite page of a pair without runs does not say so")
	}
}

func TestDashboardRunPage(t *testing.T) {
	s, _ := newDashServer(t)
	_, body := fetch(t, s, "/runs/5")
	for _, want := range []string{
		"Thresholds applied",
		"pass rate -33.3 pp",
		"provider (identity changed at run 5)",
		"evald accept --target prod --by NAME --reason TEXT faq",
		// The verdict points at run 5 as the change: the baseline is run 4,
		// the last completed run before it.
		`Baseline: <a href="/runs/4">run 4</a>`,
		"1 cases went pass → fail, 0 fail → pass, 2 kept their outcome",
		`<a href="#case-c1"><code>c1</code></a>`,
		`id="case-c1" open`,
		"expected output to contain &#34;30 days&#34;",
		"judge models returned", "&lt;b&gt;judge-2&lt;/b&gt;", "300 prompt, 30 completion",
		"Identity changed",
		// The reference the page was measured against, with dates.
		`Measured against reference <a href="/runs/1">run 1</a> (` + fmtTime(dashNow.Add(-120*time.Minute)) + `), <a href="/runs/2">run 2</a>`,
		`<a href="/runs/3">run 3</a> (date unknown).`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	// Its regrades, newest first, the judge's name as text.
	regraded := regexp.MustCompile(`(?s)<section aria-labelledby="h-regrades">.*?</section>`).FindString(body)
	for _, want := range []string{
		"2026-11-28 11:20:00 UTC", "&lt;b&gt;bold&lt;/b&gt; (version jv3)", "agrees", "$0.50",
		"2026-11-28 11:10:00 UTC", `title="jv2-0123456789">grader (version jv2-0123)`, "disagrees",
		`<td class="num">2</td><td class="num">1</td><td class="num">3</td><td class="num">$0.0042</td>`,
	} {
		if !strings.Contains(regraded, want) {
			t.Errorf("run page's regrades lack %q:\n%s", want, regraded)
		}
	}
	if strings.Index(regraded, "jv3") > strings.Index(regraded, "jv2") || strings.Contains(regraded, "newest") {
		t.Errorf("run page's regrades are not newest first, or claim more than there are:\n%s", regraded)
	}
	_, body = fetch(t, s, "/runs/5?vs=1")
	if !strings.Contains(body, `Baseline: <a href="/runs/1">run 1</a>`) || !strings.Contains(body, "chosen in the address") {
		t.Errorf("run page with ?vs=1 does not compare with run 1")
	}
	_, body = fetch(t, s, "/runs/1")
	if !strings.Contains(body, "No earlier completed production run of faq on prod") {
		t.Errorf("first run's page does not say it has no baseline")
	}
	if strings.Contains(body, "h-regrades") {
		t.Errorf("run 1, never regraded, has a Regraded section")
	}
}

// TestDashboardRunPageCandidates: a candidate's page diffs against the
// baseline its gate used and says why it has no drift verdict; production
// pages never pick a candidate as their previous run.
// A CI gate's runs are not production's: a regressed candidate must not
// make a pair look regressed, nor enter its sparkline.
func TestDashboardOverviewPassesOverGateRuns(t *testing.T) {
	s, st := newDashServer(t)
	cand := daemon.Detail{Candidate: true, GateRole: daemon.RoleCandidate}
	addRun(t, st, seedRun{role: store.RoleCandidate, suite: "orders", status: "regressed", trigger: "ci", at: dashNow.Add(-2 * time.Minute), pass: []bool{false, false, true}, model: "m-2", detail: cand})
	addRun(t, st, seedRun{role: store.RoleCandidate, suite: "faq", status: "regressed", trigger: "ci", at: dashNow.Add(-time.Minute), pass: []bool{false, false, false}, model: "m-2", detail: cand})
	addRun(t, st, seedRun{role: store.RoleReference, suite: "faq", status: "passed", trigger: "ci", at: dashNow.Add(-30 * time.Second), pass: []bool{true, true, true}, model: "m-2",
		detail: daemon.Detail{GateRole: daemon.RoleReference}})
	_, body := fetch(t, s, "/")
	for _, want := range []string{
		"2 of 3 suite × target pairs need attention",
		"no runs yet", // orders: its only run is a candidate
		`aria-label="pass rate of faq on prod over 5 runs: 66.7% at first, 33.3% last`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview with CI gate runs lacks %q", want)
		}
	}
	if strings.Contains(body, `<a href="/suites/orders/prod">orders on prod</a>: regressed`) {
		t.Errorf("overview shows orders regressed by a candidate run")
	}
}

func TestDashboardRunPageCandidates(t *testing.T) {
	s, st := newDashServer(t)
	at := func(d time.Duration) time.Time { return dashNow.Add(d) }
	gate := func(base int64, mode, source string) daemon.Detail {
		return daemon.Detail{Candidate: true, GateRole: daemon.RoleCandidate, Gate: &daemon.GateVerdict{Decision: daemon.DecisionUnchanged,
			Baseline: daemon.GateSide{RunID: base, Mode: mode, Source: source}}}
	}
	// Runs 7 and 8: candidates of the same segment as production, 8
	// compared with run 2 by id.
	addRun(t, st, seedRun{role: store.RoleCandidate, suite: "faq", status: "passed", trigger: "ci", at: at(-4 * time.Minute), pass: []bool{true, true, true}, model: "m-2",
		detail: gate(4, daemon.BaselineLatest, "store")})
	cand := addRun(t, st, seedRun{role: store.RoleCandidate, suite: "faq", status: "passed", trigger: "ci", at: at(-3 * time.Minute), pass: []bool{true, false, true}, model: "m-2",
		detail: gate(2, daemon.BaselineRun, "store")})
	// Run 9: a candidate compared with a run of another server.
	remote := addRun(t, st, seedRun{role: store.RoleCandidate, suite: "faq", status: "passed", trigger: "ci", at: at(-2 * time.Minute), pass: []bool{true, true, true}, model: "m-2",
		detail: gate(41, daemon.BaselineLatest, "https://evald.example.com")})
	// Run 10: a candidate with --baseline none.
	alone := addRun(t, st, seedRun{role: store.RoleCandidate, suite: "faq", status: "passed", trigger: "ci", at: at(-90 * time.Second), pass: []bool{true, true, true}, model: "m-2",
		detail: daemon.Detail{Candidate: true, GateRole: daemon.RoleCandidate}})
	// Run 11: production's arm of a side-by-side gate.
	arm := addRun(t, st, seedRun{role: store.RoleReference, suite: "faq", status: "passed", trigger: "ci", at: at(-80 * time.Second), pass: []bool{true, true, true}, model: "m-2",
		detail: daemon.Detail{GateRole: daemon.RoleReference}})
	// Run 12: production again.
	prod := addRun(t, st, seedRun{suite: "faq", status: "passed", at: at(-time.Minute), pass: []bool{true, true, true}, model: "m-2",
		verdict: drift.Verdict{Kind: drift.KindOK, Message: "ok", H: 15.7}})

	_, body := fetch(t, s, fmt.Sprintf("/runs/%d", cand))
	for _, want := range []string{
		`Baseline: <a href="/runs/2">run 2</a>`,
		"the baseline the CI gate compared it with (--baseline run)",
		"Candidate run (CI gate): drift is not evaluated; compared with run 2.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("candidate run page lacks %q", want)
		}
	}
	if strings.Contains(body, "No drift verdict: the run was not compared") || strings.Contains(body, `Baseline: <a href="/runs/7">`) {
		t.Errorf("candidate run page compares with the previous candidate, or says it was not compared")
	}

	_, body = fetch(t, s, fmt.Sprintf("/runs/%d", remote))
	for _, want := range []string{
		"Candidate run (CI gate): drift is not evaluated; compared with run 41 of https://evald.example.com.",
		"run 41 of https://evald.example.com, is not in this database",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("remote-baseline candidate page lacks %q", want)
		}
	}
	if strings.Contains(body, "Baseline: <a") {
		t.Errorf("remote-baseline candidate page diffs against a local run")
	}

	_, body = fetch(t, s, fmt.Sprintf("/runs/%d", alone))
	if want := "Candidate run (CI gate): drift is not evaluated; not compared with a baseline."; !strings.Contains(body, want) || strings.Contains(body, "Baseline: <a") {
		t.Errorf("candidate page without a baseline lacks %q, or diffs against a run", want)
	}

	_, body = fetch(t, s, fmt.Sprintf("/runs/%d", arm))
	if want := "Production&#39;s arm of a side-by-side CI gate: drift is not evaluated"; !strings.Contains(body, want) {
		t.Errorf("side-by-side production arm page lacks %q", want)
	}

	// Production skips the gate's runs: run 5 regressed, so run 4.
	_, body = fetch(t, s, fmt.Sprintf("/runs/%d", prod))
	if want := `Baseline: <a href="/runs/4">run 4</a>`; !strings.Contains(body, want) {
		t.Errorf("production run page after candidates lacks %q", want)
	}
	// Whatever the segment: runs of another version fall back on the
	// previous completed production run, never a candidate.
	other := addRun(t, st, seedRun{role: store.RoleCandidate, suite: "faq", status: "passed", trigger: "ci", at: at(-30 * time.Second), pass: []bool{true, true, true}, model: "m-2",
		detail: gate(prod, daemon.BaselineLatest, "store")})
	if err := st.ImportRuns(context.Background(), []store.Run{{Suite: "faq", Target: "prod", Trigger: "schedule", Status: "passed",
		StartedAt: at(-10 * time.Second), FinishedAt: at(-5 * time.Second), SuiteVersion: "sv2", PromptVersion: "pv2", TargetVersion: "tv1", Cases: 3}}); err != nil {
		t.Fatal(err)
	}
	runs, _ := st.Runs(context.Background(), store.RunFilter{Suite: "faq", Limit: 1})
	_, body = fetch(t, s, fmt.Sprintf("/runs/%d", runs[0].ID))
	if want := fmt.Sprintf(`Baseline: <a href="/runs/%d">run %d</a>`, prod, prod); !strings.Contains(body, want) {
		t.Errorf("first run of a new segment lacks %q (the previous production run, not candidate %d)", want, other)
	}
}

// TestDashboardRunPageManyRegrades: the run page lists the newest
// regrades only, and says where the rest are.
func TestDashboardRunPageManyRegrades(t *testing.T) {
	s, st := newDashServer(t)
	for i := range maxRunRegrades + 1 {
		if _, err := st.SaveRegrade(context.Background(), store.Regrade{Suite: "faq", Target: "prod", RunID: 1, JudgeTarget: "grader",
			JudgeVersion: fmt.Sprintf("v%02d", i), At: dashNow.Add(time.Duration(i) * time.Second), Status: daemon.RegradeAgree}); err != nil {
			t.Fatal(err)
		}
	}
	_, body := fetch(t, s, "/runs/1")
	if got := strings.Count(body, "(version v"); got != maxRunRegrades {
		t.Errorf("run page lists %d regrades, want %d", got, maxRunRegrades)
	}
	if strings.Contains(body, "(version v00)") || !strings.Contains(body, "(version v20)") {
		t.Errorf("run page does not list the newest regrades")
	}
	if !strings.Contains(body, "<code>GET /api/regrades?suite=faq&amp;limit=10000</code> lists the suite's regrades") {
		t.Errorf("run page does not say where the older regrades are")
	}
}

func TestDashboardGovernance(t *testing.T) {
	s, _ := newDashServer(t)
	_, body := fetch(t, s, "/governance")
	for _, want := range []string{
		"evald signoff --by NAME --reason TEXT tone",
		"pass_rate 0.90 -&gt; 0.80 (loosened)",
		`<a href="/suites/faq/prod">faq on prod</a></td><td>carol</td>`,
		"drift.accepted",
		"thresholds.signed_off",
		"suite.adopted",
		"evald audit verify",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("governance page lacks %q", want)
		}
	}
	_, body = fetch(t, s, "/governance?before=2")
	if strings.Contains(body, "drift.accepted") || !strings.Contains(body, "suite.adopted") {
		t.Errorf("governance page before entry 2 shows the wrong entries")
	}
}

// TestDashboardGroupsManyRuns: past maxRunPoints runs the charts draw time
// buckets and say so.
func TestDashboardGroupsManyRuns(t *testing.T) {
	s, st := newDashServer(t)
	var runs []store.Run
	for i := range 400 {
		at := dashNow.Add(-time.Duration(400-i) * 30 * time.Minute)
		pr := 0.9
		if i%50 == 0 {
			pr = 0.5
		}
		runs = append(runs, store.Run{Suite: "faq", Target: "prod", Trigger: "schedule", Status: "passed", StartedAt: at, FinishedAt: at.Add(time.Minute),
			SuiteVersion: "sv1", PromptVersion: "pv1", TargetVersion: "tv1", Cases: 200, PassRate: &pr, MeanScore: &pr,
			Verdict: "ok", VerdictDetail: `{"kind":"ok","s":1,"h":15.7}`})
	}
	if err := st.ImportRuns(context.Background(), runs); err != nil {
		t.Fatal(err)
	}
	resp, body := fetch(t, s, "/suites/faq/prod")
	if resp.StatusCode != 200 || !strings.Contains(body, "Grouped: each point is") {
		t.Errorf("suite page with 405 runs = %d, want grouped points", resp.StatusCode)
	}
	if n := strings.Count(body, `class="pt"`) + strings.Count(body, `class="pt-bad"`); n > 3*(bucketPoints+2) {
		t.Errorf("suite page draws %d points, want at most about %d per chart", n, bucketPoints)
	}
}

func TestStatusOf(t *testing.T) {
	run := func(status, detail, verdict string) *store.Run {
		return &store.Run{ID: 7, Status: store.Status(status), Detail: detail, VerdictDetail: verdict, StartedAt: dashNow.Add(-time.Minute)}
	}
	silence := &store.Silence{By: "carol", Reason: "known", Until: dashNow.Add(2 * time.Hour)}
	tests := []struct {
		name            string
		latest, last    *store.Run
		silence         *store.Silence
		attention, text string
	}{
		{"no runs", nil, nil, nil, "", "no runs yet"},
		{"ok", run("passed", "", `{"kind":"ok"}`), run("passed", "", `{"kind":"ok"}`), nil, "", "ok"},
		{"regressed", nil, run("regressed", "", `{"kind":"regressed","message":"drop"}`), nil, "regressed", "regressed"},
		{"errored", nil, run("errored", "", ""), nil, "errored", "errored"},
		{"interrupted", nil, run("interrupted", "", ""), nil, "interrupted", "interrupted"},
		{"failed", nil, run("failed", `{"threshold_failures":[{"metric":"pass_rate","threshold":0.9,"value":0.5}]}`, ""), nil, "below threshold", "below threshold"},
		{"refused", nil, run("refused", "", ""), nil, "pending sign-off", "refused: pending sign-off"},
		{"pending", nil, run("passed", `{"pending_signoff":[{"key":"pass_rate","old":0.9,"new":0.8,"direction":"loosened"}]}`, ""), nil, "pending sign-off", "pending sign-off"},
		{"silenced", nil, run("regressed", "", ""), silence, "regressed (silenced by carol)", "silenced in 2 h"},
		{"running", run("running", "", ""), run("passed", "", ""), nil, "", "running"},
		{"identity", nil, run("passed", "", `{"kind":"identity_changed","message":"m"}`), nil, "", "provider identity changed"},
		{"judge identity", nil, run("passed", "", `{"kind":"identity_changed","message":"m","identity":{"run":1,"changes":[{"source":"judge","reason":"r","before":{},"after":{}}]}}`), nil, "", "judge identity changed"},
		{"scorer changed", nil, run("passed", "", `{"kind":"scorer_changed","message":"pass rate -30.0 pp"}`), nil, "scorer changed grading", "scorer changed grading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := statusOf(tt.latest, tt.last, tt.silence, nil, dashNow)
			if ps.Attention != tt.attention {
				t.Errorf("statusOf(%s).Attention = %q, want %q", tt.name, ps.Attention, tt.attention)
			}
			var texts []string
			for _, c := range ps.Chips {
				if c.Icon == "" || c.Text == "" {
					t.Errorf("statusOf(%s) chip %+v lacks an icon or a word: colour would be the only signal", tt.name, c)
				}
				texts = append(texts, c.Text)
			}
			if !strings.Contains(strings.Join(texts, "|"), tt.text) {
				t.Errorf("statusOf(%s) chips = %q, want one saying %q", tt.name, texts, tt.text)
			}
		})
	}
}

// TestStatusOfStartFailure: a pair whose newest run could not start needs
// attention first, whatever its last finished run said.
func TestStatusOfStartFailure(t *testing.T) {
	fail := &daemon.StartFailure{At: dashNow.Add(-time.Minute), Reason: "other", Err: "record run start: disk full"}
	ok := &store.Run{ID: 7, Status: "passed", VerdictDetail: `{"kind":"ok"}`, StartedAt: dashNow.Add(-time.Hour)}
	regressed := &store.Run{ID: 8, Status: "regressed", VerdictDetail: `{"kind":"regressed"}`, StartedAt: dashNow.Add(-time.Hour)}
	for _, last := range []*store.Run{nil, ok, regressed} {
		ps := statusOf(nil, last, nil, fail, dashNow)
		if want := "runs fail to start: record run start: disk full"; ps.Attention != want {
			t.Errorf("statusOf(last %v).Attention = %q, want %q", last, ps.Attention, want)
		}
		if c := ps.Chips[0]; c.Text != "cannot start" || c.Icon == "" || !strings.Contains(c.Title, "disk full") {
			t.Errorf("statusOf(last %v) first chip = %+v, want cannot start with the error", last, c)
		}
	}
}

// failingStore is the real store with one read that fails, as a full disk
// or a corrupt page would.
type failingStore struct {
	*store.Store
}

func (failingStore) Trend(context.Context, string, string, time.Time, int) ([]store.TrendPoint, error) {
	return nil, fmt.Errorf("read /var/lib/evald/evald.db: disk I/O error")
}

// TestDashboardInternalError: a failed read shows a safe page with a
// request id, and the cause only in the log.
func TestDashboardInternalError(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var logs testfiles.Logs
	s, err := New(Options{Addr: "127.0.0.1:0", Daemon: &dashDaemon{pairs: []daemon.Pair{{Suite: "faq", Target: "prod"}}},
		Store: failingStore{st}, Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Stop(context.Background()) })
	resp, body := fetch(t, s, "/")
	if got, want := resp.StatusCode, 500; got != want {
		t.Fatalf("GET / with a failing store = %d, want %d", got, want)
	}
	if strings.Contains(body, "disk I/O") || strings.Contains(body, "/var/lib") {
		t.Errorf("the error page shows the cause: %s", body)
	}
	id := regexp.MustCompile(`Request id: <code>([0-9a-f]+)</code>`).FindStringSubmatch(body)
	if id == nil {
		t.Fatalf("the error page has no request id: %s", body)
	}
	s.Stop(context.Background())
	if log := logs.String(); !strings.Contains(log, "request_id="+id[1]) || !strings.Contains(log, "disk I/O error") {
		t.Errorf("the log lacks the request id %s with the cause: %s", id[1], log)
	}
}
