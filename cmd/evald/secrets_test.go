package main

import (
	"os"
	"strings"
	"testing"
)

// withKeyEnv names an API key variable on the project's target.
func withKeyEnv(t *testing.T, cfg, name string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(b), "    model: sim-1\n", "    api_key_env: "+name+"\n    model: sim-1\n", 1)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunUnsetKeyNamesTheField: a run whose key variable is unset is a
// configuration error placed like every other one.
func TestRunUnsetKeyNamesTheField(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	withKeyEnv(t, cfg, "EVALD_TEST_UNSET_KEY")
	t.Setenv("EVALD_TEST_UNSET_KEY", "")
	code, _, errOut := evald(t, "run", "--config", cfg, "faq")
	want := "evald run: " + cfg + ":6: targets[0].api_key_env: environment variable EVALD_TEST_UNSET_KEY is not set\n"
	if code != exitUsage || errOut != want {
		t.Errorf("run = exit %d, stderr %q; want %d and %q", code, errOut, exitUsage, want)
	}
}
