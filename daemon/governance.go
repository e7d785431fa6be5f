package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/scoring"
	"github.com/evald/evald/store"
)

// ThresholdCheck is governance's verdict on a suite file's thresholds.
type ThresholdCheck struct {
	Kind governance.Kind
	// Changes lists what the file changes against the signed-off set
	// (Pending only).
	Changes []governance.Change
	// Signed is the sign-off in force.
	Signed governance.Signoff
}

// Pending reports whether the file's thresholds wait for a sign-off.
func (c ThresholdCheck) Pending() bool { return c.Kind == governance.Pending }

// ErrRefused is returned by governance when a change lacks a sign-off.
var ErrRefused = errors.New("refused by governance")

// CheckThresholds compares a suite file's thresholds with the signed-off
// set. On first sight of the suite its thresholds are adopted, and the
// adoption is audited (actor "bootstrap").
func (d *Daemon) CheckThresholds(ctx context.Context, suite *evals.Suite) (ThresholdCheck, error) {
	file := governance.FromSuite(suite)
	cur, err := d.currentSignoff(ctx, suite.Name)
	if errors.Is(err, store.ErrNotFound) {
		so, err := governance.NewSignoff(suite.Name, file, governance.ActorBootstrap, "first sight of the suite: its thresholds are adopted", d.opts.Now(), nil)
		if err != nil {
			return ThresholdCheck{}, err
		}
		payload := map[string]any{"suite": suite.Name, "file": suite.File, "thresholds": file, "hash": so.Hash, "cases": len(suite.Cases)}
		if _, _, err := d.store.RecordSignoff(ctx, toStoreSignoff(so), d.sealer(governance.ActorBootstrap, governance.ActionSuiteAdopted, payload)); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return d.CheckThresholds(ctx, suite) // adopted meanwhile by another command
			}
			return ThresholdCheck{}, fmt.Errorf("adopt thresholds of %s: %w", suite.Name, err)
		}
		d.log.Info("suite seen for the first time: thresholds adopted", "suite", suite.Name, "hash", so.Hash)
		return ThresholdCheck{Kind: governance.Adopt, Signed: so}, nil
	}
	if err != nil {
		return ThresholdCheck{}, fmt.Errorf("read sign-off of %s: %w", suite.Name, err)
	}
	signed, err := fromStoreSignoff(cur)
	if err != nil {
		return ThresholdCheck{}, err
	}
	dec := governance.Decide(&signed, file)
	return ThresholdCheck{Kind: dec.Kind, Changes: dec.Changes, Signed: signed}, nil
}

// Signoff records the suite file's thresholds as signed off by by, for
// reason, and returns what changed. Signing off an unchanged set returns
// governance.ErrUnchanged and records nothing.
func (d *Daemon) Signoff(ctx context.Context, suiteName, by, reason string) ([]governance.Change, error) {
	suite, err := d.suite(suiteName)
	if err != nil {
		return nil, err
	}
	file := governance.FromSuite(suite)
	var prev *governance.Signoff
	cur, err := d.currentSignoff(ctx, suite.Name)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrSignoffUnaudited):
		// A lost row is repaired by a new, audited sign-off.
	case err != nil:
		return nil, fmt.Errorf("read sign-off of %s: %w", suite.Name, err)
	default:
		p, err := fromStoreSignoff(cur)
		if err != nil {
			return nil, err
		}
		prev = &p
	}
	so, err := governance.NewSignoff(suite.Name, file, by, reason, d.opts.Now(), prev)
	if err != nil {
		return nil, err
	}
	var changes []governance.Change
	if prev != nil {
		changes = governance.Diff(prev.Set, file)
	}
	payload := map[string]any{"suite": suite.Name, "reason": so.Reason, "hash": so.Hash, "prev_hash": so.PrevHash, "changes": changes, "thresholds": file}
	if _, _, err := d.store.RecordSignoff(ctx, toStoreSignoff(so), d.sealer(so.By, governance.ActionThresholdsSignedOff, payload)); err != nil {
		return nil, fmt.Errorf("record sign-off of %s: %w", suite.Name, err)
	}
	d.log.Info("thresholds signed off", "suite", suite.Name, "by", so.By, "hash", so.Hash)
	return changes, nil
}

// enforce returns the suite as the signed-off set says it must be run: the
// signed pass bars, repeats, drift.min_effect and per-assertion thresholds
// replace the file's. The suite's versions stay the file's.
func enforce(suite *evals.Suite, signed governance.ThresholdSet) (*evals.Suite, error) {
	s := *suite
	s.Thresholds = governance.Effective(signed, suite)
	s.MinEffect = signed.Lookup(governance.KeyMinEffect)
	if r := signed.Lookup(governance.KeyRepeats); r != nil && *r >= 1 {
		s.Repeats = int(*r)
	}
	s.Cases = make([]evals.Case, len(suite.Cases))
	for i, c := range suite.Cases {
		c.Asserts = append([]scoring.Assertion(nil), c.Asserts...)
		for j, a := range c.Asserts {
			spec := a.Spec()
			want := signed.Lookup(governance.AssertKey(c.ID, j, spec.Type))
			if (want == nil) == (spec.Threshold == nil) && (want == nil || *want == *spec.Threshold) {
				continue
			}
			spec.Threshold = want
			re, err := scoring.Compile(spec)
			if err != nil {
				return nil, fmt.Errorf("case %s assertion %d with its signed-off threshold: %w", c.ID, j, err)
			}
			c.Asserts[j] = re
		}
		s.Cases[i] = c
	}
	return &s, nil
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
	p := d.Project()
	for _, s := range p.Suites {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w: no suite named %q in %s", ErrUnknown, name, configName(p))
}

func toStoreSignoff(so governance.Signoff) store.Signoff {
	return store.Signoff{Suite: so.Suite, SetJSON: so.Set.Canonical(), Hash: so.Hash, By: so.By, Reason: so.Reason, At: so.At, PrevHash: so.PrevHash}
}

func fromStoreSignoff(so store.Signoff) (governance.Signoff, error) {
	set, err := governance.ParseSet(so.SetJSON)
	if err != nil {
		return governance.Signoff{}, fmt.Errorf("sign-off of %s: %w", so.Suite, err)
	}
	g := governance.Signoff{Suite: so.Suite, Set: set, Hash: so.Hash, By: so.By, Reason: so.Reason, At: so.At, PrevHash: so.PrevHash}
	if err := g.Check(); err != nil {
		return governance.Signoff{}, fmt.Errorf("sign-off of %s no longer matches its hash (edited?): %w", so.Suite, err)
	}
	return g, nil
}
