package daemon

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/evald/evald/runner"
)

// metrics are registered on the registry the caller injects, so that many
// daemons can live in one process (tests).
type metrics struct {
	runs          *prometheus.CounterVec
	inFlight      prometheus.Gauge
	passRate      *prometheus.GaugeVec
	meanScore     *prometheus.GaugeVec
	latency       *prometheus.HistogramVec
	tokens        *prometheus.CounterVec
	cost          *prometheus.CounterVec
	providerErrs  *prometheus.CounterVec
	skipped       *prometheus.CounterVec
	startFailures *prometheus.CounterVec
	panics        *prometheus.CounterVec
	reloadOK      prometheus.Gauge
	reloadTime    prometheus.Gauge
	configHash    prometheus.Gauge
	schedulerTick prometheus.Histogram
	heartbeats    *prometheus.CounterVec

	dbCheckOK      prometheus.Gauge
	dbCheckTime    prometheus.Gauge
	dbCheckSeconds prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		runs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "evald_runs_total", Help: "Finished runs by suite, target and status.",
		}, []string{"suite", "target", "status"}),
		inFlight: f.NewGauge(prometheus.GaugeOpts{
			Name: "evald_runs_in_flight", Help: "Runs executing now.",
		}),
		passRate: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "evald_last_pass_rate", Help: "Pass rate of the last completed run.",
		}, []string{"suite", "target"}),
		meanScore: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "evald_last_mean_score", Help: "Mean score of the last completed run.",
		}, []string{"suite", "target"}),
		latency: f.NewHistogramVec(prometheus.HistogramOpts{
			Name: "evald_sample_latency_seconds", Help: "Latency of answered requests.",
			Buckets: prometheus.ExponentialBuckets(0.025, 2, 12),
		}, []string{"target"}),
		tokens: f.NewCounterVec(prometheus.CounterOpts{
			Name: "evald_tokens_total", Help: "Tokens used, by target and kind (prompt, completion).",
		}, []string{"target", "kind"}),
		cost: f.NewCounterVec(prometheus.CounterOpts{
			Name: "evald_cost_usd_total", Help: "Estimated spend in USD from token usage and the target's price.",
		}, []string{"suite", "target"}),
		providerErrs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "evald_provider_errors_total", Help: "Samples that got no usable answer, by error class.",
		}, []string{"target", "class"}),
		skipped: f.NewCounterVec(prometheus.CounterOpts{
			Name: "evald_skipped_runs_total", Help: "Scheduled runs not started, by reason (still_running, budget).",
		}, []string{"suite", "target", "reason"}),
		startFailures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "evald_run_start_failures_total",
			Help: "Scheduled or triggered runs that failed to start or to be recorded, by reason (secret, config, other).",
		}, []string{"suite", "target", "reason"}),
		panics: f.NewCounterVec(prometheus.CounterOpts{
			Name: "evald_run_panics_total", Help: "Runs ended by a recovered panic (stored as errored; the daemon goes on).",
		}, []string{"suite", "target"}),
		reloadOK: f.NewGauge(prometheus.GaugeOpts{
			Name: "evald_config_last_reload_successful", Help: "1 if the last configuration load succeeded.",
		}),
		reloadTime: f.NewGauge(prometheus.GaugeOpts{
			Name: "evald_config_last_reload_success_timestamp_seconds", Help: "Time of the last successful configuration load.",
		}),
		configHash: f.NewGauge(prometheus.GaugeOpts{
			Name: "evald_config_hash", Help: "A number derived from the configuration in force, to spot differing replicas.",
		}),
		schedulerTick: f.NewHistogram(prometheus.HistogramOpts{
			Name: "evald_scheduler_tick_seconds", Help: "Time the scheduler spends deciding whether to start a run.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 4, 10),
		}),
		heartbeats: f.NewCounterVec(prometheus.CounterOpts{
			Name: "evald_heartbeats_total",
			Help: "Heartbeat pings by result: sent, failed (the switch did not answer 2xx), withheld (the scheduler was unhealthy).",
		}, []string{"result"}),
		dbCheckOK: f.NewGauge(prometheus.GaugeOpts{
			Name: "evald_db_quick_check_ok", Help: "0 when the last background quick_check found the database damaged, else 1 (1 before the first check too).",
		}),
		dbCheckTime: f.NewGauge(prometheus.GaugeOpts{
			Name: "evald_db_quick_check_timestamp_seconds", Help: "When the last background quick_check of the database finished (0: none yet).",
		}),
		dbCheckSeconds: f.NewGauge(prometheus.GaugeOpts{
			Name: "evald_db_quick_check_duration_seconds", Help: "How long the last background quick_check of the database took.",
		}),
	}
}

func (m *metrics) observeSample(target string, s runner.Sample) {
	if s.ErrClass != "" && !s.Valid() {
		m.providerErrs.WithLabelValues(target, s.ErrClass).Inc()
		return
	}
	m.latency.WithLabelValues(target).Observe(s.Latency.Seconds())
	add(m.tokens.WithLabelValues(target, "prompt"), float64(s.PromptTokens))
	add(m.tokens.WithLabelValues(target, "completion"), float64(s.CompletionTokens))
}

// add adds v to a counter when it is a positive number. The runner refuses
// negative counts at the boundary; this keeps a counter from panicking
// ("counter cannot decrease") whatever reaches it.
func add(c prometheus.Counter, v float64) {
	if v > 0 && !math.IsInf(v, 0) {
		c.Add(v)
	}
}
