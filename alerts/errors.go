package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/evald/evald/internal/redact"
)

// SendError is the error of a failed send. Its text is safe to log and
// store: secrets and webhook URLs are redacted.
type SendError struct {
	Sink string
	// Permanent is true when retrying cannot help (4xx, Slack ok:false such
	// as invalid_auth or channel_not_found, an undecodable payload).
	Permanent bool
	// RetryAfter is the wait the server asked for (429 Retry-After), 0 if
	// none.
	RetryAfter time.Duration
	// Reason is a short classification: "http 503", "invalid_auth",
	// "rate limited", "timeout", "network", "bad response".
	Reason string
	// Err is the redacted cause.
	Err error
}

func (e *SendError) Error() string {
	kind := "retryable"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("%s: %s (%s): %v", e.Sink, e.Reason, kind, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// Permanent reports whether err says that retrying cannot succeed. Errors
// that are not a *SendError are retryable: losing an alert is worse than
// trying again.
func Permanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// RetryAfter returns the wait the server asked for, or 0.
func RetryAfter(err error) time.Duration {
	var se *SendError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}

// transientSlackErrors are Slack ok:false codes that a retry can fix; every
// other code (invalid_auth, channel_not_found, not_in_channel,
// account_inactive, invalid_blocks, ...) is permanent.
var transientSlackErrors = []string{"ratelimited", "rate_limited", "internal_error", "fatal_error",
	"service_unavailable", "request_timeout", "timeout"}

// classifySlack turns a slack-go error into a *SendError.
func classifySlack(sink string, err error, secrets ...string) *SendError {
	se := &SendError{Sink: sink, Err: scrub(err, secrets...)}
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var er slack.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		se.Reason, se.RetryAfter = "rate limited", rl.RetryAfter
	case errors.As(err, &sc):
		se.Reason, se.Permanent = "http "+strconv.Itoa(sc.Code), permanentStatus(sc.Code)
	case errors.As(err, &er):
		se.Reason = er.Err
		se.Permanent = !slices.Contains(transientSlackErrors, er.Err)
	default:
		classifyTransport(se, err)
	}
	return se
}

// classifyTransport fills the reason of an error below HTTP: timeouts,
// network errors and broken JSON are retryable.
func classifyTransport(se *SendError, err error) {
	var ne net.Error
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		se.Reason = "timeout"
	case errors.Is(err, context.Canceled):
		se.Reason = "canceled"
	case errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		se.Reason = "bad response"
	case errors.As(err, &ne):
		se.Reason = "network"
	default:
		se.Reason = "error"
	}
}

// permanentStatus: 4xx are permanent except 408 and 429.
func permanentStatus(code int) bool {
	return code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests ||
		code >= 300 && code < 400 // redirects are not followed: the URL is wrong
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// scrub returns err with every secret and every URL in a *url.Error
// redacted. When the text changed the original chain is dropped (its types
// would still hold the URL) and only the text is kept.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.URL != "" {
			text = strings.ReplaceAll(text, ue.URL, RedactURL(ue.URL))
		}
	}
	text = redact.Text(text, secrets...)
	if text == err.Error() {
		return err
	}
	return errors.New(text)
}
