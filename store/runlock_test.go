//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestRunLockChild is not a test: it is the child process of
// TestInterruptAbandoned (it returns at once otherwise). It creates a
// running run in the database EVALD_RUNLOCK_CHILD_DB names, prints its ID,
// and waits for stdin to close, which it never does: the parent kills it.
func TestRunLockChild(t *testing.T) {
	path := os.Getenv("EVALD_RUNLOCK_CHILD_DB")
	if path == "" {
		return
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	id, err := s.CreateRun(context.Background(), Run{Suite: "faq", Target: "prod", Trigger: "ci"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("created", id)
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// runHolder is a child process holding one running run.
type runHolder struct {
	cmd *exec.Cmd
	id  int64
}

func startRunHolder(t *testing.T, path string) *runHolder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunLockChild$")
	cmd.Env = append(os.Environ(), "EVALD_RUNLOCK_CHILD_DB="+path)
	stdin, err := cmd.StdinPipe() // held open: the child waits on it
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "created ") {
		t.Fatalf("child said %q, %v; want created ID", line, err)
	}
	id, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "created ")), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return &runHolder{cmd: cmd, id: id}
}

// kill9 kills the child with SIGKILL and waits for it to be gone.
func (h *runHolder) kill9(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait() // "signal: killed"
}

func TestInterruptAbandoned(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evald.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	dead, live := startRunHolder(t, path), startRunHolder(t, path)
	own, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Trigger: "schedule"})
	if err != nil {
		t.Fatal(err)
	}
	if marked, err := s.InterruptAbandoned(ctx, "gone"); err != nil || len(marked) != 0 {
		t.Fatalf("InterruptAbandoned with every holder alive = %v, %v; want none", marked, err)
	}
	dead.kill9(t)
	marked, err := s.InterruptAbandoned(ctx, "the process recording it is gone")
	if err != nil || len(marked) != 1 || marked[0] != dead.id {
		t.Fatalf("InterruptAbandoned after kill -9 = %v, %v; want [%d]", marked, err, dead.id)
	}
	for _, tc := range []struct {
		id   int64
		want Status
	}{{dead.id, StatusInterrupted}, {live.id, StatusRunning}, {own, StatusRunning}} {
		r, err := s.Run(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != tc.want {
			t.Errorf("run %d status = %s, want %s", tc.id, r.Status, tc.want)
		}
		if tc.want == StatusInterrupted && (r.ErrorText != "the process recording it is gone" || r.FinishedAt.IsZero()) {
			t.Errorf("interrupted run %d: error %q, finished %v", tc.id, r.ErrorText, r.FinishedAt)
		}
	}
	if _, err := os.Stat(s.runLockPath(dead.id)); !os.IsNotExist(err) {
		t.Errorf("the dead run's lock file is still there: %v", err)
	}

	// A finished run lets go of its lock and its file.
	if err := s.FinishRun(ctx, Run{ID: own, Status: StatusPassed}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.runLockPath(own)); !os.IsNotExist(err) {
		t.Errorf("a finished run's lock file is still there: %v", err)
	}

	live.kill9(t)
	if marked, err := s.InterruptAbandoned(ctx, "gone"); err != nil || len(marked) != 1 || marked[0] != live.id {
		t.Errorf("InterruptAbandoned after the second kill = %v, %v; want [%d]", marked, err, live.id)
	}
}

// TestRunLockSurvivesClose: a store closed with a run still running leaves
// its lock file, free, so the next start marks the run interrupted.
func TestRunLockSurvivesClose(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	id, err := s.CreateRun(ctx, Run{Suite: "faq", Target: "prod", Trigger: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if marked, err := s2.InterruptAbandoned(ctx, "gone"); err != nil || len(marked) != 1 || marked[0] != id {
		t.Errorf("InterruptAbandoned after Close = %v, %v; want [%d]", marked, err, id)
	}
}
