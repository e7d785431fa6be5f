package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
)

// gradedSuite is testSuite with one model-graded assertion, so that a run
// needs the judge.
func gradedSuite(name string) *evals.Suite {
	s := testSuite(name, 1)
	g, err := scoring.Compile(scoring.Spec{Type: "llm-rubric", Value: "is polite", Weight: 1})
	if err != nil {
		panic(err)
	}
	s.Cases[0].Asserts = append(s.Cases[0].Asserts, g)
	return s
}

// secretsProject schedules faq on prod and graded on prod with judge as
// its judge; adhoc is on target manual, not scheduled. Every target names
// a key variable.
func secretsProject() *configs.Project {
	proj := testProject([]*evals.Suite{testSuite("faq", 1), gradedSuite("graded")}, []string{"prod"}, "@hourly")
	proj.Config.Targets = append(proj.Config.Targets,
		configs.Target{Name: "judge", BaseURL: "http://127.0.0.1:1/v1", Model: "j", Concurrency: 1},
		configs.Target{Name: "manual", BaseURL: "http://127.0.0.1:1/v1", Model: "m", Concurrency: 1})
	proj.Config.Judge = "judge"
	proj.Config.Targets[0].APIKeyEnv = "PROD_KEY"
	proj.Config.Targets[1].APIKeyEnv = "JUDGE_KEY"
	proj.Config.Targets[2].APIKeyEnv = "MANUAL_KEY"
	proj.Config.File = "evald.yaml"
	proj.Config.EnvLines = map[string]int{"targets[0].api_key_env": 6, "targets[1].api_key_env": 11, "targets[2].api_key_env": 16,
		"alerts.webhook.url_env": 30, "alerts.webhook.secret_env": 30}
	adhoc := testSuite("adhoc", 1)
	proj.Suites = append(proj.Suites, adhoc)
	proj.Config.Suites = append(proj.Config.Suites, configs.SuiteRef{File: "adhoc.yaml", Targets: []string{"manual"}})
	proj.Config.Alerts = configs.Alerts{Webhook: &configs.WebhookAlerts{URLEnv: "HOOK_URL", SecretEnv: "HOOK_SECRET"}}
	return proj
}

func envOf(set ...string) func(string) string {
	return func(k string) string {
		for _, s := range set {
			if s == k && strings.HasSuffix(k, "_URL") {
				return "https://hooks.example/value-of-" + k // sinks check their URLs
			}
			if s == k {
				return "value-of-" + k
			}
		}
		return ""
	}
}

// With no judge configured, a graded suite needs no judge's key, and the
// fields outside targets (server.tokens_env here) must not stand in for
// one: the HTTP server works without tokens.
func TestCheckSecretsWithoutJudge(t *testing.T) {
	proj := secretsProject()
	proj.Config.Judge = ""
	proj.Config.Alerts = configs.Alerts{}
	proj.Config.Server.TokensEnv = "API_TOKENS"
	proj.Config.EnvLines["server.tokens_env"] = 3
	if err := CheckSecrets(proj, envOf("PROD_KEY")); err != nil {
		t.Errorf("CheckSecrets without a judge and with API_TOKENS unset = %v, want nil", err)
	}
}

// TestServingRefusesUnsetSecrets: a serving daemon whose scheduled runs, or
// whose alerts, need a variable the environment leaves empty does not
// start; it says each, where it is named. Unscheduled targets are left to
// the runs that use them.
func TestServingRefusesUnsetSecrets(t *testing.T) {
	st := testStore(t)
	_, err := New(Options{Project: secretsProject(), Store: st, Alerts: true, Getenv: envOf("MANUAL_KEY"), Registry: prometheus.NewRegistry()})
	want := []string{
		"evald.yaml:6: targets[0].api_key_env: environment variable PROD_KEY is not set",
		"evald.yaml:11: targets[1].api_key_env: environment variable JUDGE_KEY is not set (the judge's key)",
		"evald.yaml:30: alerts.webhook.url_env: environment variable HOOK_URL is not set",
		"evald.yaml:30: alerts.webhook.secret_env: environment variable HOOK_SECRET is not set",
	}
	if err == nil || err.Error() != strings.Join(want, "\n") || !errors.Is(err, ErrSecret) {
		t.Fatalf("New = %v\nwant ErrSecret:\n%s", err, strings.Join(want, "\n"))
	}

	// The unscheduled target's key is not needed to serve.
	_, err = New(Options{Project: secretsProject(), Store: st, Alerts: true, Getenv: envOf("PROD_KEY", "JUDGE_KEY", "HOOK_URL", "HOOK_SECRET"), Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Errorf("New with the manual target's key unset = %v, want nil: nothing scheduled needs it", err)
	}
	// A one-shot command (alerts off) needs only what it runs.
	if _, err := New(Options{Project: secretsProject(), Store: st, Getenv: envOf(), Registry: prometheus.NewRegistry()}); err != nil {
		t.Errorf("New without alerts = %v, want nil", err)
	}
}

// TestReloadRefusesUnsetSecrets: for a serving daemon, a configuration
// whose scheduled runs need an unset variable is refused like an invalid
// one; the old stays in force.
func TestReloadRefusesUnsetSecrets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		proj := testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@every 1h")
		h := newHarness(t, proj, func(string) *fakeProvider { return &fakeProvider{} }, func(o *Options) { o.Getenv, o.Alerts = envOf(), true })
		ctx := context.Background()
		if err := h.d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		next := testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@every 1m")
		next.Config.Targets[0].APIKeyEnv = "PROD_KEY"
		err := h.d.Reload(ctx, next)
		if !errors.Is(err, ErrSecret) || !strings.Contains(err.Error(), "targets[0].api_key_env: environment variable PROD_KEY is not set") {
			t.Errorf("Reload = %v, want ErrSecret at targets[0].api_key_env", err)
		}
		if h.d.Project() != proj {
			t.Error("the refused configuration was put in force")
		}
		if err := h.d.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(h.runs(t, store.RunFilter{})); n != 1 {
			t.Errorf("runs = %d, want 1 (the old hourly schedule stays)", n)
		}
	})
}

// TestStartFailuresAreVisible: a run that cannot start is counted by
// reason and remembered for its pair until one starts; the message names
// the variable and holds no value.
func TestStartFailuresAreVisible(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		key := ""
		getenv := func(string) string {
			mu.Lock()
			defer mu.Unlock()
			return key
		}
		proj := testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@every 1h")
		proj.Config.Targets[0].APIKeyEnv = "PROD_KEY"
		h := newHarness(t, proj, func(string) *fakeProvider { return &fakeProvider{} }, func(o *Options) { o.Getenv = getenv })
		ctx := context.Background()
		if _, ok := h.d.StartFailure("faq", "prod"); ok {
			t.Error("a start failure before any run")
		}
		if err := h.d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the run due at start fails
		if got := testutil.ToFloat64(h.d.metrics.startFailures.WithLabelValues("faq", "prod", "secret")); got != 1 {
			t.Errorf("evald_run_start_failures_total{reason=secret} = %v, want 1", got)
		}
		f, ok := h.d.StartFailure("faq", "prod")
		if !ok || f.Reason != "secret" || !strings.Contains(f.Err, "targets[0].api_key_env: environment variable PROD_KEY is not set") || f.At.IsZero() {
			t.Errorf("StartFailure = %+v, %v; want reason secret naming the field", f, ok)
		}
		// A reload may fix the cause: the pair's failure is forgotten until
		// its next run says again.
		if err := h.d.Reload(ctx, proj); err != nil {
			t.Error(err)
		}
		if f, ok := h.d.StartFailure("faq", "prod"); ok {
			t.Errorf("StartFailure after a reload = %+v, want none", f)
		}
		if err := h.d.Trigger("faq", "prod", TriggerManual); err != nil {
			t.Error(err)
		}
		synctest.Wait()
		if _, ok := h.d.StartFailure("faq", "prod"); !ok {
			t.Error("no StartFailure after the next run failed to start again")
		}
		mu.Lock()
		key = "sk-do-not-show"
		mu.Unlock()
		if err := h.d.Trigger("faq", "prod", TriggerManual); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if f, ok := h.d.StartFailure("faq", "prod"); ok {
			t.Errorf("StartFailure after a run started = %+v, want none", f)
		}
		if err := h.d.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStartFailureReason(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{(&configs.Config{}).Unset(configs.EnvRef{Field: "targets[0].api_key_env", Var: "K"}, ""), "secret"},
		{fmt.Errorf("%w: no suite named x", ErrUnknown), "config"},
		{fmt.Errorf("%w: candidate prompt", ErrInvalid), "config"},
		{errors.New("record run start: database is locked"), "other"},
	} {
		if got := startFailureReason(tt.err); got != tt.want {
			t.Errorf("startFailureReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
