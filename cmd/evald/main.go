// Command evald re-runs versioned LLM eval suites against the endpoints
// production uses, keeps every score in SQLite, and flags regressions.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes of the command-line contract (DESIGN.md).
const (
	exitOK       = 0
	exitFailed   = 1 // a threshold failed or a regression was detected
	exitUsage    = 2 // usage or configuration error
	exitRefused  = 3 // refused by governance
	exitNoResult = 4 // the run could not be completed
)

// exitError carries a documented exit code to main. A nil err means the
// command already printed what it had to say.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"validate", "check the config and every suite without running anything", cmdValidate},
		{"run", "run suites now and exit with the gate's verdict", cmdRun},
		{"history", "list stored runs, oldest first", cmdHistory},
		{"serve", "run the daemon: schedules, HTTP API, metrics", cmdServe},
		{"signoff", "sign off a suite's changed thresholds (who and why)", cmdSignoff},
		{"accept", "accept a provider's new behaviour: re-anchor the drift baseline", cmdAccept},
		{"silence", "mute a suite's pages on a target for a while, or list silences", cmdSilence},
		{"regrade", "grade a past run's stored outputs again with today's judge", cmdRegrade},
		{"audit", "show (log) or check (verify) the hash-chained audit log", cmdAudit},
		{"calibrate", "grade a suite's judge calibration set now and record it", cmdCalibrate},
		{"demo", "run the daemon on the embedded demo against the built-in simulator", cmdDemo},
		{"sim", "serve the simulated OpenAI-compatible endpoint", cmdSim},
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		if err == nil {
			return exitOK
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil {
				fmt.Fprintf(stderr, "evald %s: %v\n", c.name, ee.err)
			}
			return ee.code
		}
		fmt.Fprintf(stderr, "evald %s: %v\n", c.name, err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "evald: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: evald COMMAND [flags] [args]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'evald COMMAND -h' for a command's flags.")
}
