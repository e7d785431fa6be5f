package alerts

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/internal/testfiles"
)

const (
	hmacSecret    = "whsec_Q2hhbmdlTWVQbGVhc2U"
	webhookSecret = "tok3nInTheQuery"
)

// receiver is an httptest generic webhook receiver that records requests.
type receiver struct {
	srv    *httptest.Server
	url    string
	mu     sync.Mutex
	reqs   []received
	script []http.HandlerFunc
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, script ...http.HandlerFunc) *receiver {
	t.Helper()
	rc := &receiver{script: script}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{header: r.Header.Clone(), body: body})
		var next http.HandlerFunc
		if len(rc.script) > 0 {
			next, rc.script = rc.script[0], rc.script[1:]
		}
		rc.mu.Unlock()
		if next != nil {
			next(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	rc.url = rc.srv.URL + "/hooks/evald?token=" + webhookSecret
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// verifyAsDocumented is the receiver-side recipe of docs/alerts.md, written
// independently of Sign: HMAC-SHA256 keyed with the secret over the
// X-Evald-Timestamp value, a ".", and the raw body; hex; "sha256=" prefix;
// constant-time comparison; timestamp within 5 minutes.
func verifyAsDocumented(secret string, h http.Header, body []byte, now time.Time) error {
	ts := h.Get("X-Evald-Timestamp")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	expected := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(expected), []byte(h.Get("X-Evald-Signature"))) {
		return errors.New("bad signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return err
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("stale")
	}
	return nil
}

func TestWebhookSignature(t *testing.T) {
	rc := newReceiver(t)
	sink := &Webhook{URL: Secret(rc.url), Secret: hmacSecret, Now: func() time.Time { return t0 }}
	d := testDelivery(t, sink)
	if _, err := sink.Send(context.Background(), d); err != nil {
		t.Fatalf("Send() error = %v", err)
	}
	req := rc.requests()[0]
	if err := verifyAsDocumented(hmacSecret, req.header, req.body, t0.Add(time.Minute)); err != nil {
		t.Errorf("documented recipe: %v", err)
	}
	if err := VerifySignature([]byte(hmacSecret), req.header.Get(HeaderTimestamp), req.header.Get(HeaderSignature), req.body, t0, 5*time.Minute); err != nil {
		t.Errorf("VerifySignature() = %v", err)
	}
	for _, tt := range []struct {
		name   string
		secret string
		body   []byte
		now    time.Time
		want   error
	}{
		{name: "other secret", secret: "nope", body: req.body, now: t0, want: ErrBadSignature},
		{name: "tampered body", secret: hmacSecret, body: append([]byte(" "), req.body...), now: t0, want: ErrBadSignature},
		{name: "replayed later", secret: hmacSecret, body: req.body, now: t0.Add(6 * time.Minute), want: ErrStale},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature([]byte(tt.secret), req.header.Get(HeaderTimestamp), req.header.Get(HeaderSignature), tt.body, tt.now, 5*time.Minute)
			if !errors.Is(err, tt.want) {
				t.Errorf("VerifySignature() = %v, want %v", err, tt.want)
			}
		})
	}
	for k, want := range map[string]string{
		"Content-Type": "application/json", HeaderDelivery: d.ID, HeaderAction: "open",
		HeaderTimestamp: strconv.FormatInt(t0.Unix(), 10),
	} {
		if got := req.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	var body WebhookBody
	if err := json.Unmarshal(req.body, &body); err != nil {
		t.Fatal(err)
	}
	n, _ := DecodeNotice(d.Payload)
	if diff := cmp.Diff(NewWebhookBody(d.ID, n), body); diff != "" {
		t.Errorf("webhook body mismatch (-want +got):\n%s", diff)
	}
	AssertNoSecret(t, hmacSecret, string(req.body), fmt.Sprint(req.header), fmt.Sprintf("%+v", *sink))
	AssertNoSecret(t, webhookSecret, string(req.body), fmt.Sprintf("%v", sink))
}

func TestWebhookUnsigned(t *testing.T) {
	rc := newReceiver(t)
	sink := &Webhook{URL: Secret(rc.url)}
	if _, err := sink.Send(context.Background(), testDelivery(t, sink)); err != nil {
		t.Fatalf("Send() error = %v", err)
	}
	if got := rc.requests()[0].header.Get(HeaderSignature); got != "" {
		t.Errorf("signature without a secret = %q, want none", got)
	}
}

func TestWebhookErrors(t *testing.T) {
	redirect := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
	}
	for _, tt := range []struct {
		name       string
		handler    http.HandlerFunc
		permanent  bool
		retryAfter time.Duration
		reason     string
	}{
		{name: "400", handler: status(400, ""), permanent: true, reason: "http 400"},
		{name: "401", handler: status(401, ""), permanent: true, reason: "http 401"},
		{name: "404", handler: status(404, ""), permanent: true, reason: "http 404"},
		{name: "redirect not followed", handler: redirect, permanent: true, reason: "http 302"},
		{name: "408", handler: status(408, ""), reason: "http 408"},
		{name: "429 seconds", handler: status(429, "30"), retryAfter: 30 * time.Second, reason: "http 429"},
		{name: "429 date", handler: status(429, t0.Add(90*time.Second).Format(http.TimeFormat)), retryAfter: 90 * time.Second, reason: "http 429"},
		{name: "500", handler: status(500, ""), reason: "http 500"},
		{name: "503", handler: status(503, ""), reason: "http 503"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, tt.handler)
			sink := &Webhook{URL: Secret(rc.url), Secret: hmacSecret, Now: func() time.Time { return t0 }}
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
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Send() error = %q, want it to name %q", err, tt.reason)
			}
			AssertNoSecret(t, rc.url, err.Error())
			AssertNoSecret(t, webhookSecret, err.Error())
			AssertNoSecret(t, hmacSecret, err.Error())
		})
	}
	t.Run("echoing receiver", func(t *testing.T) {
		echo := func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			fmt.Fprintf(w, "bad request to %s with signature %s", r.URL, r.Header.Get(HeaderSignature))
		}
		rc := newReceiver(t, echo)
		sink := &Webhook{URL: Secret(rc.url), Secret: hmacSecret}
		_, err := sink.Send(context.Background(), testDelivery(t, sink))
		if !Permanent(err) {
			t.Fatalf("Send() error = %v, want permanent", err)
		}
		AssertNoSecret(t, webhookSecret, err.Error())
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		u := srv.URL + "/hooks/evald?token=" + webhookSecret
		sink := &Webhook{URL: Secret(u), Secret: hmacSecret}
		_, err := sink.Send(context.Background(), testDelivery(t, sink))
		if err == nil || Permanent(err) {
			t.Fatalf("Send() error = %v, want retryable", err)
		}
		AssertNoSecret(t, u, err.Error())
		AssertNoSecret(t, webhookSecret, err.Error())
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		defer close(release)
		sink := &Webhook{URL: Secret(rc.url), Client: &http.Client{Timeout: 50 * time.Millisecond}}
		_, err := sink.Send(context.Background(), testDelivery(t, sink))
		if err == nil || Permanent(err) || !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("Send() error = %v, want a retryable timeout", err)
		}
		AssertNoSecret(t, webhookSecret, err.Error())
	})
}

func TestSecret(t *testing.T) {
	s := Secret("xoxb-very-secret")
	type config struct {
		Token Secret `json:"token"`
	}
	js, err := json.Marshal(config{Token: s})
	if err != nil {
		t.Fatal(err)
	}
	var logs testfiles.Logs
	logs.Logger().Info("configured", "token", s)
	texts := []string{
		s.String(), fmt.Sprint(s), fmt.Sprintf("%s|%v|%q|%x|%#v|%+v|%d", s, s, s, s, s, config{s}, s),
		string(js), logs.String(),
	}
	AssertNoSecret(t, s.Reveal(), texts...)
	var back map[string]string
	if err := json.Unmarshal(js, &back); err != nil || back["token"] != Redacted {
		t.Errorf("json.Marshal() = %s (%v), want the token as %q", js, err, Redacted)
	}
	if got, want := s.Reveal(), "xoxb-very-secret"; got != want {
		t.Errorf("Reveal() = %q, want %q", got, want)
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://hooks.slack.com/services/T0/B0/abc", "https://hooks.slack.com/<secret>"},
		{"https://user:pw@example.com/x?token=1", "https://example.com/<secret>"},
		{"not a url", "<secret>"},
		{"://bad", "<secret>"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
