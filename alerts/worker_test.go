package alerts

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/evald/evald/internal/testfiles"
)

// harness wires a worker to an in-memory outbox and a fake clock.
type harness struct {
	t       *testing.T
	clock   *fakeClock
	outbox  *memOutbox
	planner *Planner
	logs    *testfiles.Logs
	reg     *prometheus.Registry
	metrics *Metrics
	sinks   []Sink
}

func newHarness(t *testing.T, sinks ...Sink) *harness {
	t.Helper()
	reg := prometheus.NewRegistry()
	return &harness{
		t: t, clock: newFakeClock(t0), outbox: newMemOutbox(), planner: &Planner{Sinks: sinks, NewID: seqIDs()},
		logs: &testfiles.Logs{}, reg: reg, metrics: NewMetrics(reg), sinks: sinks,
	}
}

// worker builds a new worker over the harness's outbox: a fresh process.
func (h *harness) worker() *Worker {
	return NewWorker(WorkerOptions{
		Outbox: h.outbox, Sinks: h.sinks, Clock: h.clock, Logger: h.logs.Logger(), Metrics: h.metrics,
		Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Second },
	})
}

// raise runs the daemon's side for one kind at the clock's now: Decide on
// the stored incident, Plan, and write the outcome.
func (h *harness) raise(ev *Event, silenced bool) Decision {
	h.t.Helper()
	var key Key
	if ev != nil {
		key = ev.Key()
	} else {
		key = Key{Suite: "faq", Target: "prod", Kind: KindRegression}
	}
	open := h.outbox.Open(key)
	now := h.clock.Now()
	d := Decide(open, ev, silenced, now, 6*time.Hour)
	out, err := h.planner.Plan(open, ev, d, now)
	if err != nil {
		h.t.Fatalf("Plan() error = %v", err)
	}
	h.outbox.Write(out)
	return d
}

func (h *harness) drain(w *Worker) time.Time {
	h.t.Helper()
	next, err := w.Drain(context.Background())
	if err != nil {
		h.t.Fatalf("Drain() error = %v", err)
	}
	return next
}

func (h *harness) count(sink, result string) float64 {
	return testutil.ToFloat64(h.metrics.deliveries.WithLabelValues(sink, result))
}

func TestWorkerHonoursRetryAfter(t *testing.T) {
	api := newSlackAPI(t, status(http.StatusTooManyRequests, "7"))
	h := newHarness(t, api.bot())
	ev := sampleEvent()
	h.raise(&ev, false)
	w := h.worker()

	next := h.drain(w)
	if got, want := next, t0.Add(7*time.Second); !got.Equal(want) {
		t.Errorf("Drain() next = %v, want %v (Retry-After 7 s beats the 1 s backoff)", got, want)
	}
	row := h.outbox.row("id-2")
	if got, want := row.d.Attempts, 1; got != want {
		t.Errorf("Attempts = %d, want %d", got, want)
	}
	if !strings.Contains(row.d.LastError, "rate limited") {
		t.Errorf("LastError = %q, want it to say rate limited", row.d.LastError)
	}

	h.clock.Advance(6 * time.Second)
	h.drain(w)
	if got, want := api.requests(), 1; got != want {
		t.Errorf("requests before Retry-After elapsed = %d, want %d", got, want)
	}
	h.clock.Advance(time.Second)
	if next := h.drain(w); !next.IsZero() {
		t.Errorf("Drain() next = %v, want zero (nothing pending)", next)
	}
	if got, want := len(api.delivered()), 1; got != want {
		t.Fatalf("delivered = %d, want %d", got, want)
	}
	if diff := cmp.Diff([]string{"slack:open:sent"}, h.outbox.statuses()); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
	if got, want := h.count("slack", ResultRetry), 1.0; got != want {
		t.Errorf("retry count = %v, want %v", got, want)
	}
	if got, want := h.count("slack", ResultSent), 1.0; got != want {
		t.Errorf("sent count = %v, want %v", got, want)
	}
	AssertNoSecret(t, botToken, h.logs.String(), row.d.LastError)
}

func TestWorkerOutageThenDeliveredOnce(t *testing.T) {
	rc := newReceiver(t, status(500, ""), status(502, ""), status(500, ""))
	sink := &Webhook{URL: Secret(rc.url), Secret: hmacSecret}
	h := newHarness(t, sink)
	ev := sampleEvent()
	h.raise(&ev, false)
	w := h.worker()

	var waits []time.Duration
	for range 10 {
		before := h.clock.Now()
		next := h.drain(w)
		if next.IsZero() {
			break
		}
		waits = append(waits, next.Sub(before))
		h.clock.Set(next)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, waits); diff != "" {
		t.Errorf("retry waits (-want +got):\n%s", diff)
	}
	// Nothing more goes out, however long we wait.
	h.clock.Advance(24 * time.Hour)
	h.drain(w)
	h.drain(h.worker())

	reqs := rc.requests()
	if got, want := len(reqs), 4; got != want {
		t.Fatalf("requests = %d, want %d (3 failures, 1 success)", got, want)
	}
	for i, r := range reqs {
		if got, want := r.header.Get(HeaderDelivery), "id-2"; got != want {
			t.Errorf("request %d %s = %q, want %q (one idempotency key)", i, HeaderDelivery, got, want)
		}
	}
	if got, want := h.count("webhook", ResultRetry), 3.0; got != want {
		t.Errorf("retry count = %v, want %v", got, want)
	}
	if got, want := h.count("webhook", ResultSent), 1.0; got != want {
		t.Errorf("sent count = %v, want %v", got, want)
	}
	logs := h.logs.String()
	// 500, 502, 500: the text changes twice, so three lines, then one recovery.
	if got, want := strings.Count(logs, "alert delivery failed; retrying"), 3; got != want {
		t.Errorf("retry log lines = %d, want %d:\n%s", got, want, logs)
	}
	if got, want := strings.Count(logs, "alert delivery recovered"), 1; got != want {
		t.Errorf("recovery log lines = %d, want %d", got, want)
	}
	AssertNoSecret(t, webhookSecret, logs)
	AssertNoSecret(t, hmacSecret, logs)
}

func TestWorkerRepeatedFailureLoggedOnce(t *testing.T) {
	rc := newReceiver(t, status(503, ""), status(503, ""), status(503, ""))
	h := newHarness(t, &Webhook{URL: Secret(rc.url)})
	ev := sampleEvent()
	h.raise(&ev, false)
	w := h.worker()
	for range 3 {
		h.clock.Set(h.drain(w))
	}
	if got, want := strings.Count(h.logs.String(), "alert delivery failed; retrying"), 1; got != want {
		t.Errorf("log lines for 3 identical failures = %d, want %d:\n%s", got, want, h.logs.String())
	}
}

func TestWorkerPermanentFailureStops(t *testing.T) {
	for _, tt := range []struct {
		name   string
		sink   func(t *testing.T) (Sink, func() int, []string)
		reason string
	}{
		{name: "bot invalid_auth", reason: "invalid_auth", sink: func(t *testing.T) (Sink, func() int, []string) {
			api := newSlackAPI(t, slackError("invalid_auth"), slackError("invalid_auth"))
			return api.bot(), api.requests, []string{botToken}
		}},
		{name: "bot channel_not_found", reason: "channel_not_found", sink: func(t *testing.T) (Sink, func() int, []string) {
			api := newSlackAPI(t, slackError("channel_not_found"), slackError("channel_not_found"))
			return api.bot(), api.requests, []string{botToken}
		}},
		{name: "slack webhook 404", reason: "http 404", sink: func(t *testing.T) (Sink, func() int, []string) {
			hook := newSlackHook(t, slackText(404, "no_service"), slackText(404, "no_service"))
			return &SlackWebhook{URL: Secret(hook.url)}, func() int { return len(hook.requests()) }, []string{hook.url, hookPathSecret}
		}},
		{name: "webhook 404", reason: "http 404", sink: func(t *testing.T) (Sink, func() int, []string) {
			rc := newReceiver(t, status(404, ""), status(404, ""))
			return &Webhook{URL: Secret(rc.url), Secret: hmacSecret}, func() int { return len(rc.requests()) }, []string{rc.url, webhookSecret, hmacSecret}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sink, requests, secrets := tt.sink(t)
			h := newHarness(t, sink)
			ev, th := sampleEvent(), thresholdEvent()
			h.raise(&ev, false)
			h.raise(&th, false)
			w := h.worker()
			if next := h.drain(w); !next.IsZero() {
				t.Errorf("Drain() next = %v, want zero: nothing to retry", next)
			}
			h.clock.Advance(time.Hour)
			h.drain(w)
			h.drain(h.worker())
			if got, want := requests(), 2; got != want {
				t.Errorf("requests = %d, want %d (one per delivery, no retry)", got, want)
			}
			if diff := cmp.Diff([]string{sink.Name() + ":open:failed", sink.Name() + ":open:failed"}, h.outbox.statuses()); diff != "" {
				t.Errorf("outbox (-want +got):\n%s", diff)
			}
			row := h.outbox.row("id-2")
			if !strings.Contains(row.d.LastError, tt.reason) {
				t.Errorf("LastError = %q, want it to name %q", row.d.LastError, tt.reason)
			}
			logs := h.logs.String()
			if got, want := strings.Count(logs, "failed permanently"), 1; got != want {
				t.Errorf("permanent failure log lines = %d, want %d (same text twice):\n%s", got, want, logs)
			}
			if got, want := h.count(sink.Name(), ResultFailed), 2.0; got != want {
				t.Errorf("failed count = %v, want %v", got, want)
			}
			for _, s := range secrets {
				AssertNoSecret(t, s, logs, row.d.LastError)
			}
		})
	}
}

// TestWorkerThreading follows one incident through the daemon's calls:
// the opening message starts a thread, the update and the resolution go
// into it, renotify and resolution are also broadcast to the channel.
func TestWorkerThreading(t *testing.T) {
	api := newSlackAPI(t)
	h := newHarness(t, api.bot(), &LogSink{Logger: (&testfiles.Logs{}).Logger()})
	w := h.worker()
	steps := []struct {
		at   time.Duration
		ev   func() *Event
		want Action
	}{
		{0, func() *Event { e := sampleEvent(); return &e }, ActionOpen},
		{30 * time.Minute, func() *Event { e := identityEvent(); e.RunID = 44; return &e }, ActionUpdate},
		{time.Hour, func() *Event { e := identityEvent(); e.RunID = 45; return &e }, ActionNone},
		{6*time.Hour + time.Minute, func() *Event { e := identityEvent(); e.RunID = 57; return &e }, ActionRenotify},
		{7 * time.Hour, func() *Event { return nil }, ActionResolve},
	}
	for _, s := range steps {
		h.clock.Set(t0.Add(s.at))
		if d := h.raise(s.ev(), false); d.Action != s.want {
			t.Fatalf("at +%v Decide() = %+v, want %s", s.at, d, s.want)
		}
		h.drain(w)
	}
	posts := api.delivered()
	if got, want := len(posts), 4; got != want {
		t.Fatalf("posts = %d, want %d", got, want)
	}
	root := posts[0].ts
	type threadInfo struct{ Channel, Thread, Broadcast string }
	var got []threadInfo
	for _, p := range posts {
		got = append(got, threadInfo{p.form.Get("channel"), p.form.Get("thread_ts"), p.form.Get("reply_broadcast")})
	}
	want := []threadInfo{
		{"#llm-alerts", "", ""},
		{"C0ALERTS", root, ""},
		{"C0ALERTS", root, "true"},
		{"C0ALERTS", root, "true"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("threading (-want +got):\n%s", diff)
	}
	if !strings.Contains(posts[3].form.Get("text"), "Resolved") {
		t.Errorf("last post text = %q, want the resolution", posts[3].form.Get("text"))
	}
	if inc := h.outbox.Open(Key{Suite: "faq", Target: "prod", Kind: KindRegression}); inc != nil {
		t.Errorf("incident still open after the resolution: %+v", inc)
	}
}

// TestWorkerKeepsIncidentOrder: an update never overtakes the opening
// message that starts its thread, even when the opening is rate limited.
func TestWorkerKeepsIncidentOrder(t *testing.T) {
	api := newSlackAPI(t, status(http.StatusTooManyRequests, "10"))
	h := newHarness(t, api.bot())
	ev := sampleEvent()
	h.raise(&ev, false)
	upd := identityEvent()
	if d := h.raise(&upd, false); d.Action != ActionUpdate {
		t.Fatalf("second Decide() = %+v, want update", d)
	}
	w := h.worker()
	h.drain(w)
	if got, want := api.requests(), 1; got != want {
		t.Fatalf("requests while the opening waits = %d, want %d (the update waits behind it)", got, want)
	}
	h.clock.Advance(10 * time.Second)
	h.drain(w)
	posts := api.delivered()
	if got, want := len(posts), 2; got != want {
		t.Fatalf("delivered = %d, want %d", got, want)
	}
	if got, want := posts[1].form.Get("thread_ts"), posts[0].ts; got != want {
		t.Errorf("update thread_ts = %q, want the opening's ts %q", got, want)
	}
}

// TestWorkerRestart: deliveries pending when the process stops are sent by
// the next process, exactly once, in order and threaded.
func TestWorkerRestart(t *testing.T) {
	api := newSlackAPI(t, status(500, ""))
	h := newHarness(t, api.bot())
	ev := sampleEvent()
	h.raise(&ev, false)
	upd := identityEvent()
	h.raise(&upd, false)

	h.drain(h.worker()) // first process: Slack is down; then it stops
	if got, want := len(api.delivered()), 0; got != want {
		t.Fatalf("delivered before restart = %d, want %d", got, want)
	}

	h.clock.Advance(time.Minute)
	h.drain(h.worker()) // second process
	h.clock.Advance(time.Hour)
	h.drain(h.worker()) // third process
	posts := api.delivered()
	if got, want := len(posts), 2; got != want {
		t.Fatalf("delivered = %d, want %d (each delivery exactly once)", got, want)
	}
	if got, want := posts[1].form.Get("thread_ts"), posts[0].ts; got != want {
		t.Errorf("update thread_ts after restart = %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"slack:open:sent", "slack:update:sent"}, h.outbox.statuses()); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}

// TestWorkerRecordsWithoutResending: when the store fails to record a
// successful send, the worker records it later and never sends it again.
func TestWorkerRecordsWithoutResending(t *testing.T) {
	api := newSlackAPI(t)
	h := newHarness(t, api.bot())
	ev := sampleEvent()
	h.raise(&ev, false)
	h.outbox.failMarkSent = 1
	w := h.worker()
	h.drain(w)
	if diff := cmp.Diff([]string{"slack:open:pending"}, h.outbox.statuses()); diff != "" {
		t.Errorf("outbox after a failed MarkSent (-want +got):\n%s", diff)
	}
	h.drain(w)
	h.drain(w)
	if got, want := api.requests(), 1; got != want {
		t.Errorf("requests = %d, want %d", got, want)
	}
	if diff := cmp.Diff([]string{"slack:open:sent"}, h.outbox.statuses()); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}

// TestWorkerCrashWindow documents the at-least-once window: a process that
// dies after the sink succeeded and before MarkSent leaves the delivery
// pending, and the next process sends it again, with the same delivery id.
func TestWorkerCrashWindow(t *testing.T) {
	rc := newReceiver(t)
	h := newHarness(t, &Webhook{URL: Secret(rc.url)})
	ev := sampleEvent()
	h.raise(&ev, false)
	h.outbox.failMarkSent = 1
	h.drain(h.worker()) // sent, not recorded, then the process dies
	h.drain(h.worker())
	reqs := rc.requests()
	if got, want := len(reqs), 2; got != want {
		t.Fatalf("requests = %d, want %d (the documented duplicate)", got, want)
	}
	if a, b := reqs[0].header.Get(HeaderDelivery), reqs[1].header.Get(HeaderDelivery); a != b {
		t.Errorf("duplicate carries delivery id %q, first %q: want the same, for receivers to dedupe", b, a)
	}
}

func TestWorkerSilence(t *testing.T) {
	api := newSlackAPI(t)
	var logs testfiles.Logs
	h := newHarness(t, api.bot(), &LogSink{Logger: logs.Logger()})
	w := h.worker()
	ev := sampleEvent()
	if d := h.raise(&ev, true); d.Action != ActionSuppress {
		t.Fatalf("Decide() under a silence = %+v, want suppress", d)
	}
	h.drain(w)
	if got := api.requests(); got != 0 {
		t.Errorf("Slack requests under a silence = %d, want 0", got)
	}
	if !strings.Contains(logs.String(), "action=suppress") {
		t.Errorf("log sink did not record the suppressed alert:\n%s", logs.String())
	}
	// The silence ends while the regression holds: the page goes out.
	h.clock.Advance(24 * time.Hour)
	if d := h.raise(&ev, false); d.Action != ActionOpen || d.Reason != ReasonUnsilenced {
		t.Fatalf("Decide() after the silence = %+v, want open (unsilenced)", d)
	}
	h.drain(w)
	if got, want := len(api.delivered()), 1; got != want {
		t.Errorf("Slack posts after the silence = %d, want %d", got, want)
	}
}

func TestWorkerUnknownSinkWaits(t *testing.T) {
	rc := newReceiver(t)
	h := newHarness(t, &Webhook{URL: Secret(rc.url)})
	ev := sampleEvent()
	h.raise(&ev, false)
	w := h.worker()
	w.Sinks = nil // the webhook was removed from the config
	h.drain(w)
	h.drain(w)
	if diff := cmp.Diff([]string{"webhook:open:pending"}, h.outbox.statuses()); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
	if got, want := strings.Count(h.logs.String(), "alert deliveries wait for a sink that is not configured"), 1; got != want {
		t.Errorf("log lines = %d, want %d", got, want)
	}
}

// TestWorkerRun drives Run through a Kick and a retry with the fake clock:
// no sleeps, every step waits for an event.
func TestWorkerRun(t *testing.T) {
	api := newSlackAPI(t, status(500, ""))
	h := newHarness(t, api.bot())
	w := h.worker()
	w.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second): // a failure guard, not synchronisation
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	wait(h.clock.waiting, "the idle worker")
	ev := sampleEvent()
	h.raise(&ev, false)
	w.Kick()
	wait(h.clock.waiting, "the worker to schedule the retry")
	if got, want := api.requests(), 1; got != want {
		t.Fatalf("requests after Kick = %d, want %d", got, want)
	}
	h.clock.Advance(time.Second)
	wait(api.posted, "the retried delivery")
	wait(h.clock.waiting, "the worker to record it and go idle")
	cancel()
	wait(done, "Run to return")
	if diff := cmp.Diff([]string{"slack:open:sent"}, h.outbox.statuses()); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}

func TestMetricsNames(t *testing.T) {
	rc := newReceiver(t)
	h := newHarness(t, &Webhook{URL: Secret(rc.url)})
	ev := sampleEvent()
	h.raise(&ev, false)
	h.drain(h.worker())
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	if diff := cmp.Diff([]string{"evald_alert_deliveries_total", "evald_alert_delivery_seconds"}, names); diff != "" {
		t.Errorf("metric names (-want +got):\n%s", diff)
	}
}

func TestLogSink(t *testing.T) {
	var logs testfiles.Logs
	sink := &LogSink{Logger: logs.Logger()}
	if _, err := sink.Send(context.Background(), testDelivery(t, sink)); err != nil {
		t.Fatal(err)
	}
	line := logs.String()
	for _, want := range []string{"level=WARN", "suite=faq", "target=prod", "kind=regression", "action=open", "run_id=43", "run_url=https://evald.example.com/runs/43"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "evil.example") {
		t.Errorf("log line carries model output: %q", line)
	}
}

func TestExponentialBackoff(t *testing.T) {
	for _, tt := range []struct {
		name string
		rnd  float64
		want []time.Duration
	}{
		{name: "low jitter", rnd: 0, want: []time.Duration{2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second}},
		{name: "high jitter", rnd: 0.999999, want: []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 60 * time.Second, 60 * time.Second}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := ExponentialBackoff(5*time.Second, time.Minute, func() float64 { return tt.rnd })
			var got []time.Duration
			for a := 1; a <= len(tt.want); a++ {
				got = append(got, b(a).Round(time.Second/10))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("backoff (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWorkerPoisonDelivery: a delivery its receiver always answers with a
// 5xx neither starves the sink's other deliveries nor retries forever.
func TestWorkerPoisonDelivery(t *testing.T) {
	var poison string
	rc := newReceiver(t)
	rc.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{header: r.Header.Clone()})
		bad := r.Header.Get(HeaderDelivery) == poison
		rc.mu.Unlock()
		if bad {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := newHarness(t, &Webhook{URL: Secret(rc.url)})
	ev, th := sampleEvent(), thresholdEvent()
	h.raise(&ev, false)
	h.raise(&th, false)
	rc.mu.Lock()
	poison = "id-2"
	rc.mu.Unlock()
	w := h.worker()
	w.GiveUpAfter = 2 * time.Hour
	w.Backoff = func(int) time.Duration { return 10 * time.Minute }
	h.drain(w)
	if diff := cmp.Diff([]string{"webhook:open:pending", "webhook:open:sent"}, h.outbox.statuses()); diff != "" {
		t.Errorf("outbox after one drain (-want +got):\n%s", diff)
	}
	for range 100 {
		next := h.drain(w)
		if next.IsZero() {
			break
		}
		h.clock.Set(next)
	}
	if diff := cmp.Diff([]string{"webhook:open:failed", "webhook:open:sent"}, h.outbox.statuses()); diff != "" {
		t.Errorf("outbox after GiveUpAfter (-want +got):\n%s", diff)
	}
	if row := h.outbox.row("id-2"); !strings.Contains(row.d.LastError, "gave up after") {
		t.Errorf("LastError = %q, want it to say it gave up", row.d.LastError)
	}
	if h.clock.Now().Sub(t0) < 2*time.Hour {
		t.Errorf("gave up at +%v, want after 2h", h.clock.Now().Sub(t0))
	}
}

// TestWorkerFlush: a stopping daemon's flush sends what is due and waits
// for a retry that falls due within its grace; a retry due later stays in
// the outbox.
func TestWorkerFlush(t *testing.T) {
	rc := newReceiver(t, status(500, ""))
	h := newHarness(t, &Webhook{URL: Secret(rc.url), Secret: hmacSecret})
	ev := sampleEvent()
	h.raise(&ev, false)
	w := h.worker()
	go func() {
		<-h.clock.waiting // Flush waits for the retry, due in 1s
		h.clock.Advance(time.Second)
	}()
	if err := w.Flush(context.Background(), 10*time.Second); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got := len(rc.requests()); got != 2 {
		t.Errorf("requests = %d, want 2 (a failure, then the retry within the grace)", got)
	}
	if n := h.drain(w); !n.IsZero() {
		t.Errorf("after Flush the next delivery is due at %s, want none pending", n)
	}

	rc2 := newReceiver(t, status(500, ""))
	h2 := newHarness(t, &Webhook{URL: Secret(rc2.url), Secret: hmacSecret})
	ev2 := sampleEvent()
	h2.raise(&ev2, false)
	w2 := h2.worker()
	w2.Backoff = func(int) time.Duration { return time.Minute }
	if err := w2.Flush(context.Background(), 10*time.Second); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got := len(rc2.requests()); got != 1 {
		t.Errorf("requests = %d, want 1: the retry falls due after the grace", got)
	}
}
