package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/internal/strictyaml"
	"github.com/evald/evald/store"
)

// Names typed on the command line are resolved in one place each: suites
// and targets by configs.Project.Suite and .Target (a *configs.NameError
// with a did-you-mean, exit 2), flags by unknownFlag below, durations by
// durationValue. A command never prints an empty answer for a typo.

// storedNames resolves the suite and target a read-only command (history)
// filters on: a name is known when the config has it or the store holds
// runs of it (a suite removed from the config keeps its history). proj is
// nil when the command runs on --db alone.
func storedNames(ctx context.Context, proj *configs.Project, dbPath string, st *store.Store, suite, target string) error {
	where := dbPath
	if proj != nil && proj.Config.File != "" {
		where = proj.Config.File + " or " + dbPath
	}
	if suite != "" {
		var known []string
		if proj != nil {
			known = proj.SuiteNames()
		}
		stored, err := st.Suites(ctx)
		if err != nil {
			return err
		}
		for _, n := range stored {
			if !slices.Contains(known, n) {
				known = append(known, n)
			}
		}
		if !slices.Contains(known, suite) {
			return usageErr("%w", configs.UnknownName("suite", suite, where, known))
		}
	}
	if target != "" {
		var known []string
		if proj != nil {
			known = proj.TargetNames()
		}
		if !slices.Contains(known, target) {
			runs, err := st.History(ctx, store.RunFilter{Target: target, Limit: 1})
			if err != nil {
				return err
			}
			if len(runs) == 0 {
				return usageErr("--target: %w", configs.UnknownName("target", target, where, known))
			}
		}
	}
	return nil
}

// unknownFlag rewrites the flag package's "flag provided but not defined:
// -frmat" as "unknown flag --frmat (did you mean --format?)"; other
// errors are returned as they are.
func unknownFlag(fs *flagSet, err error) string {
	const prefix = "flag provided but not defined: -"
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return msg
	}
	name := strings.TrimPrefix(msg, prefix)
	var known []string
	fs.VisitAll(func(f *flag.Flag) { known = append(known, f.Name) })
	hint := strictyaml.Suggest(name, known)
	if strings.HasPrefix(hint, " (did you mean ") {
		hint = " (did you mean --" + strings.TrimPrefix(hint, " (did you mean ")
	} else {
		hint = ""
	}
	return fmt.Sprintf("unknown flag --%s%s; 'evald %s -h' lists its flags", name, hint, fs.cmd.name)
}

// durationValue is a duration flag that also takes whole days ("7d",
// "1d12h"), as people write a silence's length, and says what it takes
// when a value does not parse.
type durationValue time.Duration

// durationFlag defines a duration flag that also takes days.
func durationFlag(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) *time.Duration {
	*p = def
	fs.Var((*durationValue)(p), name, usage)
	return p
}

func (d *durationValue) String() string { return time.Duration(*d).String() }

func (d *durationValue) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

// parseDuration is time.ParseDuration with a leading count of days.
func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("want a duration like 90s, 30m, 12h or 7d (got %q)", s)
	days, rest := time.Duration(0), s
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, bad
		}
		days, rest = time.Duration(n)*24*time.Hour, s[i+1:]
		if rest == "" {
			return days, nil
		}
	}
	v, err := time.ParseDuration(rest)
	if err != nil {
		return 0, bad
	}
	return days + v, nil
}
