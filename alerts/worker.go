package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/evald/evald/internal/backoff"
)

// Outbox is the storage the delivery worker needs. The daemon implements
// it over the store; deliveries are inserted (with the incident) in the
// transaction that records the run's verdict, so an alert exists exactly
// when its verdict does.
//
// A delivery is pending until MarkSent or MarkFailed; the worker sends only
// pending deliveries and marks one sent only after its sink succeeded, so
// none is sent twice unless the process dies between the sink's success
// and MarkSent (see docs/alerts.md).
type Outbox interface {
	// Pending returns every pending delivery, due or not, in the order they
	// were enqueued, with ThreadChannel and ThreadTS filled from the
	// delivery's incident.
	Pending(ctx context.Context) ([]Delivery, error)
	// MarkSent marks a pending delivery sent with its receipt. When
	// r.StartsThread is set and the incident has no thread yet, it records
	// r.Channel and r.TS as the incident's thread. A delivery that is not
	// pending is left alone.
	MarkSent(ctx context.Context, id string, r Receipt) error
	// MarkAttempt records a failed attempt: Attempts+1, the next attempt
	// not before nextAt, and the redacted error text.
	MarkAttempt(ctx context.Context, id string, nextAt time.Time, errText string) error
	// MarkFailed gives up on a delivery after a permanent error; it stays
	// visible (API, dashboard) with its error text.
	MarkFailed(ctx context.Context, id string, errText string) error
}

// Clock is the worker's time: Now and a timer channel.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Backoff returns the wait before retry number attempt (1 for the first
// retry).
type Backoff func(attempt int) time.Duration

// ExponentialBackoff doubles from base up to limit, with "equal jitter":
// the wait is uniformly drawn from [d/2, d]. rnd returns a number in
// [0, 1) (nil: math/rand/v2).
func ExponentialBackoff(base, limit time.Duration, rnd func() float64) Backoff {
	return func(attempt int) time.Duration { return backoff.Delay(base, limit, attempt-1, rnd) }
}

// DefaultBackoff retries after 5 s, 10 s, 20 s, ... up to 5 min, jittered.
var DefaultBackoff = ExponentialBackoff(5*time.Second, 5*time.Minute, nil)

// Metrics of the delivery worker.
type Metrics struct {
	deliveries *prometheus.CounterVec
	seconds    *prometheus.HistogramVec
}

// Delivery results counted in evald_alert_deliveries_total.
const (
	ResultSent   = "sent"
	ResultRetry  = "retry"
	ResultFailed = "failed"
)

// NewMetrics registers the worker's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		deliveries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "evald_alert_deliveries_total",
			Help: "Alert delivery attempts by sink and result (sent, retry, failed).",
		}, []string{"sink", "result"}),
		seconds: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "evald_alert_delivery_seconds",
			Help:    "Duration of alert delivery attempts by sink.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}, []string{"sink"}),
	}
}

func (m *Metrics) observe(sink, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(sink, result).Inc()
	m.seconds.WithLabelValues(sink).Observe(d.Seconds())
}

// WorkerOptions configure a Worker.
type WorkerOptions struct {
	Outbox  Outbox
	Sinks   []Sink
	Clock   Clock        // nil: the system clock
	Backoff Backoff      // nil: DefaultBackoff
	Logger  *slog.Logger // nil: discard
	Metrics *Metrics     // nil: none
	// SendTimeout bounds one attempt (default 30 s).
	SendTimeout time.Duration
	// Poll is the longest Run waits without a Kick (default 30 s): it picks
	// up deliveries written by another process (`evald run`) and retries a
	// failing outbox.
	Poll time.Duration
	// GiveUpAfter ends the retries of a delivery this long after it was
	// enqueued (default 72 h): a longer outage is not expected, and a
	// delivery that some receiver rejects with a 5xx forever must not be
	// retried forever.
	GiveUpAfter time.Duration
}

// Worker sends the outbox's pending deliveries through their sinks. Make
// it with NewWorker, run it in one goroutine per process, and Kick it
// after writing deliveries.
type Worker struct {
	WorkerOptions

	kick chan struct{}

	// sinksMu guards WorkerOptions.Sinks once the worker runs (SetSinks).
	sinksMu sync.Mutex

	mu sync.Mutex // one drain at a time; guards the fields below
	// unrecorded holds sends that succeeded but whose MarkSent failed: they
	// are recorded again and never re-sent by this process.
	unrecorded map[string]Receipt
	// pausedUntil holds back a sink that asked to wait (a 429's
	// Retry-After), so that its other deliveries wait too.
	pausedUntil map[string]time.Time
	// logged is the last failure text logged per sink (and for the outbox):
	// a repeated failure is logged only when its text changes.
	logged map[string]string
}

// NewWorker returns a worker with o's unset options at their defaults.
func NewWorker(o WorkerOptions) *Worker {
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 30 * time.Second
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = 72 * time.Hour
	}
	return &Worker{
		WorkerOptions: o,
		kick:          make(chan struct{}, 1),
		unrecorded:    map[string]Receipt{},
		pausedUntil:   map[string]time.Time{},
		logged:        map[string]string{},
	}
}

// SetSinks replaces the sinks the worker sends through (a reload): the
// next drain uses them, a drain in progress finishes with the old ones. A
// pending delivery to a sink no longer configured waits in the outbox.
func (w *Worker) SetSinks(sinks []Sink) {
	w.sinksMu.Lock()
	defer w.sinksMu.Unlock()
	w.Sinks = sinks
}

// sinksByName returns the sinks in force by name.
func (w *Worker) sinksByName() map[string]Sink {
	w.sinksMu.Lock()
	defer w.sinksMu.Unlock()
	m := make(map[string]Sink, len(w.Sinks))
	for _, s := range w.Sinks {
		m[s.Name()] = s
	}
	return m
}

// Kick wakes Run to drain the outbox now. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx ends: at once, then whenever it is
// kicked, a retry falls due or Poll elapses.
func (w *Worker) Run(ctx context.Context) {
	for {
		next, err := w.Drain(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.mu.Lock()
			w.logFailure("outbox", slog.LevelError, "alert outbox unavailable; retrying", err.Error())
			w.mu.Unlock()
		}
		wait := w.Poll
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(w.Clock.Now()), 0))
		}
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-w.Clock.After(wait):
		}
	}
}

// Flush drains the outbox as a stopping process does: what is due goes
// out, and Flush waits for retries that fall due within grace, returning
// when nothing is left to send by then, grace has passed or ctx ends. What
// is left stays in the outbox for the next start.
func (w *Worker) Flush(ctx context.Context, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	deadline := w.Clock.Now().Add(grace)
	for {
		next, err := w.Drain(ctx)
		if err != nil || ctx.Err() != nil || next.IsZero() || next.After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.Clock.After(max(next.Sub(w.Clock.Now()), 0)):
		}
	}
}

// Drain sends every due delivery once and returns when the next one falls
// due (zero: none pending). Deliveries of one incident to one sink go in
// order: while one waits for a retry, the later ones wait behind it, so an
// update never overtakes the message that starts its thread.
func (w *Worker) Drain(ctx context.Context) (next time.Time, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, r := range w.unrecorded {
		if err := w.Outbox.MarkSent(ctx, id, r); err != nil {
			return w.Clock.Now().Add(w.Backoff(1)), fmt.Errorf("record sent delivery %s: %w", id, err)
		}
		delete(w.unrecorded, id)
	}
	list, err := w.Outbox.Pending(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("read pending deliveries: %w", err)
	}
	w.logged["outbox"] = ""
	sinks := w.sinksByName()
	earliest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	held := map[string]bool{}       // incident+sink with an earlier delivery still pending
	threads := map[string]Receipt{} // threads started during this drain
	for _, d := range list {
		if ctx.Err() != nil {
			return next, nil
		}
		key := d.IncidentID + "\x00" + d.Sink
		if _, done := w.unrecorded[d.ID]; done || held[key] {
			continue
		}
		sink, ok := sinks[d.Sink]
		if !ok {
			held[key] = true
			w.logFailure("sink/"+d.Sink, slog.LevelWarn, "alert deliveries wait for a sink that is not configured", "sink "+d.Sink+" not configured")
			continue
		}
		now := w.Clock.Now()
		due := d.NextAt
		if p := w.pausedUntil[d.Sink]; p.After(due) {
			due = p
		}
		if due.After(now) {
			held[key] = true
			earliest(due)
			continue
		}
		if t, ok := threads[d.IncidentID]; ok && d.ThreadTS == "" && t.Sink == d.Sink {
			d.ThreadChannel, d.ThreadTS = t.Channel, t.TS
		}
		r, retryAt, sent := w.send(ctx, sink, d, now)
		switch {
		case sent && r.StartsThread && r.TS != "":
			threads[d.IncidentID] = r
		case !sent && !retryAt.IsZero():
			held[key] = true
			earliest(retryAt)
		}
	}
	return next, nil
}

// send makes one attempt and records its outcome. It returns the receipt
// and whether the delivery was sent, or when to retry (zero: failed for
// good, or shutting down).
func (w *Worker) send(ctx context.Context, sink Sink, d Delivery, now time.Time) (Receipt, time.Time, bool) {
	log := w.Logger.With("sink", d.Sink, "delivery_id", d.ID, "incident_id", d.IncidentID, "action", string(d.Action))
	sctx, cancel := context.WithTimeout(ctx, w.SendTimeout)
	r, err := sink.Send(sctx, d)
	cancel()
	elapsed := w.Clock.Now().Sub(now)
	if err == nil {
		w.Metrics.observe(d.Sink, ResultSent, elapsed)
		delete(w.pausedUntil, d.Sink)
		r.Sink = d.Sink
		if r.At.IsZero() {
			r.At = w.Clock.Now().UTC()
		}
		if err := w.Outbox.MarkSent(ctx, d.ID, r); err != nil {
			w.unrecorded[d.ID] = r
			log.Error("alert delivered but not recorded; will record again, not resend", "err", err)
			return r, time.Time{}, true
		}
		if w.logged["sink/"+d.Sink] != "" {
			w.logged["sink/"+d.Sink] = ""
			log.Info("alert delivery recovered", "attempts", d.Attempts+1)
		} else {
			log.Debug("alert delivered", "attempts", d.Attempts+1)
		}
		return r, time.Time{}, true
	}
	if ctx.Err() != nil {
		return r, time.Time{}, false // shutting down: the attempt does not count
	}
	text := err.Error()
	if !Permanent(err) && !d.CreatedAt.IsZero() && now.Sub(d.CreatedAt) >= w.GiveUpAfter {
		text = fmt.Sprintf("gave up after %d attempts over %v: %s", d.Attempts+1, w.GiveUpAfter, text)
		err = &SendError{Sink: d.Sink, Permanent: true, Reason: "gave up", Err: errors.New(text)}
	}
	if Permanent(err) {
		w.Metrics.observe(d.Sink, ResultFailed, elapsed)
		if merr := w.Outbox.MarkFailed(ctx, d.ID, text); merr != nil {
			log.Error("alert delivery failed permanently and could not be recorded", "err", errors.Join(err, merr))
			return r, w.Clock.Now().Add(w.Backoff(1)), false
		}
		w.logFailure("sink/"+d.Sink, slog.LevelError, "alert delivery failed permanently; not retrying", text, "delivery_id", d.ID, "incident_id", d.IncidentID)
		return r, time.Time{}, false
	}
	w.Metrics.observe(d.Sink, ResultRetry, elapsed)
	wait := w.Backoff(d.Attempts + 1)
	if ra := RetryAfter(err); ra > wait {
		wait = ra
	}
	retryAt := w.Clock.Now().Add(wait)
	if RetryAfter(err) > 0 {
		w.pausedUntil[d.Sink] = retryAt
	}
	if merr := w.Outbox.MarkAttempt(ctx, d.ID, retryAt, text); merr != nil {
		log.Error("could not record a failed alert delivery attempt", "err", merr)
	}
	w.logFailure("sink/"+d.Sink, slog.LevelWarn, "alert delivery failed; retrying", text, "retry_in", wait.String(), "attempts", d.Attempts+1)
	return r, retryAt, false
}

// logFailure logs a failure unless the same text was the last one logged
// under key.
func (w *Worker) logFailure(key string, level slog.Level, msg, text string, args ...any) {
	if w.logged[key] == text {
		return
	}
	w.logged[key] = text
	w.Logger.Log(context.Background(), level, msg, append(args, "err", text)...)
}
