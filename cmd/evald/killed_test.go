//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestKilledRunIsInterrupted: an `evald run` killed with SIGKILL mid-run
// leaves its run "running"; the next evald command on the database marks
// it interrupted, but not while the process lives.
func TestKilledRunIsInterrupted(t *testing.T) {
	arrived := make(chan struct{}, 1)
	done := make(chan struct{})
	// An endpoint that takes the request and never answers: the run is
	// recorded, then hangs until its process dies.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	cfg := project(t, srv.URL+"/v1", "0.9")
	mustEvald(t, "signoff", "--config", cfg, "--by", "alice", "--reason", "first bar", "faq")

	cmd := exec.Command(os.Args[0], "run", "--config", cfg, "faq")
	cmd.Env = append(os.Environ(), "EVALD_TEST_AS_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	<-arrived // the run is recorded before its first request is sent

	status := func() string {
		t.Helper()
		out := mustEvald(t, "history", "--config", cfg, "--json")
		var r struct {
			Status string `json:"status"`
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
			t.Fatalf("history --json = %q: %v", out, err)
		}
		return r.Status
	}
	if got := status(); got != "running" {
		t.Fatalf("status while the run's process lives = %q, want running", got)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // signal: killed
	if got := status(); got != "interrupted" {
		t.Errorf("status after kill -9 and a later evald start = %q, want interrupted", got)
	}
}
