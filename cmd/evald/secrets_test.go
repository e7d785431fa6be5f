package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// withKeyEnv names an API key variable on the project's target.
func withKeyEnv(t *testing.T, cfg, name string) {
	t.Helper()
	edit(t, cfg, "    model: sim-1\n", "    api_key_env: "+name+"\n    model: sim-1\n")
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

// TestServeRefusesUnsetSecrets: serve does not start when a scheduled
// suite's target, or an alert sink, needs a variable that is not set; it
// names each, where it is named, and exits 2.
func TestServeRefusesUnsetSecrets(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	withKeyEnv(t, cfg, "EVALD_TEST_UNSET_KEY")
	edit(t, cfg, "targets: [prod]\n", "targets: [prod]\n    schedule: \"@every 1h\"\n")
	appendTo(t, cfg, "alerts:\n  slack: {webhook_url_env: EVALD_TEST_UNSET_SLACK}\n")
	t.Setenv("EVALD_TEST_UNSET_KEY", "")
	t.Setenv("EVALD_TEST_UNSET_SLACK", "")

	c := startChild(t, "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	var lines []string
	for l := range c.lines {
		if strings.Contains(l, "evald serving") {
			t.Fatalf("serve started with the key and the Slack webhook unset: %s", l)
		}
		lines = append(lines, l)
	}
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
		t.Errorf("serve = %v, want exit %d", err, exitUsage)
	}
	want := []string{
		"evald serve: " + cfg + ":6: targets[0].api_key_env: environment variable EVALD_TEST_UNSET_KEY is not set",
		cfg + ":17: alerts.slack.webhook_url_env: environment variable EVALD_TEST_UNSET_SLACK is not set",
	}
	if got := strings.Join(lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("serve stderr:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "evald.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("serve created its database before refusing (stat: %v)", err)
	}
}
