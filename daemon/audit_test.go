package daemon

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
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

// TestAuditHeadLeavesTheDatabase: every governance change writes the new
// head to the witness file and sends it to the alert sinks (here the log
// sink), so that copies of it live outside the database.
func TestAuditHeadLeavesTheDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evald.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	proj := &configs.Project{
		Config: &configs.Config{Targets: []configs.Target{{Name: "prod", BaseURL: "http://127.0.0.1:9/v1", Model: "m"}},
			Suites: []configs.SuiteRef{{File: "facts.yaml", Targets: []string{"prod"}}}},
		Suites: []*evals.Suite{factSuite(t, 2)},
	}
	var logs bytes.Buffer
	d, err := New(Options{Project: proj, Store: st, Alerts: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Silence(ctx, "facts", "prod", "bob", "maintenance", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := d.alerting.worker.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	seq, hash, err := st.AuditHead(ctx)
	if err != nil || seq == 0 {
		t.Fatalf("AuditHead = %d, %v", seq, err)
	}
	raw, err := os.ReadFile(store.WitnessPath(path))
	if err != nil {
		t.Fatal(err)
	}
	w, err := governance.ParseWitness(raw)
	if err != nil || w.Seq != seq || w.Hash != hash || w.Mode != governance.ModePlain {
		t.Errorf("witness = %+v, %v; want seq %d hash %s, plain", w, err, seq, hash)
	}
	for _, want := range []string{fmt.Sprintf("audit_seq=%d", seq), "audit_hash=" + hash, `msg="alert open: Audit log"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
