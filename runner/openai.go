package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/redact"
)

// OpenAI is a Provider for any OpenAI-compatible chat completions endpoint,
// built on go-openai.
type OpenAI struct {
	client *openai.Client
	tmpl   openai.ChatCompletionRequest
	// embedModel is the model Embed asks for: the target's
	// embedding_model, else DefaultEmbeddingModel (or as set with
	// WithEmbeddingModel).
	embedModel string
	// apiKey is redacted from every error: a provider or a proxy in front
	// of it may echo the key (or the whole Authorization header) in its
	// error body, and error texts are stored and shown on the dashboard.
	apiKey string
	// maxTokens is the largest token count a response may report.
	maxTokens int
}

var _ Provider = (*OpenAI)(nil)

// NewOpenAI returns a provider for the target. apiKey is the resolved secret
// (empty for local endpoints); it is sent as a bearer token and never appears
// in errors. hc may be nil for a default client.
func NewOpenAI(t configs.Target, apiKey string, hc *http.Client) (*OpenAI, error) {
	cfg := clientConfig(t, apiKey)
	client := boundedClient(t, hc)
	cfg.HTTPClient = client

	req := openai.ChatCompletionRequest{Model: t.Model}
	p := t.Params
	if p.Temperature != nil {
		req.Temperature = float32(*p.Temperature)
		if *p.Temperature == 0 {
			// go-openai drops a zero temperature (omitempty) and the API
			// default is 1; the smallest positive float is its documented
			// way to ask for greedy sampling.
			req.Temperature = math.SmallestNonzeroFloat32
		}
	}
	if p.TopP != nil {
		req.TopP = float32(*p.TopP)
		if *p.TopP == 0 {
			req.TopP = math.SmallestNonzeroFloat32
		}
	}
	if p.MaxTokens != nil {
		req.MaxTokens = *p.MaxTokens
	}
	if p.Seed != nil {
		seed := *p.Seed
		req.Seed = &seed
	}
	if p.ResponseFormat != nil {
		rf, err := responseFormat(p.ResponseFormat)
		if err != nil {
			return nil, fmt.Errorf("target %q: params.response_format: %w", t.Name, err)
		}
		req.ResponseFormat = rf
	}
	if p.Tools != nil {
		tools, err := toolsOf(p.Tools)
		if err != nil {
			return nil, fmt.Errorf("target %q: params.tools: %w", t.Name, err)
		}
		req.Tools = tools
	}
	ceiling := t.MaxUsageTokens
	if ceiling <= 0 {
		ceiling = configs.DefaultMaxUsageTokens
	}
	o := &OpenAI{client: openai.NewClientWithConfig(cfg), tmpl: req, embedModel: DefaultEmbeddingModel, apiKey: apiKey, maxTokens: ceiling}
	return o.WithEmbeddingModel(t.EmbeddingModel), nil
}

// Complete sends one chat completion request.
func (o *OpenAI) Complete(ctx context.Context, messages []evals.Message) (Response, error) {
	req := o.tmpl
	req.Messages = make([]openai.ChatCompletionMessage, len(messages))
	for i, m := range messages {
		req.Messages[i] = openai.ChatCompletionMessage{Role: m.Role, Content: m.Content}
	}
	return o.send(ctx, req)
}

// send makes one chat request and decodes the answer from the raw body
// (bounded), mapping failures and a content-filtered answer to CallErrors.
func (o *OpenAI) send(ctx context.Context, req openai.ChatCompletionRequest) (Response, error) {
	hdr := &captured{keep: true}
	if _, err := o.client.CreateChatCompletion(context.WithValue(ctx, captureKey{}, hdr), req); err != nil {
		return Response{}, classify(ctx, err, hdr.retryAfter, o.apiKey)
	}
	out, err := decodeChat(hdr.body, o.maxTokens)
	if err != nil {
		return out, classify(ctx, err, 0, o.apiKey)
	}
	if out.FinishReason == string(openai.FinishReasonContentFilter) {
		return out, &CallError{Class: ClassRefused, Status: http.StatusOK, Err: errors.New("answer withheld by the content filter")}
	}
	return out, nil
}

// classify maps a go-openai or transport error to a CallError. The request
// URL is dropped from transport errors: it may carry credentials in a query.
// The API key is redacted from the text, whatever the server echoed.
func classify(ctx context.Context, err error, retryAfter time.Duration, apiKey string) *CallError {
	ce := classifyErr(ctx, err, retryAfter)
	if ce.Err != nil && apiKey != "" {
		if text, clean := ce.Err.Error(), redact.Text(ce.Err.Error(), apiKey); clean != text {
			ce.Err = errors.New(clean)
		}
	}
	return ce
}

func classifyErr(ctx context.Context, err error, retryAfter time.Duration) *CallError {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	var callErr *CallError
	var tooLarge *TooLargeError
	var redirect *redirectError
	switch {
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return &CallError{Class: ClassCanceled, Err: context.Canceled}
	case errors.Is(err, context.DeadlineExceeded):
		return &CallError{Class: ClassTimeout, Err: errors.New("request timed out")}
	case errors.As(err, &callErr):
		ce := *callErr
		return &ce
	case errors.As(err, &tooLarge):
		return &CallError{Class: ClassBadReply, Reason: ReasonTooLarge, Status: http.StatusOK, final: true, Err: tooLarge}
	case errors.As(err, &redirect):
		return &CallError{Class: ClassClient, Status: redirect.status, Err: redirect}
	case errors.As(err, &apiErr):
		ce := byStatus(apiErr.HTTPStatusCode, errors.New(short(apiErr.Message)))
		ce.RetryAfter = retryAfter
		if code, _ := apiErr.Code.(string); code == "content_policy_violation" || code == "content_filter" {
			ce.Class = ClassRefused
		}
		return ce
	case errors.As(err, &reqErr):
		ce := byStatus(reqErr.HTTPStatusCode, fmt.Errorf("%s", short(string(reqErr.Body))))
		ce.RetryAfter = retryAfter
		return ce
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return &CallError{Class: ClassTimeout, Err: errors.New("request timed out")}
	}
	if why, ok := unreachable(err); ok {
		return &CallError{Class: ClassUnreachable, Err: why}
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return &CallError{Class: ClassServer, Err: fmt.Errorf("%s: %w", urlErr.Op, urlErr.Err)}
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &CallError{Class: ClassBadReply, Status: http.StatusOK, Err: fmt.Errorf("malformed response body: %w", err)}
	}
	return &CallError{Class: ClassBadReply, Err: err}
}

func byStatus(status int, err error) *CallError {
	ce := &CallError{Status: status, Err: err}
	switch {
	case status == http.StatusTooManyRequests:
		ce.Class = ClassRateLimit
	case status == http.StatusRequestTimeout:
		ce.Class = ClassTimeout
	case status >= 500:
		ce.Class = ClassServer
	case status >= 400:
		ce.Class = ClassClient
	default:
		ce.Class = ClassBadReply
	}
	return ce
}

func short(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}

// captured receives what the go-openai types do not keep: response
// headers, and (when keep is set) the body of a successful answer, which
// go-openai then does not see.
type captured struct {
	retryAfter time.Duration
	// requestID is the endpoint's request-id header (Anthropic's).
	requestID string
	keep      bool
	body      []byte
}

type captureKey struct{}

// headerCapture records headers and bounds every response body to limit
// bytes, so no answer, error page or endless stream is read further.
type headerCapture struct {
	next  http.RoundTripper
	limit int64
}

func (h *headerCapture) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(r)
	if resp == nil {
		return resp, err
	}
	c, _ := r.Context().Value(captureKey{}).(*captured)
	if c != nil {
		c.retryAfter = parseRetryAfter(resp.Header, time.Now())
		c.requestID = short(resp.Header.Get("Request-Id"))
	}
	switch {
	case resp.StatusCode/100 != 2:
		// An error page is read for its message only.
		resp.Body = &boundedBody{rc: resp.Body, limit: min(h.limit, errorBodyLimit), cut: true}
	case c != nil && c.keep:
		// The answer is read here, once, and decoded by decodeChat (or
		// decodeMessage); the SDK is handed an empty object so that it does not
		// buffer a second copy.
		body, rerr := readBounded(resp.Body, h.limit, resp.ContentLength)
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		c.body = body
		resp.Body, resp.ContentLength = io.NopCloser(strings.NewReader("{}")), 2
		// The SDK the "{}" is handed to need not judge the endpoint's
		// content type: the real body is judged where it is decoded.
		resp.Header.Set("Content-Type", "application/json")
	default:
		resp.Body = &boundedBody{rc: resp.Body, limit: h.limit}
	}
	return resp, err
}

// parseRetryAfter reads retry-after-ms (OpenAI, Azure) or Retry-After
// (seconds or an HTTP date).
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func responseFormat(v any) (*openai.ChatCompletionResponseFormat, error) {
	switch f := v.(type) {
	case string:
		switch f {
		case "text", "json_object":
			return &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatType(f)}, nil
		}
		return nil, fmt.Errorf("must be text, json_object or a json_schema object (got %q)", f)
	case map[string]any:
		b, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		var rf openai.ChatCompletionResponseFormat
		if err := json.Unmarshal(b, &rf); err != nil {
			return nil, err
		}
		if rf.Type == "" {
			return nil, errors.New("needs a type")
		}
		return &rf, nil
	}
	return nil, fmt.Errorf("must be a string or an object (got %T)", v)
}

func toolsOf(v any) ([]openai.Tool, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var raw []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Strict      bool            `json:"strict"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("must be a list of tools: %w", err)
	}
	tools := make([]openai.Tool, len(raw))
	for i, r := range raw {
		if r.Type == "" {
			r.Type = "function"
		}
		fn := &openai.FunctionDefinition{Name: r.Function.Name, Description: r.Function.Description, Strict: r.Function.Strict}
		if len(r.Function.Parameters) > 0 {
			fn.Parameters = r.Function.Parameters
		}
		tools[i] = openai.Tool{Type: openai.ToolType(r.Type), Function: fn}
	}
	return tools, nil
}
