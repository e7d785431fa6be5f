package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/evald/evald/drift"
	"github.com/evald/evald/store"
)

// A stored run's baseline: the run it is compared with when shown (the
// dashboard's run page). The verdict records how many reference runs it
// used, not which, so a production run is compared with the newest
// production run of the same segment (same suite and target versions) that
// passed or failed, before the change the verdict points at (its change
// run, or the first run of its evidence), else before the run; failing
// that, with the newest earlier completed production run of any version.
// Candidates (and the production arm of a side-by-side gate) are never
// picked: they measured something else. A candidate is compared with the
// baseline its gate used, recorded in its detail. A run named by the caller
// (?vs=RUN_ID) overrides all of this.

// segmentStatuses are the statuses of a same-segment baseline: completed,
// and not itself found regressed.
var segmentStatuses = []store.Status{store.StatusPassed, store.StatusFailed}

// BaselineReader is what BaselineFor reads of the store.
type BaselineReader interface {
	Run(ctx context.Context, id int64) (store.Run, error)
	Runs(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	PreviousRun(ctx context.Context, r store.Run, beforeID int64, statuses ...store.Status) (store.Run, error)
}

// NoBaseline says why a candidate has no baseline to be compared with.
type NoBaseline int

// Why a candidate has no baseline.
const (
	HasBaseline    NoBaseline = iota
	GateNoBaseline            // its gate compared with none (--baseline none)
	GateRemote                // its gate's baseline is another server's run
	GateGone                  // its gate's baseline is no longer stored
)

// RunBaseline is the run a stored run is compared with, and why.
type RunBaseline struct {
	// Run is the baseline (zero when Missing is set).
	Run store.Run
	// Note says why it was picked; Warning is set when its versions
	// differ from the run's.
	Note, Warning string
	// Missing says why a candidate has none; Gate is then its gate's
	// baseline as recorded.
	Missing NoBaseline
	Gate    GateSide
}

// BaselineFor picks the baseline of run (with its decoded detail and its
// drift verdict v, nil when it has none): run vs when vs > 0, else as the
// comment above says. The error wraps store.ErrNotFound when vs names no
// run, or when a production run has no earlier completed production run.
func BaselineFor(ctx context.Context, st BaselineReader, run store.Run, detail Detail, v *drift.Verdict, vs int64) (RunBaseline, error) {
	switch {
	case vs > 0:
		base, err := st.Run(ctx, vs)
		if err != nil {
			return RunBaseline{}, err
		}
		return RunBaseline{Run: base, Note: "chosen in the address (?vs=)", Warning: versionWarning(run, base)}, nil
	case run.Role == store.RoleCandidate:
		return gateBaseline(ctx, st, detail)
	}
	before := run.ID
	if v != nil {
		if v.ChangeRun > 0 && v.ChangeRun <= before {
			before = v.ChangeRun
		}
		if v.Evidence != nil && v.Evidence.FromRun > 0 && v.Evidence.FromRun < before {
			before = v.Evidence.FromRun
		}
	}
	base, err := st.PreviousRun(ctx, run, before, segmentStatuses...)
	if err == nil {
		if before < run.ID {
			return RunBaseline{Run: base, Note: fmt.Sprintf("the last completed production run of the same segment before the change the verdict points at (run %d)", before)}, nil
		}
		return RunBaseline{Run: base, Note: "the previous completed production run of the same segment (same suite and target versions)"}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return RunBaseline{}, err
	}
	runs, err := st.Runs(ctx, store.RunFilter{Suite: run.Suite, Target: run.Target, BeforeID: run.ID, Production: true, Completed: true, Limit: 1})
	if err != nil {
		return RunBaseline{}, err
	}
	if len(runs) == 1 {
		r := runs[0]
		return RunBaseline{Run: r, Note: "the previous completed production run (none of this run's segment came before it)", Warning: versionWarning(run, r)}, nil
	}
	return RunBaseline{}, fmt.Errorf("baseline of run %d: %w", run.ID, store.ErrNotFound)
}

// gateBaseline is a candidate's baseline: the one its gate compared it
// with, never the previous run, which may be another candidate.
func gateBaseline(ctx context.Context, st BaselineReader, d Detail) (RunBaseline, error) {
	if d.Gate == nil || d.Gate.Baseline.RunID == 0 {
		return RunBaseline{Missing: GateNoBaseline}, nil
	}
	b := d.Gate.Baseline
	if RemoteSource(b.Source) {
		return RunBaseline{Missing: GateRemote, Gate: b}, nil
	}
	base, err := st.Run(ctx, b.RunID)
	if errors.Is(err, store.ErrNotFound) {
		return RunBaseline{Missing: GateGone, Gate: b}, nil
	}
	if err != nil {
		return RunBaseline{}, err
	}
	how := "--baseline " + b.Mode
	if b.Mode == BaselineSideBySide {
		how = "production's arm, run side by side"
	}
	return RunBaseline{Run: base, Note: "the baseline the CI gate compared it with (" + how + ")"}, nil
}

// RemoteSource reports whether a gate's baseline came from another
// server (`evald run --server URL`): its run ids are that database's.
func RemoteSource(source string) bool {
	return strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://")
}

// versionWarning says how base's versions differ from run's ("" when they
// do not): a diff between them then shows our change as well as the
// provider's.
func versionWarning(run, base store.Run) string {
	var diff []string
	if run.Suite != base.Suite || run.Target != base.Target {
		return fmt.Sprintf("run %d is of %s on %s: cases are paired by id only", base.ID, base.Suite, base.Target)
	}
	if run.PromptVersion != base.PromptVersion {
		diff = append(diff, "prompt")
	} else if run.SuiteVersion != base.SuiteVersion {
		diff = append(diff, "suite")
	}
	if run.TargetVersion != base.TargetVersion {
		diff = append(diff, "target")
	}
	if len(diff) == 0 {
		return ""
	}
	return "the " + strings.Join(diff, " and ") + " version differs from this run's: the diff shows our change as well as the provider's"
}
