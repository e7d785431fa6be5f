package daemon

import (
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/configs"
)

// alerting turns run outcomes into incidents and queued deliveries, and
// owns the worker that sends them. A reload swaps its sinks and settings
// (apply); the worker and its outbox stay.
type alerting struct {
	worker *alerts.Worker

	mu sync.Mutex // guards the fields below
	// planner plans deliveries to the sinks in force.
	planner  *alerts.Planner
	renotify time.Duration
	public   string
	// heartbeat pings the dead-man's switch every beatEvery (nil: none).
	heartbeat *alerts.Heartbeat
	beatEvery time.Duration
}

// alertSetup is what the alerts section of a config builds.
type alertSetup struct {
	sinks     []alerts.Sink
	renotify  time.Duration
	public    string
	heartbeat *alerts.Heartbeat
	beatEvery time.Duration
}

// newAlerting builds the sinks the config names (see buildAlerts) and the
// worker that sends to them.
func newAlerting(cfg *configs.Config, getenv func(string) string, log *slog.Logger, reg prometheus.Registerer, hc *http.Client, out alerts.Outbox) (*alerting, error) {
	s, err := buildAlerts(cfg, getenv, log, hc)
	if err != nil {
		return nil, err
	}
	a := &alerting{worker: alerts.NewWorker(alerts.WorkerOptions{Outbox: out, Sinks: s.sinks, Logger: log.With("component", "alerts"), Metrics: alerts.NewMetrics(reg)})}
	a.apply(s)
	return a, nil
}

// apply puts s in force: deliveries planned from now on go to its sinks,
// and the worker sends through them (a pending delivery to a sink s drops
// waits, in the outbox, for a config that has it again).
func (a *alerting) apply(s alertSetup) {
	a.mu.Lock()
	a.planner = &alerts.Planner{Sinks: s.sinks}
	a.renotify, a.public = s.renotify, s.public
	a.heartbeat, a.beatEvery = s.heartbeat, s.beatEvery
	a.mu.Unlock()
	a.worker.SetSinks(s.sinks)
}

// plan returns the planner and renotify interval in force.
func (a *alerting) plan() (*alerts.Planner, time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.planner, a.renotify
}

// beat returns the heartbeat and its interval.
func (a *alerting) beat() (*alerts.Heartbeat, time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.heartbeat, a.beatEvery
}

func (a *alerting) runURL(id int64) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return alerts.RunURL(a.public, id)
}

// buildAlerts builds the sinks the config names; the log sink is always
// on. A sink whose variable is empty, or holds a URL that is not one, is a
// configuration error naming the field (New and Reload have reported the
// empty ones already: see CheckSecrets), never the value. getenv nil plans
// only: the sinks are named, never called, and no secret is read.
func buildAlerts(cfg *configs.Config, getenv func(string) string, log *slog.Logger, hc *http.Client) (alertSetup, error) {
	sinks := []alerts.Sink{&alerts.LogSink{Logger: log.With("component", "alerts")}}
	ref := func(env, what string) configs.EnvRef {
		r, ok := cfg.EnvRef("alerts." + what)
		if !ok {
			r = configs.EnvRef{Field: "alerts." + what, Var: env}
		}
		return r
	}
	secret := func(env, what string) (alerts.Secret, error) {
		if getenv == nil {
			return "", nil
		}
		v := getenv(env)
		if v == "" {
			return "", cfg.Unset(ref(env, what), "")
		}
		return alerts.Secret(v), nil
	}
	secretURL := func(env, what string) (alerts.Secret, error) {
		v, err := secret(env, what)
		if err != nil || getenv == nil {
			return v, err
		}
		if u, perr := url.Parse(v.Reveal()); perr != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
			return "", cfg.Invalid(ref(env, what), "must hold an http:// or https:// URL")
		}
		return v, nil
	}
	if s := cfg.Alerts.Slack; s != nil {
		switch {
		case s.WebhookURLEnv != "":
			u, err := secretURL(s.WebhookURLEnv, "slack.webhook_url_env")
			if err != nil {
				return alertSetup{}, err
			}
			sinks = append(sinks, &alerts.SlackWebhook{URL: u, Client: hc})
		case s.TokenEnv != "":
			tok, err := secret(s.TokenEnv, "slack.token_env")
			if err != nil {
				return alertSetup{}, err
			}
			sinks = append(sinks, &alerts.SlackBot{Token: tok, Channel: s.Channel, Client: hc})
		}
	}
	if w := cfg.Alerts.Webhook; w != nil && w.URLEnv != "" {
		u, err := secretURL(w.URLEnv, "webhook.url_env")
		if err != nil {
			return alertSetup{}, err
		}
		var sig alerts.Secret
		if w.SecretEnv != "" {
			if sig, err = secret(w.SecretEnv, "webhook.secret_env"); err != nil {
				return alertSetup{}, err
			}
		}
		sinks = append(sinks, &alerts.Webhook{URL: u, Secret: sig, Client: hc})
	}
	if p := cfg.Alerts.PagerDuty; p != nil && p.RoutingKeyEnv != "" {
		key, err := secret(p.RoutingKeyEnv, "pagerduty.routing_key_env")
		if err != nil {
			return alertSetup{}, err
		}
		u := p.URL
		if u == "" {
			u = configs.DefaultPagerDutyURL
		}
		sev := p.SeverityMap
		if sev == nil {
			sev = configs.DefaultPagerDutySeverities
		}
		sinks = append(sinks, &alerts.PagerDuty{RoutingKey: key, URL: u, SeverityMap: sev, DashboardURL: cfg.Server.PublicURL, Client: hc})
	}
	s := alertSetup{sinks: sinks, renotify: cfg.Alerts.Renotify, public: cfg.Server.PublicURL, beatEvery: configs.DefaultHeartbeatEvery}
	if h := cfg.Alerts.Heartbeat; h != nil && h.URLEnv != "" {
		u, err := secretURL(h.URLEnv, "heartbeat.url_env")
		if err != nil {
			return alertSetup{}, err
		}
		if getenv != nil {
			s.heartbeat = &alerts.Heartbeat{URL: u, Client: hc}
		}
		if h.Every > 0 {
			s.beatEvery = h.Every
		}
	}
	if s.renotify <= 0 {
		s.renotify = configs.DefaultRenotify
	}
	return s, nil
}
