package configs

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnvRefs(t *testing.T) {
	cfg, err := Parse(files("proj/evald.yaml", designConfig), "proj/evald.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []EnvRef{
		{Field: "server.tokens_env", Var: "EVALD_API_TOKENS", Line: 5},
		{Field: "targets[0].api_key_env", Var: "OPENAI_API_KEY", Line: 9, Target: "prod"},
		{Field: "alerts.slack.webhook_url_env", Var: "SLACK_WEBHOOK_URL", Line: 24},
		{Field: "alerts.webhook.url_env", Var: "EVALD_WEBHOOK_URL", Line: 25},
		{Field: "alerts.webhook.secret_env", Var: "EVALD_WEBHOOK_SECRET", Line: 25},
	}
	if diff := cmp.Diff(want, cfg.EnvRefs()); diff != "" {
		t.Errorf("EnvRefs mismatch (-want +got):\n%s", diff)
	}
	key, ok := cfg.TargetKey("prod")
	if !ok || key != want[1] {
		t.Errorf("TargetKey(prod) = %+v, %v; want %+v", key, ok, want[1])
	}
	if _, ok := cfg.TargetKey("nope"); ok {
		t.Error("TargetKey(nope) found a field")
	}
	if r, ok := cfg.EnvRef("alerts.webhook.secret_env"); !ok || r != want[4] {
		t.Errorf("EnvRef(alerts.webhook.secret_env) = %+v, %v", r, ok)
	}

	e := cfg.Unset(key, "warning: runs against this target will fail")
	const msg = "proj/evald.yaml:9: targets[0].api_key_env: environment variable OPENAI_API_KEY is not set (warning: runs against this target will fail)"
	if e.Error() != msg {
		t.Errorf("Unset = %q, want %q", e.Error(), msg)
	}
	if !errors.Is(e, ErrEnvUnset) {
		t.Errorf("Unset(...) does not match ErrEnvUnset")
	}

	// A config built by hand has no lines; the field still says where.
	hand := &Config{Targets: []Target{{Name: "a"}, {Name: "b", APIKeyEnv: "B_KEY"}}}
	r, ok := hand.TargetKey("b")
	if !ok {
		t.Fatal("TargetKey(b) of a hand-built config found nothing")
	}
	if got, want := hand.Unset(r, "").Error(), "evald.yaml: targets[1].api_key_env: environment variable B_KEY is not set"; got != want {
		t.Errorf("Unset = %q, want %q", got, want)
	}
}

func TestGovernanceAuditKeyEnv(t *testing.T) {
	const yml = "targets:\n  - {name: a, base_url: \"http://127.0.0.1:9/v1\", model: m}\ngovernance:\n  audit_key_env: EVALD_AUDIT_KEY\n"
	cfg, err := Parse(files("evald.yaml", yml), "evald.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Governance.AuditKeyEnv, "EVALD_AUDIT_KEY"; got != want {
		t.Errorf("Governance.AuditKeyEnv = %q, want %q", got, want)
	}
	want := EnvRef{Field: "governance.audit_key_env", Var: "EVALD_AUDIT_KEY", Line: 4}
	if r, ok := cfg.EnvRef("governance.audit_key_env"); !ok || r != want {
		t.Errorf("EnvRef(governance.audit_key_env) = %+v, %v; want %+v", r, ok, want)
	}
}
