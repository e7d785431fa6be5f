package configs

import (
	"errors"
	"fmt"
	"slices"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/strictyaml"
)

// ErrEnvUnset is what the problem of an empty variable wraps: the config
// names a variable (api_key_env, token_env, ...) that the environment does
// not set. It is not a problem of the files, so Load never returns it; the
// commands that need the value report it (see Config.Unset).
var ErrEnvUnset = errors.New("environment variable not set")

// EnvRef is a field of evald.yaml that names an environment variable. The
// value is read where it is used and never kept.
type EnvRef struct {
	Field string // "targets[0].api_key_env"
	Var   string // "OPENAI_API_KEY"
	Line  int    // 0 when the config was not read from a file
	// Target is the target whose API key the variable holds ("" for the
	// server's, the alerts' and the audit key's variables).
	Target string
}

// EnvRefs lists every field of the config that names an environment
// variable, in file order.
func (c *Config) EnvRefs() []EnvRef {
	var out []EnvRef
	add := func(field, name, target string) {
		if name != "" {
			out = append(out, EnvRef{Field: field, Var: name, Line: c.EnvLines[field], Target: target})
		}
	}
	add("server.tokens_env", c.Server.TokensEnv, "")
	for i := range c.Targets {
		if ref, ok := c.targetKey(i); ok {
			out = append(out, ref)
		}
	}
	if s := c.Alerts.Slack; s != nil {
		add("alerts.slack.webhook_url_env", s.WebhookURLEnv, "")
		add("alerts.slack.token_env", s.TokenEnv, "")
	}
	if w := c.Alerts.Webhook; w != nil {
		add("alerts.webhook.url_env", w.URLEnv, "")
		add("alerts.webhook.secret_env", w.SecretEnv, "")
	}
	if p := c.Alerts.PagerDuty; p != nil {
		add("alerts.pagerduty.routing_key_env", p.RoutingKeyEnv, "")
	}
	if h := c.Alerts.Heartbeat; h != nil {
		add("alerts.heartbeat.url_env", h.URLEnv, "")
	}
	if o := c.Telemetry.OTLP; o != nil {
		add("telemetry.otlp.headers_env", o.HeadersEnv, "")
	}
	add("governance.audit_key_env", c.Governance.AuditKeyEnv, "")
	slices.SortStableFunc(out, func(a, b EnvRef) int { return a.Line - b.Line })
	return out
}

// EnvRef returns the field named field ("alerts.webhook.url_env") if it
// names a variable.
func (c *Config) EnvRef(field string) (EnvRef, bool) {
	for _, r := range c.EnvRefs() {
		if r.Field == field {
			return r, true
		}
	}
	return EnvRef{}, false
}

// TargetKey returns the api_key_env field of the named target; ok is false
// when there is no such target or it names no variable (a local endpoint
// without a key).
func (c *Config) TargetKey(target string) (EnvRef, bool) {
	for i, t := range c.Targets {
		if t.Name == target {
			return c.targetKey(i)
		}
	}
	return EnvRef{}, false
}

// targetKey is the api_key_env field of c.Targets[i], if it names one.
func (c *Config) targetKey(i int) (EnvRef, bool) {
	t := c.Targets[i]
	if t.APIKeyEnv == "" {
		return EnvRef{}, false
	}
	field := strictyaml.Key(strictyaml.Index("targets", i), "api_key_env")
	return EnvRef{Field: field, Var: t.APIKeyEnv, Line: c.EnvLines[field], Target: t.Name}, true
}

// Invalid is the problem of ref's variable holding a value that cannot be
// used; why says what it must hold. The value is never printed (it is a
// secret, or part of one). It wraps ErrInvalid.
func (c *Config) Invalid(ref EnvRef, why string) *FieldError {
	file := c.File
	if file == "" {
		file = "evald.yaml"
	}
	return &FieldError{File: file, Line: ref.Line, Field: ref.Field, Err: evals.Because(ErrInvalid, "environment variable %s %s", ref.Var, why)}
}

// Unset is the problem of ref's variable being empty, placed like every
// other problem of the file:
//
//	evald.yaml:6: targets[0].api_key_env: environment variable OPENAI_API_KEY is not set
//
// note, when not empty, is added in parentheses (what follows from it). It
// wraps ErrEnvUnset. The message names the variable; there is no value to
// print.
func (c *Config) Unset(ref EnvRef, note string) *FieldError {
	msg := fmt.Sprintf("environment variable %s is not set", ref.Var)
	if note != "" {
		msg += " (" + note + ")"
	}
	file := c.File
	if file == "" {
		file = "evald.yaml" // the embedded demo's
	}
	return &FieldError{File: file, Line: ref.Line, Field: ref.Field, Err: evals.Because(ErrEnvUnset, "%s", msg)}
}
