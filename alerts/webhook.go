package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WebhookSinkName is the generic webhook's sink name.
const WebhookSinkName = "webhook"

// Headers of the generic webhook.
const (
	HeaderTimestamp = "X-Evald-Timestamp" // unix seconds when the request was signed
	HeaderSignature = "X-Evald-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderDelivery  = "X-Evald-Delivery"  // the delivery id: the same on every retry, the idempotency key
	HeaderAction    = "X-Evald-Action"    // open, update, renotify, resolve
)

// WebhookBody is the JSON the generic webhook posts: the notice with the
// delivery id and a one-line plain-text summary. Text and every field of
// the event are data: a receiver that renders HTML must escape them.
type WebhookBody struct {
	DeliveryID string `json:"delivery_id"`
	Notice
	Text string `json:"text"`
}

// NewWebhookBody builds the body of a delivery.
func NewWebhookBody(deliveryID string, n Notice) WebhookBody {
	text := what(n)
	switch n.Action {
	case ActionResolve:
		text = "Resolved: " + text
		if n.ResolvedByRun != 0 {
			text += fmt.Sprintf(" (cleared by run %d)", n.ResolvedByRun)
		}
	case ActionRenotify:
		text = "Still open: " + text
	case ActionUpdate:
		text = "Update: " + text
	}
	if n.Event.Summary != "" {
		text += " — " + strings.Join(strings.Fields(n.Event.Summary), " ")
	}
	return WebhookBody{DeliveryID: deliveryID, Notice: n, Text: text}
}

// Sign returns the X-Evald-Signature value of body sent at timestamp (unix
// seconds, as in X-Evald-Timestamp): "sha256=" followed by the lowercase
// hex HMAC-SHA256, keyed with secret, of timestamp + "." + body.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors of VerifySignature.
var (
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrStale        = errors.New("webhook timestamp outside the tolerance")
)

// VerifySignature checks a received webhook: the signature must match the
// body and timestamp, and the timestamp must be within tolerance of now
// (replay protection; 5 minutes is a good tolerance).
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	want := Sign(secret, timestamp, body)
	if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature))) {
		return ErrBadSignature
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not unix seconds", ErrStale, timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed %v from now", ErrStale, d.Round(time.Second))
	}
	return nil
}

// Webhook posts the JSON WebhookBody to a URL (alerts.webhook.url_env),
// signed with an HMAC secret (alerts.webhook.secret_env) when set.
// Redirects are not followed. 2xx is success; 408, 429 (honouring
// Retry-After) and 5xx are retried; any other status is permanent.
type Webhook struct {
	URL    Secret
	Secret Secret // "" sends unsigned requests
	// Client defaults to a client with DefaultHTTPTimeout.
	Client *http.Client
	// Now stamps X-Evald-Timestamp (default time.Now).
	Now func() time.Time
}

var _ Sink = (*Webhook)(nil)

// Name returns WebhookSinkName.
func (s *Webhook) Name() string { return WebhookSinkName }

// Send posts the delivery.
func (s *Webhook) Send(ctx context.Context, d Delivery) (Receipt, error) {
	n, err := DecodeNotice(d.Payload)
	if err != nil {
		return Receipt{}, &SendError{Sink: s.Name(), Permanent: true, Reason: "bad payload", Err: err}
	}
	body, err := json.Marshal(NewWebhookBody(d.ID, n))
	if err != nil {
		return Receipt{}, &SendError{Sink: s.Name(), Permanent: true, Reason: "bad payload", Err: err}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL.Reveal(), bytes.NewReader(body))
	if err != nil {
		return Receipt{}, &SendError{Sink: s.Name(), Permanent: true, Reason: "bad url", Err: scrub(err, urlSecrets(s.URL.Reveal())...)}
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "evald-alerts/1")
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderAction, string(n.Action))
	req.Header.Set(HeaderTimestamp, ts)
	if s.Secret != "" {
		req.Header.Set(HeaderSignature, Sign([]byte(s.Secret.Reveal()), ts, body))
	}
	resp, snippet, err := postOnce(s.Client, req, s.Name(), s.secrets(), 512)
	if err != nil {
		return Receipt{}, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return Receipt{Sink: s.Name()}, nil
	}
	msg := Truncate(strings.TrimSpace(string(snippet)), 200)
	se := &SendError{
		Sink: s.Name(), Reason: "http " + strconv.Itoa(resp.StatusCode),
		Permanent: permanentStatus(resp.StatusCode),
		Err:       scrub(fmt.Errorf("status %s: %q", resp.Status, msg), s.secrets()...),
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		se.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now())
	}
	return Receipt{}, se
}

func (s *Webhook) secrets() []string {
	return append(urlSecrets(s.URL.Reveal()), s.Secret.Reveal())
}

// postOnce sends req without following redirects and returns the response
// with at most keep bytes of its body, the rest drained (bounded) and the
// body closed. A transport failure comes back as a classified SendError
// with the sink's secrets scrubbed from it.
func postOnce(c *http.Client, req *http.Request, sink string, secrets []string, keep int64) (*http.Response, []byte, error) {
	client := *httpClient(c)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		se := &SendError{Sink: sink, Err: scrub(err, secrets...)}
		classifyTransport(se, err)
		return nil, nil, se
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, keep))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp, body, nil
}
