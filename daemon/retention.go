package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/store"
)

// Retention (storage.retain_samples) runs in the background: every
// retainEvery it deletes the samples of runs older than the setting,
// retainBatch runs to a transaction so that runs being recorded wait for
// no more than one small batch, then hands the freed pages back to the
// file system reclaimPages at a time.
const (
	retainEvery  = 10 * time.Minute
	retainBatch  = 10
	reclaimPages = 2048
	// maxOpenIncidents bounds the incidents read for the keep list.
	maxOpenIncidents = 10000
)

// retainLoop applies retention soon after start, then every retainEvery,
// until ctx ends. The setting is read from the configuration in force at
// each pass, so a reload changes it.
func (d *Daemon) retainLoop(ctx context.Context) {
	t := time.NewTimer(firstQuickCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if keep := d.Project().Config.Storage.RetainSamples; keep > 0 {
			if n, err := d.Retain(ctx, d.opts.Now().Add(-keep)); err != nil {
				if ctx.Err() == nil {
					d.log.Error("sample retention failed", "err", err)
				}
			} else if n > 0 {
				d.log.Info("deleted the samples of old runs", "runs", n, "retain_samples", keep.String())
			}
		}
		t.Reset(retainEvery)
	}
}

// Retain deletes the samples and assertion results of the runs that
// started before cutoff, except those still needed: the drift detector's
// reference (and the runs it holds or alarmed on), every run of a pair
// since its open incident's first run, and each pair's newest completed
// production run (the baseline of `evald run --baseline latest`). It
// returns how many runs it pruned, and then reclaims the freed space.
func (d *Daemon) Retain(ctx context.Context, cutoff time.Time) (int, error) {
	keep, err := d.retentionKeep(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		n, err := d.store.PruneSamples(ctx, cutoff, keep, retainBatch)
		total += n
		if err != nil {
			return total, err
		}
		if n < retainBatch {
			break
		}
	}
	if total == 0 {
		return 0, nil
	}
	// A database without incremental vacuum makes no progress here: its
	// free pages stay for later writes.
	prev := int64(-1)
	for ctx.Err() == nil {
		free, err := d.store.ReclaimSpace(ctx, reclaimPages)
		if err != nil {
			return total, err
		}
		if free == 0 || free == prev {
			break
		}
		prev = free
	}
	return total, nil
}

// retentionKeep lists the runs whose samples are still needed.
func (d *Daemon) retentionKeep(ctx context.Context) (store.Keep, error) {
	var keep store.Keep
	pairs := map[runKey]bool{}
	states, err := d.store.DriftStates(ctx)
	if err != nil {
		return keep, err
	}
	for _, s := range states {
		pairs[runKey{s.Suite, s.Target}] = true
		var st drift.State
		if err := json.Unmarshal(s.State, &st); err != nil {
			// An unreadable state is rebuilt from the next run; keep the
			// pair's samples meanwhile rather than guess.
			keep.From = append(keep.From, store.KeepFrom{Suite: s.Suite, Target: s.Target, RunID: 1})
			continue
		}
		keep.Runs = append(keep.Runs, stateRuns(st)...)
	}
	incidents, err := d.store.Incidents(ctx, true, maxOpenIncidents)
	if err != nil {
		return keep, err
	}
	for _, in := range incidents {
		from := int64(1) // an incident that names no run keeps its pair's runs
		var inc alerts.Incident
		if err := json.Unmarshal(in.Data, &inc); err == nil {
			for _, ev := range []*alerts.Event{inc.FirstEvent, inc.LastEvent} {
				if ev != nil && ev.RunID > 0 {
					from = ev.RunID
					break
				}
			}
		}
		keep.From = append(keep.From, store.KeepFrom{Suite: in.Suite, Target: in.Target, RunID: from})
	}
	for _, p := range d.Pairs() {
		pairs[runKey{p.Suite, p.Target}] = true
	}
	for k := range pairs {
		runs, err := d.store.LastCompleted(ctx, k.suite, k.target, 1)
		if err != nil {
			return keep, fmt.Errorf("retention: %w", err)
		}
		for _, r := range runs {
			keep.Runs = append(keep.Runs, r.ID)
		}
	}
	return keep, nil
}

// stateRuns are the runs a drift state refers to.
func stateRuns(st drift.State) []int64 {
	ids := append([]int64{st.Segment.StartRun}, st.Ref.Runs...)
	if st.Excursion != nil {
		ids = append(ids, st.Excursion.FirstRun)
	}
	if st.Alert != nil {
		ids = append(ids, st.Alert.Run, st.Alert.ChangeRun)
	}
	for _, p := range st.Growth.Pending {
		ids = append(ids, p.Run)
	}
	return ids
}
