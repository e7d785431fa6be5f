package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/evald/evald/governance"
)

// cmdLine writes the evald commands that messages tell the user to run
// next (sign off, accept, history). A printed command is only useful if it
// works when pasted where the user ran evald, so it carries --config and
// --db whenever the user gave them: without them it would read
// ./evald.yaml, another project or none. Left out, the defaults
// ($EVALD_CONFIG or ./evald.yaml, the config's storage.sqlite) apply
// there as they did here.
type cmdLine struct {
	prog   string // how to call evald; "" is "evald"
	config string // --config, "" when the default applies
	db     string // --db, "" when the default applies
}

// command returns `evald SUB [--config C] [--db D] ARGS...`, every
// argument shell-quoted when it needs to be.
func (c cmdLine) command(sub string, args ...string) string {
	prog := c.prog
	if prog == "" {
		prog = "evald"
	}
	parts := []string{prog, sub}
	if c.config != "" {
		parts = append(parts, "--config", governance.ShellQuote(c.config))
	}
	if c.db != "" {
		parts = append(parts, "--db", governance.ShellQuote(c.db))
	}
	for _, a := range args {
		parts = append(parts, governance.ShellQuote(a))
	}
	return strings.Join(parts, " ")
}

// signoff is the command that signs off suite's current thresholds.
func (c cmdLine) signoff(suite string) string {
	return c.command("signoff", governance.SignoffArgs(suite)...)
}

// accept is the command that accepts the new behaviour of suite on target.
func (c cmdLine) accept(target, suite string) string {
	return c.command("accept", "--target", target, "--by", "NAME", "--reason", "TEXT", suite)
}

// progName is how printed commands call evald, given os.Args[0]: `go run
// ./cmd/evald` for a binary `go run` built (the README runs the demo so,
// from the repository's root), the path as typed for a binary called by
// its path (./evald), else "evald", found on $PATH.
func progName(arg0 string) string {
	p := filepath.ToSlash(arg0)
	switch {
	case strings.Contains(p, "/go-build") && strings.Contains(p, "/exe/"):
		return "go run ./cmd/evald"
	case strings.Contains(p, "/") && filepath.Base(arg0) == "evald":
		return governance.ShellQuote(arg0)
	}
	return "evald"
}

// selfName is progName of this process.
func selfName() string { return progName(os.Args[0]) }
