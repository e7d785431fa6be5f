package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
)

const botToken = "xoxb-1234567890-ABCDEFsecretTOKEN"

// slackAPI is slack-go's slacktest server with a scripted chat.postMessage
// that records every request and returns a distinct ts per message.
type slackAPI struct {
	srv *slacktest.Server

	mu     sync.Mutex
	posts  []slackPost
	script []http.HandlerFunc // one per request, then ok
	n      int
	posted chan struct{} // a token per successful post
}

type slackPost struct {
	form url.Values
	ok   bool
	ts   string
}

func newSlackAPI(t *testing.T, script ...http.HandlerFunc) *slackAPI {
	t.Helper()
	a := &slackAPI{script: script, posted: make(chan struct{}, 100)}
	a.srv = slacktest.NewTestServer(func(c slacktest.Customize) { c.Handle("/chat.postMessage", a.postMessage) })
	a.srv.Start()
	t.Cleanup(a.srv.Stop)
	return a
}

func (a *slackAPI) postMessage(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	a.mu.Lock()
	var h http.HandlerFunc
	if len(a.script) > 0 {
		h, a.script = a.script[0], a.script[1:]
	}
	if h != nil {
		a.posts = append(a.posts, slackPost{form: r.PostForm})
		a.mu.Unlock()
		h(w, r)
		return
	}
	a.n++
	ts := fmt.Sprintf("1773480600.%06d", a.n)
	a.posts = append(a.posts, slackPost{form: r.PostForm, ok: true, ts: ts})
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0ALERTS", "ts": ts})
	a.posted <- struct{}{}
}

// delivered returns the successful posts.
func (a *slackAPI) delivered() []slackPost {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []slackPost
	for _, p := range a.posts {
		if p.ok {
			out = append(out, p)
		}
	}
	return out
}

func (a *slackAPI) requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.posts)
}

func (a *slackAPI) bot() *SlackBot {
	return &SlackBot{Token: botToken, Channel: "#llm-alerts", APIURL: a.srv.GetAPIURL()}
}

func slackError(code string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, code)
	}
}

func status(code int, retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
		fmt.Fprint(w, "<html>upstream trouble</html>")
	}
}

func brokenJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"ok":tr`)
}

// testDelivery plans an opening regression for one sink.
func testDelivery(t *testing.T, sink Sink) Delivery {
	t.Helper()
	ev := sampleEvent()
	p := &Planner{Sinks: []Sink{sink}, NewID: seqIDs()}
	out, err := p.Plan(nil, &ev, Decision{Action: ActionOpen, Reason: ReasonFirst}, t0)
	if err != nil || len(out.Deliveries) != 1 {
		t.Fatalf("Plan() = %d deliveries, %v", len(out.Deliveries), err)
	}
	return out.Deliveries[0]
}

func TestSlackBotSend(t *testing.T) {
	api := newSlackAPI(t)
	bot := api.bot()
	d := testDelivery(t, bot)
	r, err := bot.Send(context.Background(), d)
	if err != nil {
		t.Fatalf("Send() error = %v", err)
	}
	if got, want := r, (Receipt{Sink: "slack", Channel: "C0ALERTS", TS: "1773480600.000001", StartsThread: true}); got != want {
		t.Errorf("Send() receipt = %+v, want %+v", got, want)
	}
	p := api.delivered()[0]
	if got, want := p.form.Get("token"), botToken; got != want {
		t.Errorf("token = %q, want the bot token", got)
	}
	if got, want := p.form.Get("channel"), "#llm-alerts"; got != want {
		t.Errorf("channel = %q, want %q", got, want)
	}
	for _, k := range []string{"thread_ts", "reply_broadcast"} {
		if got := p.form.Get(k); got != "" {
			t.Errorf("%s = %q on the opening message, want none", k, got)
		}
	}
	if got, want := p.form.Get("unfurl_links"), "false"; got != want {
		t.Errorf("unfurl_links = %q, want %q", got, want)
	}
	n, _ := DecodeNotice(d.Payload)
	wantBlocks, _ := json.Marshal(SlackMessage(n).Blocks.BlockSet)
	if got := p.form.Get("blocks"); got != string(wantBlocks) {
		t.Errorf("blocks = %s\nwant %s", got, wantBlocks)
	}
	assertInert(t, []byte(p.form.Get("blocks")))
	body := p.form
	body.Del("token")
	AssertNoSecret(t, botToken, body.Encode(), fmt.Sprint(bot), fmt.Sprintf("%+v %#v", *bot, bot.Token))
}

func TestSlackBotErrors(t *testing.T) {
	for _, tt := range []struct {
		name       string
		handler    http.HandlerFunc
		permanent  bool
		retryAfter time.Duration
		reason     string
	}{
		{name: "invalid_auth", handler: slackError("invalid_auth"), permanent: true, reason: "invalid_auth"},
		{name: "channel_not_found", handler: slackError("channel_not_found"), permanent: true, reason: "channel_not_found"},
		{name: "not_in_channel", handler: slackError("not_in_channel"), permanent: true, reason: "not_in_channel"},
		{name: "ok false ratelimited", handler: slackError("ratelimited"), reason: "ratelimited"},
		{name: "ok false internal_error", handler: slackError("internal_error"), reason: "internal_error"},
		{name: "429 with Retry-After", handler: status(429, "7"), retryAfter: 7 * time.Second, reason: "rate limited"},
		{name: "500", handler: status(500, ""), reason: "http 500"},
		{name: "503", handler: status(503, ""), reason: "http 503"},
		{name: "404", handler: status(404, ""), permanent: true, reason: "http 404"},
		{name: "403", handler: status(403, ""), permanent: true, reason: "http 403"},
		{name: "truncated JSON", handler: brokenJSON, reason: "bad response"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			api := newSlackAPI(t, tt.handler)
			bot := api.bot()
			_, err := bot.Send(context.Background(), testDelivery(t, bot))
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
			AssertNoSecret(t, botToken, err.Error())
		})
	}
}

func TestSlackBotTransportErrors(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		api := newSlackAPI(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		defer close(release)
		bot := api.bot()
		bot.Client = &http.Client{Timeout: 50 * time.Millisecond}
		_, err := bot.Send(context.Background(), testDelivery(t, bot))
		if err == nil || Permanent(err) || !strings.Contains(err.Error(), "timeout") {
			t.Errorf("Send() error = %v, want a retryable timeout", err)
		}
		AssertNoSecret(t, botToken, err.Error())
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		bot := &SlackBot{Token: botToken, Channel: "#llm-alerts", APIURL: srv.URL + "/"}
		_, err := bot.Send(context.Background(), testDelivery(t, bot))
		if err == nil || Permanent(err) {
			t.Errorf("Send() error = %v, want a retryable network error", err)
		}
		AssertNoSecret(t, botToken, err.Error())
	})
	t.Run("bad payload", func(t *testing.T) {
		bot := &SlackBot{Token: botToken}
		_, err := bot.Send(context.Background(), Delivery{ID: "x", Payload: []byte(`{"version":99}`)})
		if !Permanent(err) {
			t.Errorf("Send() error = %v, want permanent", err)
		}
	})
}

// slackHook is an httptest incoming webhook whose URL path is the secret.
type slackHook struct {
	srv    *httptest.Server
	url    string
	mu     sync.Mutex
	bodies [][]byte
	script []http.HandlerFunc
}

const hookPathSecret = "T0EVALD/B0ALERTS/xYzSecretHookPath42"

func newSlackHook(t *testing.T, script ...http.HandlerFunc) *slackHook {
	t.Helper()
	h := &slackHook{script: script}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, body)
		var next http.HandlerFunc
		if len(h.script) > 0 {
			next, h.script = h.script[0], h.script[1:]
		}
		h.mu.Unlock()
		if r.URL.Path != "/services/"+hookPathSecret {
			http.Error(w, "no_service", http.StatusNotFound)
			return
		}
		if next != nil {
			next(w, r)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(h.srv.Close)
	h.url = h.srv.URL + "/services/" + hookPathSecret
	return h
}

func (h *slackHook) requests() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

func slackText(code int, text string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		fmt.Fprint(w, text)
	}
}

func TestSlackWebhookSend(t *testing.T) {
	hook := newSlackHook(t)
	sink := &SlackWebhook{URL: Secret(hook.url)}
	d := testDelivery(t, sink)
	if _, err := sink.Send(context.Background(), d); err != nil {
		t.Fatalf("Send() error = %v", err)
	}
	n, _ := DecodeNotice(d.Payload)
	msg := SlackMessage(n)
	want, _ := json.Marshal(&msg)
	got := hook.requests()[0]
	if string(got) != string(want) {
		t.Errorf("posted body = %s\nwant %s", got, want)
	}
	assertInert(t, got)
	AssertNoSecret(t, hook.url, string(got), fmt.Sprint(sink), fmt.Sprintf("%+v", *sink))
	AssertNoSecret(t, hookPathSecret, string(got))
}

func TestSlackWebhookErrors(t *testing.T) {
	for _, tt := range []struct {
		name       string
		handler    http.HandlerFunc
		permanent  bool
		retryAfter time.Duration
		reason     string
	}{
		{name: "invalid_payload", handler: slackText(400, "invalid_payload"), permanent: true, reason: "http 400"},
		{name: "action_prohibited", handler: slackText(403, "action_prohibited"), permanent: true, reason: "http 403"},
		{name: "no_service", handler: slackText(404, "no_service"), permanent: true, reason: "http 404"},
		{name: "channel_is_archived", handler: slackText(410, "channel_is_archived"), permanent: true, reason: "http 410"},
		{name: "429 with Retry-After", handler: status(429, "12"), retryAfter: 12 * time.Second, reason: "rate limited"},
		{name: "429 without Retry-After", handler: status(429, ""), reason: "http 429"},
		{name: "500 rollup_error", handler: slackText(500, "rollup_error"), reason: "http 500"},
		{name: "502", handler: status(502, ""), reason: "http 502"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hook := newSlackHook(t, tt.handler)
			sink := &SlackWebhook{URL: Secret(hook.url)}
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
			AssertNoSecret(t, hook.url, err.Error())
			AssertNoSecret(t, hookPathSecret, err.Error())
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		secretURL := srv.URL + "/services/" + hookPathSecret
		sink := &SlackWebhook{URL: Secret(secretURL)}
		_, err := sink.Send(context.Background(), testDelivery(t, sink))
		if err == nil || Permanent(err) {
			t.Fatalf("Send() error = %v, want a retryable network error", err)
		}
		t.Logf("Send() error = %v", err)
		if !strings.Contains(err.Error(), Redacted) {
			t.Errorf("Send() error = %q, want the URL shown redacted", err)
		}
		AssertNoSecret(t, secretURL, err.Error())
		AssertNoSecret(t, hookPathSecret, err.Error())
	})
}
