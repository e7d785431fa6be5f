package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

// flagSet is a command's flags with what its help says. Help asked for
// (-h, --help) goes to stdout; a flag error goes to stderr with the help.
type flagSet struct {
	*flag.FlagSet
	cmd            command
	stdout, stderr io.Writer
}

// newFlagSet returns the flag set of the command called name, which
// reports errors instead of exiting.
func newFlagSet(name string, stdout, stderr io.Writer) *flagSet {
	c, _ := lookup(name)
	c.name = name
	fs := &flagSet{FlagSet: flag.NewFlagSet("evald "+name, flag.ContinueOnError), cmd: c, stdout: stdout, stderr: stderr}
	fs.SetOutput(stderr)
	fs.Usage = func() { fs.help(fs.Output(), nil) }
	return fs
}

// help prints the command's usage lines, what it does and its flags; with
// pos naming one of its subcommands, the subcommand's alone.
func (fs *flagSet) help(w io.Writer, pos []string) {
	summary, only := fs.usage(w, pos)
	fmt.Fprintf(w, "\n%s\n", summary)
	// The flags shown: all of them, or a subcommand's; a copy prints them,
	// so that the command's own output is left as it is.
	shown := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	shown.SetOutput(w)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if only == nil || slices.Contains(only, f.Name) {
			shown.Var(f.Value, f.Name, f.Usage)
			shown.Lookup(f.Name).DefValue = f.DefValue
			n++
		}
	})
	if n > 0 {
		fmt.Fprintln(w, "\nflags:")
		shown.PrintDefaults()
	}
}

// usage prints the command's usage lines (a subcommand's alone when pos
// names one) and returns its summary and, for a subcommand, its flags.
func (fs *flagSet) usage(w io.Writer, pos []string) (summary string, only []string) {
	c := fs.cmd
	var lines []string
	summary = c.summary
	if len(pos) > 0 {
		if i := slices.IndexFunc(c.subs, func(s subcommand) bool { return s.name == pos[0] }); i >= 0 {
			s := c.subs[i]
			lines = []string{c.name + " " + s.name + " " + s.args}
			summary, only = s.summary, s.flags
		}
	}
	if lines == nil {
		if c.args != "" || len(c.subs) == 0 {
			lines = append(lines, c.name+" "+c.args)
		}
		for _, s := range c.subs {
			lines = append(lines, c.name+" "+s.name+" "+s.args)
		}
	}
	for i, l := range lines {
		prefix := "       evald "
		if i == 0 {
			prefix = "usage: evald "
		}
		fmt.Fprintln(w, strings.TrimRight(prefix+l, " "))
	}
	return summary, only
}

// subFlags are the flags the command's subcommand sub takes, as its help
// lists them (nil when there is no such subcommand).
func (fs *flagSet) subFlags(sub string) []string {
	for _, s := range fs.cmd.subs {
		if s.name == sub {
			return s.flags
		}
	}
	return nil
}

// parseArgs parses flags that may stand before or after the positional
// arguments, as people type them, and returns the positional ones.
func parseArgs(fs *flagSet, args []string) ([]string, error) {
	var pos []string
	for {
		// What the flag package prints (an error, then the help) is
		// dropped: help asked for goes to stdout, and an error is said
		// once, with a did-you-mean for a misspelt flag and the usage
		// lines.
		fs.SetOutput(io.Discard)
		err := fs.Parse(args)
		fs.SetOutput(fs.stderr)
		if errors.Is(err, flag.ErrHelp) {
			fs.help(fs.stdout, pos)
			return nil, &exitError{code: exitOK}
		}
		if err != nil {
			fmt.Fprintf(fs.stderr, "evald %s: %s\n", fs.cmd.name, unknownFlag(fs, err))
			fs.usage(fs.stderr, pos)
			return nil, &exitError{code: exitUsage}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// projectFlags are the --config and --db flags every store-using command takes.
// config is --config as given ("" when not), file the config to read.
type projectFlags struct {
	config string
	db     string
}

func (p *projectFlags) register(fs *flagSet) {
	fs.StringVar(&p.config, "config", "", "config `file` (default: $EVALD_CONFIG when set, else ./evald.yaml)")
	fs.StringVar(&p.db, "db", "", "SQLite database `file` (default: the config's storage.sqlite)")
}

// file is the config to read: --config, else $EVALD_CONFIG, else ./evald.yaml.
func (p *projectFlags) file() string {
	if p.config != "" {
		return p.config
	}
	if env := os.Getenv("EVALD_CONFIG"); env != "" {
		return env
	}
	return "evald.yaml"
}

// cmdLine writes follow-up commands that reach this config and database.
func (p *projectFlags) cmdLine() cmdLine {
	return cmdLine{prog: selfName(), config: p.config, db: p.db}
}

// load reads the config and every suite; any problem is a usage error (exit 2).
func (p *projectFlags) load() (*configs.Project, error) {
	proj, err := configs.Load(p.file())
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return proj, nil
}

// dbPath is --db, else the config's storage.sqlite, else evald.db next to the config.
func (p *projectFlags) dbPath(proj *configs.Project) string {
	switch {
	case p.db != "":
		return p.db
	case proj != nil && proj.Config.Storage.SQLite != "":
		return proj.Config.Storage.SQLite
	}
	return filepath.Join(filepath.Dir(p.file()), "evald.db")
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	if v := os.Getenv("EVALD_LOG_LEVEL"); v != "" {
		_ = level.UnmarshalText([]byte(v))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// openStore opens the database of a read-mostly command: --db when given
// (no config needed), else the config's.
func (p *projectFlags) openStore(ctx context.Context, stderr io.Writer) (*store.Store, error) {
	path := p.db
	if path == "" {
		proj, err := p.load()
		if err != nil {
			return nil, err
		}
		path = p.dbPath(proj)
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, storeErr("open %s: %w", path, err)
	}
	recoverRuns(ctx, st, newLogger(stderr, slog.LevelWarn))
	return st, nil
}

// recoverRuns marks the runs that a process killed mid-run left "running"
// as interrupted (see store.InterruptAbandoned): every evald command that
// opens a database calls it, so they are closed by the next start.
func recoverRuns(ctx context.Context, st *store.Store, log *slog.Logger) {
	marked, err := st.InterruptAbandoned(ctx, abandonedReason)
	if err != nil {
		log.Warn("cannot close runs left running by a killed evald", "err", err)
	}
	for _, id := range marked {
		log.Warn("marked a run left running by a killed evald as interrupted", "run_id", id)
	}
}

// abandonedReason is the error text of a run whose process died mid-run.
const abandonedReason = "the evald process recording it ended before the run finished (killed)"

// auditChain returns the audit chain the config asks for and the name of
// its key's variable ("" for a plain chain). With --db and no readable
// config, the chain is plain.
func (p *projectFlags) auditChain() (governance.Chain, string, error) {
	proj, err := p.load()
	if err != nil {
		if p.db != "" {
			return governance.Chain{}, "", nil
		}
		return governance.Chain{}, "", err
	}
	chain, err := daemon.AuditChain(proj.Config, os.Getenv)
	if err != nil {
		return governance.Chain{}, "", usageErr("%w", err)
	}
	return chain, proj.Config.Governance.AuditKeyEnv, nil
}
