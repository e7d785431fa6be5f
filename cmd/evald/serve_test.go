package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/sim"
	"github.com/evald/evald/store"
)

// TestMain lets a test start this test binary as the evald command, so
// process-level tests (kill -9, signals) need no separate build.
func TestMain(m *testing.M) {
	if os.Getenv("EVALD_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// child is an `evald` process whose log lines the test reads.
type child struct {
	cmd   *exec.Cmd
	lines chan string
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "EVALD_TEST_AS_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return c
}

// waitLine blocks until the child logs a line containing s; the deadline
// only guards against a hung test.
func (c *child) waitLine(t *testing.T, s string) string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("child exited before logging %q", s)
			}
			if strings.Contains(l, s) {
				return l
			}
		case <-deadline:
			t.Fatalf("child did not log %q within a minute", s)
		}
	}
}

func TestServeSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	// The simulator signals once it has answered 40 requests.
	var served atomic.Int64
	reached := make(chan struct{})
	h := sim.New(sim.Options{Latency: 20 * time.Millisecond, WrongRate: -1})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/chat/completions") && served.Add(1) == 40 {
			close(reached)
		}
	}))
	defer func() { h.Close(); srv.Close() }()

	cfg := project(t, srv.URL+"/v1", "0.5")
	// 80 cases at concurrency 2: a run takes about a second.
	suite := filepath.Join(filepath.Dir(cfg), "suites/faq.yaml")
	var more strings.Builder
	for i := range 80 {
		more.WriteString("  - vars: {question: \"What is the refund window in days? (" + itoa(i) + ")\"}\n    assert:\n      - type: contains\n        value: \"30 days\"\n")
	}
	edit(t, suite, "tests:\n", "tests:\n"+more.String())
	edit(t, suite, "repeats: 2", "repeats: 1")
	edit(t, cfg, "targets: [prod]\n", "targets: [prod]\n    schedule: \"@every 3s\"\n")
	signtest.Update(t, cfg)
	db := filepath.Join(filepath.Dir(cfg), "evald.db")

	// At debug level the daemon logs each committed batch of samples.
	t.Setenv("EVALD_LOG_LEVEL", "debug")
	first := startChild(t, "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	first.waitLine(t, "run started")
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatal("the simulator never served 40 requests")
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()
	// Every batch the child logged as written was committed before it died.
	committed := 0
	for l := range first.lines {
		if strings.Contains(l, `msg="samples written"`) && strings.Contains(l, "run_id=1 ") {
			if i := strings.Index(l, "total="); i >= 0 {
				n, _ := strconv.Atoi(strings.Fields(l[i+len("total="):])[0])
				committed = max(committed, n)
			}
		}
	}

	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	if err := st.Check(ctx); err != nil {
		t.Fatalf("integrity after kill -9: %v", err)
	}
	killed, err := st.Run(ctx, 1)
	if err != nil || killed.Status != "running" {
		t.Fatalf("run 1 after kill -9 = %+v, %v; want still running (not completed)", killed, err)
	}
	samples, err := st.Samples(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// No committed sample is lost, and the run had got well under way.
	if committed == 0 || len(samples) < committed {
		t.Errorf("stored %d samples of the killed run; the child had logged %d committed", len(samples), committed)
	}
	st.Close()

	t.Setenv("EVALD_LOG_LEVEL", "info")
	second := startChild(t, "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	second.waitLine(t, "as interrupted")
	second.waitLine(t, "run finished")

	// A second daemon on the same database refuses to start.
	code, _, errOut := evald(t, "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	if code != exitStore || !strings.Contains(errOut, "another evald") {
		t.Errorf("second serve = exit %d, %q; want %d saying another evald holds the database", code, errOut, exitStore)
	}

	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v, want exit 0", err)
	}
	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(ctx); err != nil {
		t.Fatalf("integrity after restart: %v", err)
	}
	killed, _ = st.Run(ctx, 1)
	if killed.Status != "interrupted" {
		t.Errorf("run 1 status after restart = %q, want interrupted", killed.Status)
	}
	after, _ := st.Samples(ctx, 1)
	if len(after) != len(samples) {
		t.Errorf("run 1 has %d samples after restart, had %d: recovery must not lose or add samples", len(after), len(samples))
	}
	r2, err := st.Run(ctx, 2)
	if err != nil || (r2.Status != "passed" && r2.Status != "failed" && r2.Status != "regressed") {
		t.Errorf("run 2 = %+v, %v; want a completed run after the restart", r2, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestReloadWarnsOfUnsetTokens: a SIGHUP whose config names an unset
// server.tokens_env is warned about, as a start with it is.
func TestReloadWarnsOfUnsetTokens(t *testing.T) {
	cfg := project(t, simServer(t, sim.Options{}), "0.9")
	t.Setenv("EVALD_TEST_RELOAD_TOKENS", "")
	c := startChild(t, "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	c.waitLine(t, "evald serving")
	edit(t, cfg, "storage:\n", "server:\n  tokens_env: EVALD_TEST_RELOAD_TOKENS\nstorage:\n")
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	l := c.waitLine(t, "the HTTP API refuses every change")
	if !strings.Contains(l, "EVALD_TEST_RELOAD_TOKENS") || !strings.Contains(l, "server.tokens_env") {
		t.Errorf("reload warning = %q, want it to name server.tokens_env and its variable", l)
	}
}
