package daemon

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/configs"
	"github.com/evald/evald/governance"
)

// Reload puts a new configuration in force: schedules are rebuilt, providers
// of changed targets are rebuilt on next use, and runs in flight finish with
// the configuration they started with. The caller validates proj first; a
// configuration that fails to load never reaches Reload (see ReloadFailed).
// A serving daemon (Options.Alerts) also refuses one whose scheduled runs
// or alert sinks need a variable the environment leaves empty, or whose
// sink variables hold something unusable (a webhook "URL" that is not
// one): the old configuration, sinks included, stays in force, as for an
// invalid one. Otherwise the alert sinks, renotify interval, dashboard
// link and heartbeat of proj are in force from the next alert on.
func (d *Daemon) Reload(ctx context.Context, proj *configs.Project) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stoppingLocked() {
		return ErrStopped
	}
	var sinks *alertSetup
	if d.opts.Alerts {
		if err := CheckSecrets(proj, d.opts.Getenv); err != nil {
			return err
		}
		// The new sinks are built before anything changes: one that
		// cannot be built refuses the reload, and the old sinks page it.
		s, err := buildAlerts(proj.Config, d.opts.Getenv, d.log, d.opts.HTTPClient)
		if err != nil {
			return err
		}
		sinks = &s
	}
	old := d.project
	d.project = proj
	for _, t := range proj.Config.Targets {
		for _, o := range old.Config.Targets {
			if o.Name == t.Name && o.Version() != t.Version() || o.Name == t.Name && o.APIKeyEnv != t.APIKeyEnv {
				delete(d.providers, t.Name)
				delete(d.judges, t.Name)
			}
		}
	}
	if d.cron != nil {
		c := cron.New(cron.WithLocation(time.UTC))
		_, entries, err := d.scheduleLocked(ctx, c)
		if err != nil {
			d.project = old
			d.metrics.reloadOK.Set(0)
			return err
		}
		// Not waiting on Stop().Done(): a tick in flight waits for d.mu, which
		// this holds; our jobs only launch goroutines, so nothing is lost.
		d.cron.Stop()
		d.cron, d.entries = c, entries
		c.Start()
		if d.alerting != nil {
			// A pair this reload unscheduled (or whose suite or target
			// it removed) has no run due any more: its missed_run ends.
			scheduled := map[runKey]bool{}
			for k := range entries {
				scheduled[k] = true
			}
			if err := d.resolveUnscheduled(ctx, scheduled); err != nil {
				d.log.Error("resolve missed runs of pairs no longer scheduled", "err", err)
			}
		}
	}
	if sinks != nil && d.alerting != nil {
		d.alerting.apply(*sinks)
	}
	// A new configuration may have fixed what kept pairs from starting (and
	// may have dropped pairs): their next runs say again if not.
	clear(d.startFails)
	d.metrics.reloadOK.Set(1)
	d.metrics.reloadTime.Set(float64(d.opts.Now().Unix()))
	d.metrics.configHash.Set(configHash(proj))
	if err := d.auditReload(ctx, proj); err != nil {
		d.log.Error("audit the reload", "err", err)
	}
	d.noteRecord(proj)
	d.raise(ctx, "", "", alerts.KindConfigReloadFailed, nil, "the configuration reloaded")
	d.log.Info("configuration reloaded", "suites", len(proj.Suites), "targets", len(proj.Config.Targets))
	return nil
}

// ReloadFailed records a configuration that did not load: the old one stays
// in force, and the failure is visible in the log and the metrics.
func (d *Daemon) ReloadFailed(err error) {
	d.metrics.reloadOK.Set(0)
	d.log.Error("configuration reload failed; keeping the configuration in force", "err", err)
	d.raise(d.bgCtx, "", "", alerts.KindConfigReloadFailed, &alerts.Event{
		Kind: alerts.KindConfigReloadFailed, At: d.opts.Now(), Summary: "the configuration in force is unchanged", Error: err.Error(),
	}, "")
}

// configHash folds the suite and target versions into a gauge value.
func configHash(p *configs.Project) float64 {
	h := fnv.New32a()
	for _, t := range p.Config.Targets {
		fmt.Fprint(h, t.Name, t.Version())
	}
	for i, s := range p.Suites {
		fmt.Fprint(h, s.Name, s.Version, p.Config.Suites[i].Schedule)
	}
	return float64(h.Sum32())
}

// auditReload records the configuration now in force and what left it.
// It runs under d.mu, so it reads proj, not d.Project().
func (d *Daemon) auditReload(ctx context.Context, proj *configs.Project) error {
	suites := map[string]string{}
	for _, s := range proj.Suites {
		suites[s.Name] = s.Version
	}
	targets := map[string]string{}
	for _, t := range proj.Config.Targets {
		targets[t.Name] = t.Version()
	}
	payload := map[string]any{"file": proj.Config.File, "suites": suites, "targets": targets}
	if _, err := d.store.AppendAudit(ctx, d.sealer("config reload", governance.ActionConfigReloaded, payload)); err != nil {
		return err
	}
	return d.watchProject(ctx, proj, "config reload")
}
