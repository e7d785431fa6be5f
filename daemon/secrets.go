package daemon

import (
	"errors"

	"github.com/evald/evald/configs"
)

// CheckSecrets returns a problem (a *configs.FieldError matching ErrSecret)
// for each variable that serving proj needs and getenv leaves empty: the
// API keys of the targets its scheduled suites run on and of their judges
// and, with alerts, the variables of the alert sinks. A daemon whose every
// tick would fail to start a run, or whose pages could never leave, is
// worse than one that does not start; so is one that could audit nothing
// (governance.audit_key_env named and unset). Targets no schedule uses are left to
// the runs that ask for them, and server.tokens_env to the HTTP server.
// New and Reload of a serving daemon (Options.Alerts) call it; serve calls
// it first, before it touches the database.
func CheckSecrets(proj *configs.Project, getenv func(string) string) error {
	cfg := proj.Config
	notes := map[string]string{} // field -> what needs it
	need := func(field, note string) {
		if prev, ok := notes[field]; !ok || prev != "" {
			notes[field] = note
		}
	}
	needTarget := func(target, note string) {
		if ref, ok := cfg.TargetKey(target); ok {
			need(ref.Field, note)
		}
	}
	for i, ref := range cfg.Suites {
		if ref.Schedule == "" {
			continue
		}
		for _, t := range ref.Targets {
			needTarget(t, "")
		}
		if s := proj.Suites[i]; s != nil && s.NeedsJudge() {
			judge := s.Judge
			if judge == "" {
				judge = cfg.Judge
			}
			needTarget(judge, "the judge's key")
		}
	}
	for _, f := range sinkFields(cfg) {
		need(f, "")
	}
	if cfg.Governance.AuditKeyEnv != "" {
		need("governance.audit_key_env", "the audit log's key")
	}
	var errs []error
	for _, ref := range cfg.EnvRefs() {
		note, ok := notes[ref.Field]
		if ok && getenv(ref.Var) == "" {
			errs = append(errs, cfg.Unset(ref, note))
		}
	}
	return errors.Join(errs...)
}

// sinkFields are the fields naming the variables of the alert sinks in
// use: a Slack webhook or bot token (not both), the webhook's URL and
// secret, PagerDuty's routing key, the heartbeat's URL.
func sinkFields(cfg *configs.Config) []string {
	var out []string
	if s := cfg.Alerts.Slack; s != nil {
		switch {
		case s.WebhookURLEnv != "":
			out = append(out, "alerts.slack.webhook_url_env")
		case s.TokenEnv != "":
			out = append(out, "alerts.slack.token_env")
		}
	}
	if w := cfg.Alerts.Webhook; w != nil && w.URLEnv != "" {
		out = append(out, "alerts.webhook.url_env")
		if w.SecretEnv != "" {
			out = append(out, "alerts.webhook.secret_env")
		}
	}
	if p := cfg.Alerts.PagerDuty; p != nil && p.RoutingKeyEnv != "" {
		out = append(out, "alerts.pagerduty.routing_key_env")
	}
	if h := cfg.Alerts.Heartbeat; h != nil && h.URLEnv != "" {
		out = append(out, "alerts.heartbeat.url_env")
	}
	return out
}
