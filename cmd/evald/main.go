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
	"slices"
	"strings"
	"syscall"

	"github.com/evald/evald/internal/strictyaml"
	"github.com/evald/evald/store"
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
	exitStore    = 5 // the database could not be locked or opened
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

// command is one evald command. args is what follows `evald NAME` on its
// usage line ("" when subs say it all); subs are the command's own
// subcommands (silence list, audit log and verify), with a usage of their
// own.
type command struct {
	name, args, summary string
	subs                []subcommand
	run                 func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// subcommand is the first argument of a command that makes it another
// one; flags names the command's flags it takes.
type subcommand struct {
	name, args, summary string
	flags               []string
}

func commands() []command {
	return []command{
		{name: "init", args: "[--by NAME] [FOLDER]", summary: "write a starter project (config, suite, prompt, dataset) against evald sim's default address, with its first sign-off", run: cmdInit},
		{name: "validate", args: "[flags]", summary: "check the config and every suite without running anything", run: cmdValidate},
		{name: "run", args: "[flags] [SUITE...]", summary: "run the suites named (every suite of the config when none is) now and exit with the gate's verdict", run: cmdRun},
		{name: "history", args: "[flags] [SUITE]", summary: "list stored runs, oldest first", run: cmdHistory},
		{name: "serve", args: "[flags]", summary: "run the daemon: schedules, HTTP API, metrics", run: cmdServe},
		{name: "signoff", args: "--by NAME --reason TEXT [flags] SUITE", summary: "sign off a suite's governed set (thresholds, cases, assertions, judge) in evald.signoffs: who and why", run: cmdSignoff},
		{name: "accept", args: "--target T --by NAME --reason TEXT [flags] SUITE", summary: "accept a provider's new behaviour: re-anchor the drift baseline", run: cmdAccept},
		{name: "silence", args: "--target T --by NAME --reason TEXT [--for 24h] [flags] SUITE", summary: "mute a suite's pages on a target for a while, or list silences", run: cmdSilence,
			subs: []subcommand{{name: "list", args: "[flags]", summary: "list every silence, active or expired", flags: []string{"config", "db"}}}},
		{name: "regrade", args: "--run ID [flags] SUITE", summary: "grade a past run's stored outputs again with today's judge", run: cmdRegrade},
		{name: "audit", summary: "show (log) or check (verify) the hash-chained audit log", run: cmdAudit,
			subs: []subcommand{
				{name: "log", args: "[--json] [flags]", summary: "print the hash-chained audit log", flags: []string{"config", "db", "json"}},
				{name: "verify", args: "[flags]", summary: "recompute the audit log's chain and compare it with its head and its witness file; exit 1 naming what is wrong (an edited, deleted or reordered entry, a rollback, a wiped log, a recomputed chain)", flags: []string{"config", "db"}},
			}},
		{name: "calibrate", args: "[flags] SUITE", summary: "grade a suite's judge calibration set now and record it", run: cmdCalibrate},
		{name: "demo", args: "[flags]", summary: "run the daemon on the embedded demo against the built-in simulator", run: cmdDemo},
		{name: "sim", args: "[flags]", summary: "serve the simulated OpenAI-compatible endpoint", run: cmdSim},
		{name: "version", summary: "print evald's version", run: cmdVersion},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run is the command line: help asked for (-h, --help, help [COMMAND])
// goes to stdout with exit 0; a usage error goes to stderr with exit 2.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		printUsage(stdout)
		return exitOK
	case "-version", "--version":
		args = []string{"version"}
	case "help":
		if len(args) == 1 {
			printUsage(stdout)
			return exitOK
		}
		// `evald help silence list` is `evald silence list -h`.
		args = append(slices.Clone(args[1:]), "-h")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, ok := lookup(args[0])
	if !ok {
		var names []string
		for _, c := range commands() {
			names = append(names, c.name)
		}
		hint := strictyaml.Suggest(args[0], names)
		if !strings.HasPrefix(hint, " (did you mean") {
			hint = ""
		}
		fmt.Fprintf(stderr, "evald: unknown command %q%s\n\n", args[0], hint)
		printUsage(stderr)
		return exitUsage
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.Is(err, store.ErrLocked) && !errors.As(err, &ee) {
		ee = &exitError{code: exitStore, err: err}
	}
	if ee != nil || errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "evald %s: %v\n", c.name, ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "evald %s: %v\n", c.name, err)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: evald COMMAND [flags] [args]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'evald help COMMAND' or 'evald COMMAND -h' for a command's usage and flags.")
}
