package daemon

import (
	"cmp"
	"context"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/telemetry"
)

// telemetryShutdown bounds how long Stop sends the spans still queued.
const telemetryShutdown = 5 * time.Second

// newTelemetry builds the OTLP exporter the config names (nil: none). It
// never fails the daemon: telemetry is fail-open, so a problem (headers
// that do not parse, a variable named but unset) is logged and the export
// goes on without the headers or not at all.
func (d *Daemon) newTelemetry(cfg *configs.Config) *telemetry.Exporter {
	o := cfg.Telemetry.OTLP
	if o == nil {
		return nil
	}
	log := d.log.With("component", "telemetry")
	opts := telemetry.Options{Endpoint: o.Endpoint, Logger: log, Client: d.opts.TelemetryClient}
	if o.HeadersEnv != "" {
		v := d.opts.Getenv(o.HeadersEnv)
		h, err := telemetry.ParseHeaders(v)
		switch {
		case v == "":
			log.Warn("telemetry headers variable is not set; exporting without headers", "var", o.HeadersEnv)
		case err != nil:
			log.Warn("telemetry headers do not parse; exporting without headers", "var", o.HeadersEnv, "err", err)
		default:
			opts.Headers = h
		}
	}
	e, err := telemetry.New(opts)
	if err != nil {
		log.Error("telemetry export off", "err", err)
		return nil
	}
	return e
}

// startSpan opens the exported span of ev's run.
func (d *Daemon) startSpan(ev *evaluation) *telemetry.RunSpan {
	return d.telemetry.StartRun(telemetry.Run{
		ID: ev.run.ID, Suite: ev.run.Suite, Target: ev.run.Target, Trigger: ev.run.Trigger,
		SuiteVersion: ev.run.SuiteVersion, PromptVersion: ev.run.PromptVersion, TargetVersion: ev.run.TargetVersion,
		Platform: cmp.Or(ev.target.Provider, configs.ProviderOpenAI), Model: ev.target.Model, Cases: len(ev.suite.Cases), Repeats: ev.suite.Repeats,
		Start: ev.run.StartedAt,
	})
}

// stopTelemetry sends the queued spans, for telemetryShutdown at most.
func (d *Daemon) stopTelemetry(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), telemetryShutdown)
	defer cancel()
	if err := d.telemetry.Shutdown(ctx); err != nil {
		d.log.Warn("telemetry: spans left unsent at stop", "err", err)
	}
}

// FlushTelemetry sends the spans still queued and stops the export, for
// 5 s at most: a one-shot command (`evald run`) calls it before it exits,
// as Stop does for a serving daemon. It never fails the command.
func (d *Daemon) FlushTelemetry(ctx context.Context) error {
	d.stopTelemetry(ctx)
	return nil
}
