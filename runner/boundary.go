package runner

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// What an endpoint sends is checked here, at the boundary: a body is never
// read past its limit, a redirect is not followed unless the target allows
// it (and then without the key to another origin), and an answer's token
// counts and content are checked before anything counts or scores them.

// ReasonTooLarge is the CallError.Reason of an answer whose body exceeded
// the target's max_response_bytes.
const ReasonTooLarge = "too_large"

// TooLargeError is a response body cut off at its limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: the response body is larger than max_response_bytes (%d bytes); nothing past it was read", ReasonTooLarge, e.Limit)
}

// errorBodyLimit bounds what is read of an error page: its message is
// shortened to 200 characters anyway.
const errorBodyLimit = 64 << 10

// boundedBody reads at most limit bytes of a response body. When there is
// more it fails with a *TooLargeError, or, with cut set, ends there as if
// the body did.
type boundedBody struct {
	rc    io.ReadCloser
	limit int64
	n     int64
	cut   bool
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.n > b.limit {
		return 0, b.over()
	}
	if room := b.limit + 1 - b.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if b.n > b.limit {
		n -= int(b.n - b.limit)
		err = b.over()
	}
	return n, err
}

func (b *boundedBody) over() error {
	if b.cut {
		return io.EOF
	}
	return &TooLargeError{Limit: b.limit}
}

// readBounded reads all of r, at most limit bytes, in one allocation when
// the size is announced (size < 0 when it is not).
func readBounded(r io.ReadCloser, limit, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size >= 0 && size <= limit {
		buf.Grow(int(size) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(&boundedBody{rc: r, limit: limit}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// redirectError is a redirect the target does not follow.
type redirectError struct {
	status int
	to     string // scheme://host of the new location
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("the endpoint redirects (HTTP %d) to %s: not followed (set follow_redirects: true on the target to follow redirects)", e.status, e.to)
}

// redirectPolicy is the http.Client.CheckRedirect of a target: no redirect
// unless follow, and, when following, no Authorization header sent to
// another scheme, host or port than the first request's. (net/http keeps
// the header on a change of port or scheme, and to a subdomain.)
func redirectPolicy(follow bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !follow {
			status := 0
			if req.Response != nil {
				status = req.Response.StatusCode
			}
			return &redirectError{status: status, to: origin(req.URL)}
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if origin(req.URL) != origin(via[0].URL) {
			req.Header.Del("Authorization")
			req.Header.Del("Api-Key")   // Azure's header
			req.Header.Del("X-Api-Key") // Anthropic's
		}
		return nil
	}
}

// origin is scheme://host:port of u, the port made explicit.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// unreachable reports whether err is a failure to reach the endpoint at all:
// a refused or reset connection, a DNS failure, a TLS handshake or
// certificate error. why is the cause without the request URL.
func unreachable(err error) (why error, ok bool) { //nolint:revive // reads as "why, and is it unreachable at all"
	var dns *net.DNSError
	var op *net.OpError
	var cert *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var rec tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &dns):
		return fmt.Errorf("DNS lookup of %s failed: %s", dns.Name, dns.Err), true
	case errors.As(err, &cert), errors.As(err, &unknownAuth), errors.As(err, &hostname), errors.As(err, &invalid):
		return fmt.Errorf("TLS certificate not accepted: %w", unwrapURL(err)), true
	case errors.As(err, &rec), errors.As(err, &alert):
		return fmt.Errorf("TLS handshake failed: %w", unwrapURL(err)), true
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Errorf("cannot connect to %v: %w", op.Addr, op.Err), true
	}
	return nil, false
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// decodeChat reads a chat completion body as Complete returns it, checking
// what the endpoint could get wrong: no choices, an answer with neither
// content nor a tool call (content: null), and token counts that are
// negative or above maxTokens. Any such answer is a bad_response: nothing
// it reports is counted, billed or scored.
func decodeChat(body []byte, maxTokens int) (Response, error) {
	var resp openai.ChatCompletionResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return Response{}, &CallError{Class: ClassBadReply, Status: http.StatusOK, Err: fmt.Errorf("malformed response body: %w", err)}
	}
	if len(resp.Choices) == 0 {
		return Response{}, badReply("response has no choices")
	}
	var shape struct {
		Choices []struct {
			Message struct {
				Content      json.RawMessage `json:"content"`
				ToolCalls    json.RawMessage `json:"tool_calls"`
				FunctionCall json.RawMessage `json:"function_call"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &shape); err != nil || len(shape.Choices) == 0 {
		return Response{}, badReply("malformed response body")
	}
	ch := resp.Choices[0]
	m := shape.Choices[0].Message
	if absent(m.Content) && absent(m.ToolCalls) && absent(m.FunctionCall) && ch.FinishReason != openai.FinishReasonContentFilter {
		return Response{}, badReply("the answer has no content (content: null) and no tool call")
	}
	for _, c := range []struct {
		field string
		n     int
	}{{"prompt_tokens", resp.Usage.PromptTokens}, {"completion_tokens", resp.Usage.CompletionTokens}, {"total_tokens", resp.Usage.TotalTokens}} {
		if err := checkTokens(c.field, c.n, maxTokens); err != nil {
			return Response{}, err
		}
	}
	var calls []ToolCallRequest
	for _, tc := range ch.Message.ToolCalls {
		calls = append(calls, ToolCallRequest{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	return Response{
		ToolCalls:        calls,
		Text:             ch.Message.Content,
		FinishReason:     string(ch.FinishReason),
		Model:            resp.Model,
		Fingerprint:      resp.SystemFingerprint,
		PromptTokens:     resp.Usage.PromptTokens,
		CompletionTokens: resp.Usage.CompletionTokens,
	}, nil
}

// checkTokens refuses a token count no endpoint could mean.
func checkTokens(field string, n, maxTokens int) error {
	switch {
	case n < 0:
		return badReply(fmt.Sprintf("usage.%s is %d: a token count cannot be negative", field, n))
	case maxTokens > 0 && n > maxTokens:
		return badReply(fmt.Sprintf("usage.%s is %d, above the target's max_usage_tokens (%d)", field, n, maxTokens))
	}
	return nil
}

func absent(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null" || s == "[]"
}

func badReply(msg string) *CallError {
	return &CallError{Class: ClassBadReply, Status: http.StatusOK, Err: errors.New(msg)}
}
