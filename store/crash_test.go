//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const (
	crashDBEnv       = "EVALD_STORE_CRASH_DB"
	crashBatchSize   = 200
	crashReportsWant = 5 // committed batches to see before the kill
)

// TestCrashHelper is the child of TestCrash: it takes the lock, creates a
// run and appends batches of samples until it is killed, printing
// "run ID" once and "batch N" after each commit.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("the child process of TestCrash")
	}
	ctx := context.Background()
	// The release func is dropped on purpose: the lock must hold until the
	// process dies, garbage collection or not (the parent checks).
	if _, err := AcquireLock(path); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.CreateRun(ctx, Run{Suite: "crash", Target: "prod", Trigger: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("run %d\n", id)
	// Bounded, in case the parent never kills it; a parent that died
	// closes the pipe and the next Printf ends this process.
	for b := range 10000 {
		if err := s.AddSamples(ctx, id, makeSamples(b, crashBatchSize, 2)); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("batch %d\n", b)
	}
}

// TestCrash kills a process that is writing samples (SIGKILL, mid-batch
// most likely) and checks that the file is intact, that every batch the
// process saw committed is there in full and no batch is there in part,
// that the lock died with the process, and that the run left "running" is
// recovered as interrupted.
func TestCrash(t *testing.T) {
	if os.Getenv(crashDBEnv) != "" {
		t.Skip("in the child")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evald.db")

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}

	runID := int64(-1)
	committed := -1 // the last batch the child reported committed
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		kind, num, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			continue // test framework output
		}
		switch kind {
		case "run":
			runID = n
		case "batch":
			if got, want := int(n), committed+1; got != want {
				t.Fatalf("child reported batch %d, want %d", got, want)
			}
			committed = int(n)
		}
		if committed+1 == crashReportsWant && !killed {
			if release, err := AcquireLock(path); !errors.Is(err, ErrLocked) {
				t.Errorf("AcquireLock while the child runs = %v, want ErrLocked", err)
				if err == nil {
					release()
				}
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatalf("kill child: %v", err)
			}
			killed = true
			// Keep reading: lines already in the pipe report batches
			// that committed before the kill.
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child ended after %d batches without being killed: %v\n%s", committed+1, err, stderr.String())
	}
	if err == nil {
		t.Fatalf("child exited cleanly, want killed")
	}
	t.Logf("child killed after reporting %d committed batches", committed+1)

	release, err := AcquireLock(path)
	if err != nil {
		t.Fatalf("AcquireLock after the child died = %v, want the lock released", err)
	}
	defer release()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open after the crash = %v", err)
	}
	defer s.Close()
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check after the crash = %v", err)
	}

	samples, err := s.Samples(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	perBatch := map[int]int{}
	for _, sm := range samples {
		perBatch[sm.CaseIndex]++
		if got, want := len(sm.Results), 2; got != want {
			t.Errorf("batch %d sample %d has %d results, want %d", sm.CaseIndex, sm.Repeat, got, want)
		}
	}
	for b := 0; b <= committed; b++ {
		if got, want := perBatch[b], crashBatchSize; got != want {
			t.Errorf("batch %d (reported committed) has %d samples, want %d", b, got, want)
		}
	}
	for b, n := range perBatch {
		if b > committed && n != crashBatchSize {
			t.Errorf("unreported batch %d has %d samples, want all %d or none", b, n, crashBatchSize)
		}
		if b > committed+1 {
			t.Errorf("batch %d is stored, but the child was killed while writing batch %d at the latest", b, committed+1)
		}
	}

	run, err := s.Run(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := run.Status, StatusRunning; got != want {
		t.Errorf("status of the killed run = %q, want %q", got, want)
	}
	n, err := s.InterruptRunning(ctx, "evald stopped before the run finished")
	if err != nil || n != 1 {
		t.Fatalf("InterruptRunning = %d, %v, want 1, nil", n, err)
	}
	run, err = s.Run(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := run.Status, StatusInterrupted; got != want {
		t.Errorf("status after InterruptRunning = %q, want %q", got, want)
	}
}
