package daemon

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/pdtest"
)

// Alert sinks reload with the rest of the config: after a reload, alerts
// go to the new sinks with the new secrets; a reload whose sink cannot be
// built is refused whole, the old sinks stay and page it.
func TestReloadSwapsAlertSinks(t *testing.T) {
	const pdKey = "pd-routing-key-0123456789abcdef"
	recA, recB := &hook{}, &hook{}
	srvA, srvB := httptest.NewServer(recA), httptest.NewServer(recB)
	defer srvA.Close()
	defer srvB.Close()
	pd := pdtest.New(t, pdKey)
	const garbage = "hooks.example.com/T0/secret-path-0123456789"
	env := map[string]string{"HOOK_A": srvA.URL, "HOOK_B": srvB.URL, "HOOK_BAD": garbage, "PD_KEY": pdKey}
	project := func(hookEnv string, withPD bool) *configs.Project {
		p := testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@every 1h")
		p.Config.File = "evald.yaml"
		p.Config.Alerts.Webhook = &configs.WebhookAlerts{URLEnv: hookEnv}
		if withPD {
			p.Config.Alerts.PagerDuty = &configs.PagerDutyAlerts{RoutingKeyEnv: "PD_KEY", URL: pd.EnqueueURL(), SeverityMap: map[string]string{"page": "critical"}}
		}
		return p
	}
	h := newHarness(t, project("HOOK_A", false), func(string) *fakeProvider { return &fakeProvider{} }, func(o *Options) {
		o.Alerts = true
		o.Getenv = func(k string) string { return env[k] }
	})
	d := h.d
	ctx := context.Background()
	drain := func() {
		t.Helper()
		if _, err := d.alerting.worker.Drain(ctx); err != nil {
			t.Fatalf("Drain: %v", err)
		}
	}
	// Each reload appends to the audit log, whose head every sink gets
	// too; only the reload's own alert is looked at here.
	reloads := func(h *hook) []string {
		var out []string
		for _, m := range h.messages() {
			if !strings.HasPrefix(m, "audit_appended:") {
				out = append(out, m)
			}
		}
		return out
	}
	d.ReloadFailed(errors.New("evald.yaml:3: targets: bad"))
	drain()

	next := project("HOOK_B", true)
	if err := d.Reload(ctx, next); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	drain() // the reload resolves the failed one: through the new sinks
	if got, want := reloads(recA), []string{"config_reload_failed:open"}; !slices.Equal(got, want) {
		t.Errorf("old webhook got %v, want %v", got, want)
	}
	if got, want := reloads(recB), []string{"config_reload_failed:resolve"}; !slices.Equal(got, want) {
		t.Errorf("new webhook got %v, want %v", got, want)
	}
	if got := pd.Accepted(); len(got) != 1 || got[0].EventAction != "resolve" {
		t.Errorf("PagerDuty (added by the reload) got %+v, want the resolve", got)
	}

	err := d.Reload(ctx, project("HOOK_BAD", true))
	if err == nil {
		t.Fatal("Reload with a webhook URL that is not one = nil, want an error")
	}
	if got := err.Error(); !strings.HasPrefix(got, "evald.yaml:") || !strings.Contains(got, "alerts.webhook.url_env") || !strings.Contains(got, "HOOK_BAD") {
		t.Errorf("Reload error = %q, want file, field and variable", got)
	}
	if strings.Contains(err.Error(), "secret-path") {
		t.Errorf("Reload error %q shows the variable's value", err)
	}
	if d.Project() != next {
		t.Error("a refused reload changed the configuration in force")
	}
	d.ReloadFailed(err) // as serve does
	drain()
	if got, want := reloads(recB), []string{"config_reload_failed:open"}; !slices.Equal(got, want) {
		t.Errorf("webhook in force got %v, want the failed reload's page", got)
	}
	got := pd.Accepted()
	if len(got) != 2 || got[1].EventAction != "trigger" || !strings.Contains(got[1].Payload.Summary, "alerts.webhook.url_env") {
		t.Fatalf("PagerDuty got %+v, want a trigger naming the broken field", got)
	}
	if strings.Contains(got[1].Payload.Summary+got[1].Payload.CustomDetails["error"].(string), "secret-path") {
		t.Error("the page shows the variable's value")
	}
}
