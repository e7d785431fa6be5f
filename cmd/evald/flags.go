package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/store"
)

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("evald "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseArgs parses flags that may stand before or after the positional
// arguments, as people type them, and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &exitError{code: exitOK}
			}
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
type projectFlags struct {
	config string
	db     string
	// def is --config's default, for cmdLine to leave out.
	def string
}

func (p *projectFlags) register(fs *flag.FlagSet) {
	def := os.Getenv("EVALD_CONFIG")
	if def == "" {
		def = "evald.yaml"
	}
	p.def = def
	fs.StringVar(&p.config, "config", def, "config `file` (default ./evald.yaml or $EVALD_CONFIG)")
	fs.StringVar(&p.db, "db", "", "SQLite database `file` (default: the config's storage.sqlite)")
}

// cmdLine writes follow-up commands that reach this config and database.
func (p *projectFlags) cmdLine() cmdLine {
	c := cmdLine{prog: selfName(), db: p.db}
	if p.config != p.def {
		c.config = p.config
	}
	return c
}

// load reads the config and every suite; any problem is a usage error (exit 2).
func (p *projectFlags) load() (*configs.Project, error) {
	proj, err := configs.Load(p.config)
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
	return filepath.Join(filepath.Dir(p.config), "evald.db")
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	if v := os.Getenv("EVALD_LOG_LEVEL"); v != "" {
		_ = level.UnmarshalText([]byte(v))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// openStore opens the database of a read-mostly command: --db when given
// (no config needed), else the config's.
func (p *projectFlags) openStore(ctx context.Context) (*store.Store, error) {
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
		return nil, usageErr("open %s: %w", path, err)
	}
	return st, nil
}
