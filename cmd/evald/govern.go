package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

// withDaemon loads the project, opens its store and builds a daemon for a
// one-shot command.
func withDaemon(ctx context.Context, pf *projectFlags, stderr io.Writer, fn func(d *daemon.Daemon, st *store.Store) error) (err error) {
	proj, err := pf.load()
	if err != nil {
		return err
	}
	var closers cleanups
	defer func() { err = errors.Join(err, closers.run(context.WithoutCancel(ctx))) }()
	st, err := openDB(ctx, pf.dbPath(proj), lockNone, &closers)
	if err != nil {
		return err
	}
	recoverRuns(ctx, st, newLogger(stderr, slog.LevelWarn))
	// Alerts are queued, not sent: an accept resolves its incident in the
	// outbox, and the serving process, which holds the sinks' secrets,
	// delivers the message.
	d, err := daemon.New(daemon.Options{Project: proj, Store: st, Logger: newLogger(stderr, slog.LevelWarn), QueueAlerts: true})
	if err != nil {
		return err
	}
	return fn(d, st)
}

// actionErr maps governance refusals and unknown names to a usage error.
func actionErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, governance.ErrNoActor), errors.Is(err, governance.ErrNoReason),
		errors.Is(err, governance.ErrSilenceDuration), errors.Is(err, daemon.ErrUnknown), errors.Is(err, daemon.ErrInvalid):
		return usageErr("%w", err)
	}
	return err
}

func oneSuite(pos []string) (string, error) {
	if len(pos) != 1 {
		return "", usageErr("takes exactly one suite name (got %d)", len(pos))
	}
	return pos[0], nil
}

// changeFlags are the flags of a command that changes governed state: who
// and why, and for some the target.
type changeFlags struct {
	pf             projectFlags
	target, by, rs string
}

// parse registers and parses the flags (extra adds the command's own) and
// returns the suite named on the command line ("list" for `silence list`).
func (c *changeFlags) parse(name string, args []string, stdout, stderr io.Writer, byHelp, reasonHelp string, withTarget bool, extra func(*flag.FlagSet)) (suite string, err error) {
	fs := newFlagSet(name, stdout, stderr)
	c.pf.register(fs)
	if withTarget {
		fs.StringVar(&c.target, "target", "", "the `target` (required)")
	}
	fs.StringVar(&c.by, "by", "", byHelp)
	fs.StringVar(&c.rs, "reason", "", reasonHelp)
	if extra != nil {
		extra(fs.FlagSet)
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) > 0 && pos[0] == "list" && name == "silence" {
		if len(pos) > 1 {
			return "", usageErr("list takes no suite name: it lists every silence (got %q)", pos[1:])
		}
		takes := fs.subFlags("list")
		var other []string
		fs.Visit(func(f *flag.Flag) {
			if !slices.Contains(takes, f.Name) {
				other = append(other, "--"+f.Name)
			}
		})
		if len(other) > 0 {
			return "", usageErr("list takes only --%s (got %s)", strings.Join(takes, " and --"), strings.Join(other, ", "))
		}
		return "list", nil
	}
	return oneSuite(pos)
}

func cmdSignoff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c changeFlags
	suite, err := c.parse("signoff", args, stdout, stderr, "who signs off (required)", "why the bar changes (required)", false, nil)
	if err != nil {
		return err
	}
	return withDaemon(ctx, &c.pf, stderr, func(d *daemon.Daemon, _ *store.Store) error {
		proj := d.Project()
		ident, user := daemon.GitIdentity(ctx, filepath.Dir(proj.RecordFile))
		changes, err := d.SignoffWith(ctx, daemon.SignoffRequest{Suite: suite, By: c.by, Reason: c.rs, Git: ident, GitUser: user})
		if errors.Is(err, governance.ErrUnchanged) {
			fmt.Fprintf(stdout, "%s: governed set unchanged; nothing to sign off\n", suite)
			return nil
		}
		if errors.Is(err, governance.ErrSameSigner) {
			return &exitError{code: exitRefused, err: err}
		}
		if err != nil {
			return actionErr(err)
		}
		fmt.Fprint(stdout, governance.FormatDiff(changes))
		fmt.Fprintf(stdout, "%s: governed set signed off by %s, recorded in %s (commit it with the suite)\n", suite, strings.TrimSpace(c.by), proj.RecordFile)
		return nil
	})
}

func cmdAccept(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c changeFlags
	suite, err := c.parse("accept", args, stdout, stderr, "who accepts (required)", "why the new behaviour is fine (required)", true, nil)
	if err != nil {
		return err
	}
	if c.target == "" {
		return usageErr("--target is required")
	}
	return withDaemon(ctx, &c.pf, stderr, func(d *daemon.Daemon, _ *store.Store) error {
		if err := actionErr(d.Accept(ctx, suite, c.target, c.by, c.rs)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s on %s: new behaviour accepted by %s; the next runs build a new reference\n", suite, c.target, c.by)
		return nil
	})
}

func cmdSilence(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c changeFlags
	var dur time.Duration
	suite, err := c.parse("silence", args, stdout, stderr, "who silences (required)", "why (required)", true, func(fs *flag.FlagSet) {
		durationFlag(fs, &dur, "for", 24*time.Hour, "how long the silence lasts: a `duration` like 12h or 7d, at most 30d")
	})
	if err != nil {
		return err
	}
	if suite == "list" {
		return withDaemon(ctx, &c.pf, stderr, func(_ *daemon.Daemon, st *store.Store) error {
			list, err := st.Silences(ctx, time.Time{})
			if err != nil {
				return err
			}
			now := time.Now()
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SUITE\tTARGET\tBY\tUNTIL\tSTATE\tREASON")
			for _, s := range list {
				state := "expired"
				if !now.Before(s.Start) && now.Before(s.Until) {
					state = "active"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Suite, s.Target, s.By, s.Until.Local().Format("2006-01-02 15:04"), state, printable(s.Reason))
			}
			return tw.Flush()
		})
	}
	if c.target == "" {
		return usageErr("--target is required")
	}
	return withDaemon(ctx, &c.pf, stderr, func(d *daemon.Daemon, _ *store.Store) error {
		si, err := d.Silence(ctx, suite, c.target, c.by, c.rs, dur)
		if err != nil {
			return actionErr(err)
		}
		fmt.Fprintf(stdout, "%s on %s: pages silenced until %s by %s (runs and verdicts go on)\n", suite, c.target, si.Until.Local().Format(time.RFC3339), si.By)
		return nil
	})
}

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit", stdout, stderr)
	var pf projectFlags
	pf.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per entry")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "log" && pos[0] != "verify") {
		return usageErr("takes log or verify (got %q); see evald help audit", pos)
	}
	st, err := pf.openStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	entries, headSeq, headHash, err := st.AuditLogWithHead(ctx)
	if err != nil {
		if pos[0] == "verify" && errors.Is(err, store.ErrAuditBroken) {
			return &exitError{code: exitFailed, err: fmt.Errorf("audit log broken (edited with SQL?): %w%s", err, witnessRecorded(st))}
		}
		return err
	}
	g := make([]governance.Entry, len(entries))
	for i, e := range entries {
		g[i] = governance.Entry{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Payload: e.Payload, PrevHash: e.PrevHash, Hash: e.Hash}
	}
	if pos[0] == "verify" {
		return verifyAudit(ctx, &pf, st, governance.Evidence{Entries: g, HeadSeq: headSeq, HeadHash: headHash}, stdout)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, e := range g {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT\tACTOR\tACTION\tPAYLOAD")
	for _, e := range g {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Local().Format("2006-01-02 15:04:05"), e.Actor, e.Action, e.Payload)
	}
	return tw.Flush()
}

// verifyAudit checks the audit log against its head and its witness, with
// the config's audit key when it names one, and says in which mode it
// verified. A broken log, a bad witness, a sign-off row without its audit
// entry or a sign-off entry without its row exit 1; a keyed log without its key exits 2.
func verifyAudit(ctx context.Context, pf *projectFlags, st *store.Store, ev governance.Evidence, stdout io.Writer) error {
	chain, keyVar, err := pf.auditChain()
	if err != nil {
		return err
	}
	if raw, err := st.AuditWitness(); err == nil {
		w, perr := governance.ParseWitness(raw)
		if perr != nil {
			return &exitError{code: exitFailed, err: fmt.Errorf("audit log broken: its witness is unreadable (edited?): %w", perr)}
		}
		ev.Witness = &w
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	v, err := chain.VerifyAll(ev)
	var ke *governance.KeyError
	switch {
	case errors.As(err, &ke):
		return usageErr("%w", err)
	case err != nil:
		return &exitError{code: exitFailed, err: err}
	}
	problems, err := st.SignoffProblems(ctx)
	if err != nil {
		return err
	}
	var msgs []string
	for _, p := range problems {
		msgs = append(msgs, p.String())
	}
	if len(msgs) > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("the audit log is intact, but sign-offs do not match it (evald ignores such rows): %s", strings.Join(msgs, "; "))}
	}
	_, silenceProblems, err := st.CheckedSilences(ctx, time.Time{})
	if err != nil {
		return err
	}
	for _, p := range silenceProblems {
		msgs = append(msgs, p.String())
	}
	if len(msgs) > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("the audit log is intact, but silences do not match it (evald ignores such rows): %s", strings.Join(msgs, "; "))}
	}
	mode := "plain sha256 (no governance.audit_key_env: whoever can write both the database and its witness can rewrite the log)"
	switch {
	case chain.Keyed() && v.KeyedFrom == 1:
		mode = fmt.Sprintf("keyed, HMAC-SHA256 with the key in %s", keyVar)
	case chain.Keyed() && v.KeyedFrom > 1:
		mode = fmt.Sprintf("keyed, HMAC-SHA256 with the key in %s, from entry %d; plain sha256 before it", keyVar, v.KeyedFrom)
	case chain.Keyed():
		mode = fmt.Sprintf("plain sha256 so far: the key in %s keys the next entries", keyVar)
	}
	if v.Entries == 0 {
		fmt.Fprintf(stdout, "audit log intact: no entries yet (%s)\n", mode)
		return nil
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries, head %d %s, %s; its witness agrees\n", v.Entries, v.HeadSeq, short12(v.HeadHash), mode)
	return nil
}

// witnessRecorded says which entry the witness beside the database last
// recorded, for a log whose own tables no longer say; "" without one.
func witnessRecorded(st *store.Store) string {
	raw, err := st.AuditWitness()
	if err != nil {
		return ""
	}
	w, err := governance.ParseWitness(raw)
	if err != nil {
		return "; its witness is unreadable too"
	}
	return fmt.Sprintf("; the witness recorded entry %d (%s)", w.Seq, short12(w.Hash))
}

func short12(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
