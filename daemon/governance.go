package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
)

// ThresholdCheck is governance's verdict on a suite's governed set.
type ThresholdCheck struct {
	Kind governance.Kind
	// Changes lists what the files change against the signed-off set
	// (Pending and Stricter), or, for Unsigned, one line saying that no
	// sign-off is recorded.
	Changes []governance.Change
	// Signed is the sign-off in force.
	Signed SignedSet
}

// SignedSet is the suite's latest sign-off in the record.
type SignedSet struct {
	// Hash is the signed-off set's hash ("" when there is none).
	Hash string
	// Set is the signed-off set (nil when there is none).
	Set *governance.Set
	// Entry is the record entry (nil when there is none).
	Entry *governance.RecordEntry
}

// Pending reports whether the files' governed set waits for a sign-off:
// it changes the signed-off set in a way that needs one, or the suite has
// none at all.
func (c ThresholdCheck) Pending() bool {
	return c.Kind == governance.Pending || c.Kind == governance.Unsigned
}

// ErrRefused is returned by governance when a change lacks a sign-off.
var ErrRefused = errors.New("refused by governance")

// GovernedSet returns the governed set of suite as its files state it,
// with the judge the configuration gives it.
func (d *Daemon) GovernedSet(suite *evals.Suite) governance.Set {
	return GovernedSet(d.Project(), suite)
}

// GovernedSet returns the governed set of suite in proj (see
// configs.Project.GovernedSet).
func GovernedSet(proj *configs.Project, suite *evals.Suite) governance.Set {
	return proj.GovernedSet(suite)
}

// recordName names the record in messages.
func recordName(p *configs.Project) string {
	if p != nil && p.RecordFile != "" {
		return p.RecordFile
	}
	return governance.RecordFile
}

// CheckThresholds compares a suite's governed set with its latest sign-off
// in the project's record. A suite the record has no entry for is
// Unsigned: nothing is adopted on first sight. A record entry the store
// does not hold yet is copied into it, with its audit entry; a stricter
// set is audited.
func (d *Daemon) CheckThresholds(ctx context.Context, suite *evals.Suite) (ThresholdCheck, error) {
	proj := d.Project()
	file := GovernedSet(proj, suite)
	entry := proj.Record.Latest(suite.Name)
	var check ThresholdCheck
	if entry == nil {
		check.Kind = governance.Unsigned
		check.Changes = []governance.Change{{Key: "sign-off", OldText: "none recorded for suite " + suite.Name + " in " + recordName(proj),
			NewText: "governed set " + file.Hash()[:12], Direction: governance.Added, NeedsSignoff: true}}
		return check, nil
	}
	cur, err := d.storedSignoff(ctx, suite.Name)
	if err != nil {
		return ThresholdCheck{}, err
	}
	if laterThan(cur, *entry) {
		return d.checkAgainstLater(suite.Name, file, &cur, *entry), nil
	}
	if err := d.importSignoff(ctx, *entry, cur); err != nil {
		return ThresholdCheck{}, err
	}
	dec := governance.Decide(&entry.Set, file)
	check = ThresholdCheck{Kind: dec.Kind, Changes: dec.Changes, Signed: SignedSet{Hash: entry.SetHash, Set: &entry.Set, Entry: entry}}
	if dec.Kind == governance.Stricter {
		d.auditStricter(ctx, suite.Name, file, check)
	}
	return check, nil
}

// storedSignoff is the suite's sign-off in the store as the audit log
// vouches for it: the zero Signoff when there is none, or when the newest
// one lost its audit entry (the record's is then recorded again).
func (d *Daemon) storedSignoff(ctx context.Context, suite string) (store.Signoff, error) {
	cur, err := d.currentSignoff(ctx, suite)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrSignoffUnaudited):
		return store.Signoff{}, nil
	case err != nil:
		return store.Signoff{}, fmt.Errorf("read sign-off of %s: %w", suite, err)
	}
	return cur, nil
}

// laterThan reports whether the store's sign-off cur is later than the
// record's latest entry e and signs another set: the record lost an entry
// this database saw (its last line deleted, a revert, another branch).
func laterThan(cur store.Signoff, e governance.RecordEntry) bool {
	return cur.Hash != "" && cur.Hash != e.SetHash && cur.At.After(e.At)
}

// checkAgainstLater keeps the later sign-off the store holds in force
// when the record has gone back to an earlier one: going back to an
// earlier bar is a change like any other and needs its own sign-off. The
// record's entry is not copied into the store, so the audit log does not
// credit its signer with a sign-off made now.
func (d *Daemon) checkAgainstLater(suite string, file governance.Set, later *store.Signoff, entry governance.RecordEntry) ThresholdCheck {
	set, err := governance.ParseSet(later.SetJSON)
	if err != nil {
		// A stored set that does not parse cannot be enforced: the
		// files wait for a sign-off, which replaces it.
		return ThresholdCheck{Kind: governance.Pending, Changes: []governance.Change{d.rolledBack(suite, later, entry)}}
	}
	dec := governance.Decide(&set, file)
	check := ThresholdCheck{Kind: dec.Kind, Changes: dec.Changes, Signed: SignedSet{Hash: later.Hash, Set: &set}}
	if dec.Kind == governance.Pending {
		check.Changes = append([]governance.Change{d.rolledBack(suite, later, entry)}, check.Changes...)
	}
	return check
}

// rolledBack is the change line that says the record went back.
func (d *Daemon) rolledBack(suite string, later *store.Signoff, entry governance.RecordEntry) governance.Change {
	d.log.Warn("the sign-off record is behind this database: its later sign-off stays in force",
		"suite", suite, "database_signoff", later.Hash, "by", later.By, "at", later.At, "record_latest", entry.SetHash)
	return governance.Change{Key: "sign-off",
		OldText:      fmt.Sprintf("%s by %s at %s (in this database)", short(later.Hash), later.By, later.At.UTC().Format(time.RFC3339)),
		NewText:      fmt.Sprintf("%s by %s at %s (the record's latest: the later entry is gone from %s)", short(entry.SetHash), entry.By, entry.At.UTC().Format(time.RFC3339), recordName(d.Project())),
		Direction:    governance.Changed,
		NeedsSignoff: true}
}

func short(h string) string { return h[:min(12, len(h))] }

// noteRecord logs, at start and at each reload, every suite whose files
// the sign-off record does not cover, so that whoever runs serve hears of
// it before the suite's next scheduled run (which then pages).
func (d *Daemon) noteRecord(proj *configs.Project) {
	seen := map[string]bool{}
	for _, s := range proj.Suites {
		if s == nil || seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		switch dec := proj.SignoffDecision(s); dec.Kind {
		case governance.Unsigned:
			d.log.Warn("suite has no sign-off in the record: its runs use its files' bar, pending sign-off",
				"suite", s.Name, "record", recordName(proj), "sign_off", governance.SignoffCommand(s.Name))
		case governance.Pending:
			d.log.Warn("suite files change the signed-off bar: the signed-off bar stays in force where the files allow",
				"suite", s.Name, "changes", strings.TrimSpace(governance.FormatDiff(dec.Changes)), "sign_off", governance.SignoffCommand(s.Name))
		}
	}
}

// auditStricter audits, once per daemon and files' set, that a suite runs
// a stricter bar than the one signed off.
func (d *Daemon) auditStricter(ctx context.Context, suite string, file governance.Set, check ThresholdCheck) {
	key := suite + "\x00stricter\x00" + file.Hash()
	d.mu.Lock()
	seen := d.pendingSeen[key]
	d.pendingSeen[key] = true
	d.mu.Unlock()
	if seen {
		return
	}
	payload := map[string]any{"suite": suite, "signed_hash": check.Signed.Hash, "hash": file.Hash(), "changes": check.Changes}
	if _, err := d.store.AppendAudit(ctx, d.sealer(governance.ActorFiles, governance.ActionSuiteTightened, payload)); err != nil {
		d.log.Warn("audit a stricter governed set", "suite", suite, "err", err)
		return
	}
	d.log.Info("suite files tighten the signed-off set: allowed, audited", "suite", suite, "changes", strings.TrimSpace(governance.FormatDiff(check.Changes)))
}

// importSignoff copies a record entry into the store's sign-offs, with its
// audit entry, unless cur, the store's sign-off of the suite as
// storedSignoff read it, already has its set.
func (d *Daemon) importSignoff(ctx context.Context, e governance.RecordEntry, cur store.Signoff) error {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			var err error
			if cur, err = d.storedSignoff(ctx, e.Suite); err != nil {
				return err
			}
		}
		if cur.Hash == e.SetHash {
			return nil
		}
		payload := map[string]any{"suite": e.Suite, "reason": e.Reason, "hash": e.SetHash, "prev_hash": cur.Hash, "entry": e.Hash, "git": e.Git, "source": "record"}
		so := store.Signoff{Suite: e.Suite, SetJSON: e.Set.Canonical(), Hash: e.SetHash, By: e.By, Reason: e.Reason, At: e.At, PrevHash: cur.Hash}
		_, _, err := d.store.RecordSignoff(ctx, so, d.sealer(e.By, governance.ActionThresholdsSignedOff, payload))
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue // another command recorded one meanwhile
		}
		if err != nil {
			return fmt.Errorf("record sign-off of %s from %s: %w", e.Suite, governance.RecordFile, err)
		}
		return nil
	}
}

// SignedOff returns the latest entry of suite in the record in force (nil
// when it has none), and whether the configuration has such a suite.
func (d *Daemon) SignedOff(suite string) (*governance.RecordEntry, bool) {
	p := d.Project()
	for _, s := range p.Suites {
		if s != nil && s.Name == suite {
			return p.Record.Latest(suite), true
		}
	}
	return nil, false
}

// SignoffRequest is a sign-off to record.
type SignoffRequest struct {
	Suite, By, Reason string
	// Git is the signer's local git identity ("Name <email>"), recorded
	// with the entry; "" over HTTP, where the token names the signer.
	Git string
	// GitUser is the signer's local git user.name, also compared with the
	// author of the change under governance.require_distinct_signer.
	GitUser string
}

// Signoff records the suite files' governed set as signed off by by, for
// reason, and returns what changed. The signer is by alone (over HTTP,
// the token's name).
func (d *Daemon) Signoff(ctx context.Context, suiteName, by, reason string) ([]governance.Change, error) {
	return d.SignoffWith(ctx, SignoffRequest{Suite: suiteName, By: by, Reason: reason})
}

// SignoffWith records the suite files' governed set as signed off: it
// appends an entry to the project's record file (re-read first, so that
// the entry follows the latest one on disk) and to the store, with its
// audit entry. Signing off the set already in force returns
// governance.ErrUnchanged and records nothing. Under
// governance.require_distinct_signer a signer named like the author of the
// suite file's last commit gets governance.ErrSameSigner.
func (d *Daemon) SignoffWith(ctx context.Context, req SignoffRequest) ([]governance.Change, error) {
	suite, err := d.suite(req.Suite)
	if err != nil {
		return nil, err
	}
	d.signMu.Lock()
	defer d.signMu.Unlock()
	proj := d.Project()
	file := GovernedSet(proj, suite)
	rec := proj.Record
	if proj.RecordFile != "" {
		if rec, err = readRecord(proj.RecordFile); err != nil {
			return nil, err
		}
	}
	prev := rec.Latest(suite.Name)
	entry, err := governance.NewRecordEntry(prev, suite.Name, file, req.By, req.Git, req.Reason, d.opts.Now())
	if err != nil {
		return nil, err
	}
	if proj.Config != nil && proj.Config.Governance.RequireDistinctSigner {
		if author := gitAuthor(ctx, suite.File); author != "" && (sameName(author, entry.By) || sameName(author, req.GitUser)) {
			return nil, fmt.Errorf("%w: %s last changed %s", governance.ErrSameSigner, author, suite.File)
		}
	}
	next, err := rec.With(entry)
	if err != nil {
		return nil, err
	}
	// The store and its audit log first: a sign-off the store refuses (a
	// rolled-back database, an audit key missing) must not reach the
	// record, which every fresh CI runner trusts. Should the record's
	// append then fail, signing again repairs it: the store already holds
	// the set, so only the record gains the entry.
	cur, err := d.storedSignoff(ctx, suite.Name)
	if err != nil {
		return nil, err
	}
	if err := d.importSignoff(ctx, entry, cur); err != nil {
		return nil, err
	}
	if proj.RecordFile != "" {
		if err := appendRecord(proj.RecordFile, entry); err != nil {
			return nil, err
		}
	}
	d.mu.Lock()
	p := *d.project
	p.Record = next
	d.project = &p
	d.mu.Unlock()

	var changes []governance.Change
	if prev != nil {
		changes = governance.Diff(prev.Set, file)
	}
	d.log.Info("governed set signed off", "suite", suite.Name, "by", entry.By, "hash", entry.SetHash)
	return changes, nil
}

// sameName compares two names as people write them.
func sameName(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && strings.EqualFold(a, b)
}

// enforce returns the suite as the signed-off set says it must be run,
// where the files still allow it: the signed pass bars, repeats,
// drift.min_effect and max_tool_steps replace the files'; the cases run are the signed-off
// cases the files still hold (a case the files added is not run), each
// with its signed-off assertions. What cannot be restored (a deleted
// case, changed vars, tools or tool results, another judge) runs as the files say; the run is
// marked pending sign-off either way. With no signed set the suite runs as
// written. The suite's versions stay the files'.
func enforce(suite *evals.Suite, signed *governance.Set) (*evals.Suite, error) {
	if signed == nil {
		return suite, nil
	}
	s := *suite
	s.Thresholds = evals.Thresholds{PassRate: signed.PassRate, MeanScore: signed.MeanScore}
	s.MinEffect = signed.MinEffect
	if signed.Repeats >= 1 {
		s.Repeats = signed.Repeats
	}
	if signed.MaxToolSteps >= 1 {
		s.MaxToolSteps = signed.MaxToolSteps
	}
	s.Cases = nil
	for _, c := range suite.Cases {
		sc := signed.Case(c.ID)
		if sc == nil {
			continue
		}
		asserts, turns, err := compileSigned(suite, c, sc.Asserts)
		if err != nil {
			return nil, fmt.Errorf("case %s with its signed-off assertions: %w", c.ID, err)
		}
		c.Asserts, c.Turns = asserts, turns
		s.Cases = append(s.Cases, c)
	}
	if len(s.Cases) == 0 {
		// Nothing the signed set knows is left: run the files' cases
		// rather than nothing (the run is marked pending all the same).
		s.Cases = suite.Cases
	}
	return &s, nil
}

// compileSigned compiles a case's signed-off assertions, with the judge
// prompts the suite's files give its graded types and the suite's tools
// (the value of is-valid-openai-tools-call), and returns them grouped by
// the turn each checks, with the case's turns pointing at them. A
// conversation plays the files' turns: a signed assertion of a turn the
// files no longer have cannot be checked and is left out (the turns'
// change is pending like any other); one signed when the case had one
// turn checks the last turn, as it checked the final answer before. In a
// one-turn case every signed assertion checks the answer.
func compileSigned(suite *evals.Suite, c evals.Case, bars []governance.AssertBar) ([]scoring.Assertion, []evals.Turn, error) {
	var prompts *scoring.JudgePrompts
	for _, a := range c.Asserts {
		if p := a.Spec().JudgePrompts; p != nil {
			prompts = p
			break
		}
	}
	var turns []evals.Turn
	if c.Turns != nil {
		n := len(c.Turns)
		byTurn := make([][]governance.AssertBar, n)
		for _, b := range bars {
			switch {
			case b.Turn == 0:
				byTurn[n-1] = append(byTurn[n-1], b)
			case b.Turn <= n:
				byTurn[b.Turn-1] = append(byTurn[b.Turn-1], b)
			}
		}
		bars = bars[:0:0]
		turns = slices.Clone(c.Turns)
		for k := range turns {
			turns[k].First = len(bars)
			bars = append(bars, byTurn[k]...)
			turns[k].End = len(bars)
		}
	}
	out := make([]scoring.Assertion, 0, len(bars))
	for _, b := range bars {
		var v any
		if len(b.Value) > 0 {
			if err := json.Unmarshal(b.Value, &v); err != nil {
				return nil, nil, fmt.Errorf("%s: value: %w", b.Type, err)
			}
		}
		a, err := scoring.Compile(scoring.Spec{Type: b.Type, Value: v, Threshold: b.Threshold, Weight: b.Weight, JudgePrompts: prompts, Tools: suite.Tools})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, a)
	}
	return out, turns, nil
}

// Silence mutes the pages of suite on target for d; runs and verdicts go
// on. The silence and its audit entry are written together.
func (d *Daemon) Silence(ctx context.Context, suite, target, by, reason string, dur time.Duration) (store.Silence, error) {
	if _, _, err := d.suiteAndTarget(suite, target); err != nil {
		return store.Silence{}, err
	}
	si, err := governance.NewSilence(suite, target, by, reason, d.opts.Now(), dur)
	if err != nil {
		return store.Silence{}, err
	}
	payload := map[string]any{"suite": si.Suite, "target": si.Target, "reason": si.Reason, "until": si.Until.UTC().Format(time.RFC3339)}
	out, _, err := d.store.AddSilence(ctx, store.Silence{Suite: si.Suite, Target: si.Target, By: si.By, Reason: si.Reason, Start: si.Start, Until: si.Until},
		d.sealer(si.By, governance.ActionSilenceCreated, payload))
	if err != nil {
		return store.Silence{}, fmt.Errorf("record silence: %w", err)
	}
	return out, nil
}

// watch audits suites that left the configuration or lost cases, so that a
// suite never silently stops being watched.
func (d *Daemon) watch(ctx context.Context, actor string) error {
	return d.watchProject(ctx, d.project, actor)
}

func (d *Daemon) watchProject(ctx context.Context, p *configs.Project, actor string) error {
	known, err := d.store.KnownSuites(ctx)
	if err != nil {
		return fmt.Errorf("list known suites: %w", err)
	}
	inConfig := map[string]*evals.Suite{}
	for _, s := range p.Suites {
		inConfig[s.Name] = s
	}
	for _, k := range known {
		s, ok := inConfig[k.Name]
		switch {
		case !ok && k.RemovedAt.IsZero():
			payload := map[string]any{"suite": k.Name, "cases": k.CaseCount}
			if _, err := d.store.MarkSuiteRemoved(ctx, k.Name, d.sealer(actor, governance.ActionSuiteRemoved, payload)); err != nil && !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("record removal of suite %s: %w", k.Name, err)
			}
			d.log.Warn("suite removed from the configuration: no longer watched", "suite", k.Name)
		case ok && k.CaseCount > 0 && len(s.Cases) < k.CaseCount:
			payload := map[string]any{"suite": k.Name, "cases_before": k.CaseCount, "cases_after": len(s.Cases)}
			if _, err := d.store.SetSuiteCaseCount(ctx, k.Name, len(s.Cases), d.sealer(actor, governance.ActionSuiteCasesShrunk, payload)); err != nil {
				return fmt.Errorf("record case count of suite %s: %w", k.Name, err)
			}
			d.log.Warn("suite has fewer cases than before", "suite", k.Name, "before", k.CaseCount, "after", len(s.Cases))
		case ok && (k.CaseCount != len(s.Cases) || !k.RemovedAt.IsZero()):
			if _, err := d.store.SetSuiteCaseCount(ctx, k.Name, len(s.Cases), nil); err != nil {
				return fmt.Errorf("record case count of suite %s: %w", k.Name, err)
			}
		}
	}
	return nil
}

// suite finds a suite of the configuration by name.
func (d *Daemon) suite(name string) (*evals.Suite, error) {
	return d.Project().Suite(name)
}
