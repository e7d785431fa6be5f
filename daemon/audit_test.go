package daemon

import (
	"slices"
	"strings"
	"testing"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

func TestAuditChain(t *testing.T) {
	cfg := &configs.Config{File: "evald.yaml", Governance: configs.Governance{AuditKeyEnv: "AUDIT_KEY"}, EnvLines: map[string]int{"governance.audit_key_env": 7}}
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == "AUDIT_KEY" {
				return v
			}
			return ""
		}
	}
	if c, err := AuditChain(&configs.Config{}, env("whatever")); err != nil || c.Keyed() {
		t.Errorf("AuditChain(no audit_key_env) = %v, %v; want a plain chain", c, err)
	}
	if _, err := AuditChain(cfg, env("")); err == nil || !strings.Contains(err.Error(), "evald.yaml:7: governance.audit_key_env: environment variable AUDIT_KEY is not set") {
		t.Errorf("AuditChain(unset) = %v, want it to name the field and the variable", err)
	}
	if _, err := AuditChain(cfg, env("short-secret")); err == nil || !strings.Contains(err.Error(), "at least 16") || strings.Contains(err.Error(), "short-secret") {
		t.Errorf("AuditChain(short key) = %v, want a refusal that does not print the key", err)
	}
	if c, err := AuditChain(cfg, env("sixteen bytes ok")); err != nil || !c.Keyed() {
		t.Errorf("AuditChain(key) = %v, %v; want a keyed chain", c, err)
	}
	proj := &configs.Project{Config: cfg}
	if err := CheckSecrets(proj, env("")); err == nil || !strings.Contains(err.Error(), "governance.audit_key_env") {
		t.Errorf("CheckSecrets(audit key unset) = %v, want it named", err)
	}
}

// TestSignoffActions: the store pairs sign-off rows with the audit entries
// of governance's sign-off actions.
func TestSignoffActions(t *testing.T) {
	want := []string{governance.ActionSuiteAdopted, governance.ActionThresholdsSignedOff}
	if !slices.Equal(store.SignoffActions, want) {
		t.Errorf("store.SignoffActions = %q, want %q", store.SignoffActions, want)
	}
}
