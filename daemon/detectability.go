package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evald/evald/drift"
	"github.com/evald/evald/store"
)

// Detectability says what the drift detector of a scheduled (suite,
// target) can catch (docs/drift.md "Under-powered suites"): from the
// reference's own noise once it has B_min runs, else from the assumption
// of drift.AssumedSERun. ok is false when the pair is not configured.
func (d *Daemon) Detectability(ctx context.Context, suite, target string) (det drift.Detectability, ok bool, err error) {
	p := d.Project()
	for i, ref := range p.Config.Suites {
		s := p.Suites[i]
		if s == nil || s.Name != suite {
			continue
		}
		for _, t := range ref.Targets {
			if t != target {
				continue
			}
			var st *drift.State
			raw, _, err := d.store.LoadDriftState(ctx, suite, target)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return det, false, fmt.Errorf("detectability of %s on %s: %w", suite, target, err)
			default:
				var ds drift.State
				if json.Unmarshal(raw, &ds) == nil && ds.Schema == drift.StateSchema {
					st = &ds
				}
			}
			return drift.Assess(DriftConfig(s, ref.Schedule, d.opts.Now()), len(s.Cases), s.Repeats, st), true, nil
		}
	}
	return det, false, nil
}
