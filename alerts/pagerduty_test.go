package alerts

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/internal/pdtest"
)

const routingKey = "R0UT1NGKEYdeadbeefcafe0123456789"

func pdSink(srv *pdtest.Server) *PagerDuty {
	return &PagerDuty{RoutingKey: routingKey, URL: srv.EnqueueURL(), SeverityMap: map[string]string{"page": "critical"},
		DashboardURL: "https://evald.example.com", Now: func() time.Time { return t0 }}
}

// An incident is one PagerDuty alert: a trigger when it opens, keyed by
// the incident id, with the evidence and the run's link, and a resolve
// with the same key when it resolves; nothing is sent twice.
func TestPagerDutyTriggerThenResolve(t *testing.T) {
	srv := pdtest.New(t, routingKey)
	sink := pdSink(srv)
	h := newHarness(t, sink)
	ev := sampleEvent()
	h.raise(&ev, false)
	w := h.worker()
	h.drain(w)
	h.clock.Advance(time.Hour)
	h.raise(nil, false) // the condition cleared
	h.drain(w)
	h.drain(h.worker()) // a restart sends nothing again

	got := srv.Accepted()
	if len(got) != 2 {
		t.Fatalf("accepted events = %d, want 2 (trigger, resolve): %+v", len(got), got)
	}
	trig, res := got[0], got[1]
	if len(h.outbox.incidents) != 1 {
		t.Fatalf("incidents = %d, want 1", len(h.outbox.incidents))
	}
	var inc *Incident
	for _, i := range h.outbox.incidents {
		inc = i
	}
	if trig.EventAction != "trigger" || trig.DedupKey != inc.ID {
		t.Errorf("first event = %s %q, want trigger with dedup_key = incident id %q", trig.EventAction, trig.DedupKey, inc.ID)
	}
	if res.EventAction != "resolve" || res.DedupKey != inc.ID {
		t.Errorf("second event = %s %q, want resolve with dedup_key %q", res.EventAction, res.DedupKey, inc.ID)
	}
	p := trig.Payload
	if !strings.HasPrefix(p.Summary, "Regression: faq on prod — pass rate -14.0 pp") {
		t.Errorf("summary = %q, want the kind, pair and drift's message", p.Summary)
	}
	if p.Severity != "critical" || p.Source != "prod" || p.Group != "faq" || p.Class != "regression" {
		t.Errorf("payload = %+v, want critical, source prod, group faq, class regression", p)
	}
	reg, _ := p.CustomDetails["regression"].(map[string]any)
	if reg["attribution"] != ev.Regression.Attribution || reg["delta"] != -0.14 {
		t.Errorf("custom_details.regression = %v, want the evidence (delta -0.14, attribution)", reg)
	}
	if got := fmt.Sprint(p.CustomDetails["flipped_cases"]); got != "[refund-window shipping-time]" {
		t.Errorf("custom_details.flipped_cases = %s, want the ids only", got)
	}
	if len(trig.Links) != 1 || trig.Links[0].Href != "https://evald.example.com/runs/43" {
		t.Errorf("links = %+v, want the run on the dashboard", trig.Links)
	}
	if trig.ClientURL != "https://evald.example.com" || trig.Client != "evald" {
		t.Errorf("client = %q %q, want evald and the dashboard", trig.Client, trig.ClientURL)
	}
	if strings.Contains(fmt.Sprint(p.CustomDetails), injection) {
		t.Errorf("custom_details carry model output: %v", p.CustomDetails)
	}
	AssertNoSecret(t, routingKey, h.logs.String())
}

// Rate limits and outages are retried until PagerDuty accepts the event,
// which it then holds once.
func TestPagerDutyRetriesThenDeliversOnce(t *testing.T) {
	srv := pdtest.New(t, routingKey)
	srv.Script(pdtest.Reply{Status: 429, RetryAfter: "20"}, pdtest.Reply{Status: 500}, pdtest.Reply{Status: 503})
	h := newHarness(t, pdSink(srv))
	ev := sampleEvent()
	h.raise(&ev, false)
	w := h.worker()
	for range 10 {
		next := h.drain(w)
		if next.IsZero() {
			break
		}
		h.clock.Set(next)
	}
	h.clock.Advance(24 * time.Hour)
	h.drain(w)
	if got, want := srv.Requests(), 4; got != want {
		t.Errorf("requests = %d, want %d (429, 500, 503, 202)", got, want)
	}
	if got := srv.Accepted(); len(got) != 1 || got[0].EventAction != "trigger" {
		t.Errorf("accepted = %+v, want one trigger", got)
	}
	if got, want := h.count(PagerDutySinkName, ResultRetry), 3.0; got != want {
		t.Errorf("retries = %v, want %v", got, want)
	}
	AssertNoSecret(t, routingKey, h.logs.String())
}

func TestPagerDutyErrors(t *testing.T) {
	for _, tt := range []struct {
		name       string
		reply      *pdtest.Reply
		key        string
		permanent  bool
		retryAfter time.Duration
		text       string
	}{
		{name: "400 invalid routing key", key: "not-the-key-" + routingKey, permanent: true, text: "Event object is invalid: 'routing_key' is invalid"},
		{name: "429", reply: &pdtest.Reply{Status: 429, RetryAfter: "30"}, retryAfter: 30 * time.Second, text: "rate limited"},
		{name: "429 without retry-after", reply: &pdtest.Reply{Status: 429}, text: "rate limited"},
		{name: "500", reply: &pdtest.Reply{Status: 500}, text: "http 500"},
		{name: "403", reply: &pdtest.Reply{Status: 403}, permanent: true, text: "http 403"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := pdtest.New(t, routingKey)
			if tt.reply != nil {
				srv.Script(*tt.reply)
			}
			sink := pdSink(srv)
			if tt.key != "" {
				sink.RoutingKey = Secret(tt.key)
			}
			_, err := sink.Send(context.Background(), testDelivery(t, sink))
			if err == nil {
				t.Fatal("Send() error = nil, want one")
			}
			if got := Permanent(err); got != tt.permanent {
				t.Errorf("Permanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			if got := RetryAfter(err); got != tt.retryAfter {
				t.Errorf("RetryAfter(%v) = %v, want %v", err, got, tt.retryAfter)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Send() error = %q, want it to say %q", err, tt.text)
			}
			AssertNoSecret(t, sink.RoutingKey.Reveal(), err.Error())
		})
	}
	t.Run("echoing server", func(t *testing.T) {
		srv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"status":"invalid event","message":"bad key %s"}`, routingKey)
		})
		rc := newReceiver(t, srv)
		sink := &PagerDuty{RoutingKey: routingKey, URL: rc.url, SeverityMap: map[string]string{"page": "critical"}}
		_, err := sink.Send(context.Background(), testDelivery(t, sink))
		if !Permanent(err) {
			t.Fatalf("Send() error = %v, want permanent", err)
		}
		AssertNoSecret(t, routingKey, err.Error())
	})
}

// Only the incidents severity_map maps reach PagerDuty: by default evald's
// pages, never its information; a kind's entry wins over its severity's.
func TestPagerDutySeverityMap(t *testing.T) {
	info := Event{Kind: KindIdentityChanged, Suite: "faq", Target: "prod", At: t0, Summary: "model changed"}
	missed := Event{Kind: KindMissedRun, Suite: "faq", Target: "prod", At: t0, Summary: "no run has completed for 3h"}
	reg := sampleEvent()
	for _, tt := range []struct {
		name string
		m    map[string]string
		ev   Event
		want string // PagerDuty severity; "" not sent
	}{
		{"page by default", map[string]string{"page": "critical"}, reg, "critical"},
		{"info not by default", map[string]string{"page": "critical"}, info, ""},
		{"info mapped", map[string]string{"page": "critical", "info": "info"}, info, "info"},
		{"kind wins", map[string]string{"page": "critical", "missed_run": "error"}, missed, "error"},
		{"kind not mapped, severity is", map[string]string{"page": "warning", "regression": "critical"}, missed, "warning"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := pdtest.New(t, routingKey)
			sink := pdSink(srv)
			sink.SeverityMap = tt.m
			h := newHarness(t, sink)
			ev := tt.ev
			h.raise(&ev, false)
			h.drain(h.worker())
			got := srv.Accepted()
			switch {
			case tt.want == "" && len(got) != 0:
				t.Errorf("accepted = %+v, want nothing sent", got)
			case tt.want != "" && (len(got) != 1 || got[0].Payload.Severity != tt.want):
				t.Errorf("accepted = %+v, want one trigger of severity %s", got, tt.want)
			}
		})
	}
}

// configs validates severity_map keys against its own list of kinds.
func TestConfigKnowsEveryKind(t *testing.T) {
	var kinds []string
	for _, k := range Kinds {
		kinds = append(kinds, string(k))
	}
	if diff := cmp.Diff(kinds, configs.AlertKinds); diff != "" {
		t.Errorf("configs.AlertKinds differs from alerts.Kinds (-alerts +configs):\n%s", diff)
	}
}
