package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
)

// Anthropic is a Provider for Anthropic's Messages API (provider:
// anthropic), built on the official SDK. The SDK builds and sends the
// request; the answer is read and checked here, at the boundary, as
// decodeChat does for OpenAI. It carries no tool calls: agent suites on an
// Anthropic target fail with the runner's "does not support tool calls".
type Anthropic struct {
	client anthropic.Client
	tmpl   anthropic.MessageNewParams
	opts   []option.RequestOption // temperature, top_p
	// apiKey is redacted from every error.
	apiKey string
	// maxTokens is the largest token count a response may report.
	maxTokens int
}

var _ Provider = (*Anthropic)(nil)

// StatusOverloaded is Anthropic's "overloaded" status: retried like any
// 5xx, recorded with ReasonOverloaded.
const StatusOverloaded = 529

// ReasonOverloaded is the CallError.Reason of an Anthropic 529.
const ReasonOverloaded = "overloaded"

// New returns the provider for t's platform: Anthropic's Messages API for
// provider: anthropic, else an OpenAI-compatible (or Azure) endpoint.
func New(t configs.Target, apiKey string, hc *http.Client) (Provider, error) {
	if t.Provider == configs.ProviderAnthropic {
		return NewAnthropic(t, apiKey, hc)
	}
	return NewOpenAI(t, apiKey, hc)
}

// NewAnthropic returns a provider for an Anthropic target. apiKey is sent
// as the SDK sends it (a bearer token) and never appears in errors. hc may be nil for
// a default client. The SDK does not retry (the runner does) and reads
// nothing from the environment: the key and base URL are the target's.
func NewAnthropic(t configs.Target, apiKey string, hc *http.Client) (*Anthropic, error) {
	client := boundedClient(t, hc)
	// The SDK appends /v1/messages; a base URL written as for OpenAI
	// targets (ending in /v1) means the same host.
	base := strings.TrimSuffix(strings.TrimRight(cmpOr(t.BaseURL, configs.DefaultAnthropicBaseURL), "/"), "/v1") + "/"
	c := anthropic.NewClient(
		option.WithoutEnvironmentDefaults(),
		option.WithBaseURL(base),
		option.WithAPIKey(apiKey),
		option.WithHTTPClient(client),
		option.WithMaxRetries(0),
	)
	maxOut := int64(configs.DefaultAnthropicMaxTokens)
	p := t.Params
	if p.MaxTokens != nil {
		maxOut = int64(*p.MaxTokens)
	}
	req := anthropic.MessageNewParams{Model: anthropic.Model(t.Model), MaxTokens: maxOut}
	// The SDK's typed parameters have no temperature or top_p any more;
	// the API still takes them, so they are set on the request body.
	var opts []option.RequestOption
	if p.Temperature != nil {
		opts = append(opts, option.WithJSONSet("temperature", *p.Temperature))
	}
	if p.TopP != nil {
		opts = append(opts, option.WithJSONSet("top_p", *p.TopP))
	}
	if p.Tools != nil {
		return nil, fmt.Errorf("target %q: params.tools: not supported with provider: anthropic", t.Name)
	}
	if p.ResponseFormat != nil {
		return nil, fmt.Errorf("target %q: params.response_format: not supported with provider: anthropic", t.Name)
	}
	ceiling := t.MaxUsageTokens
	if ceiling <= 0 {
		ceiling = configs.DefaultMaxUsageTokens
	}
	return &Anthropic{client: c, tmpl: req, opts: opts, apiKey: apiKey, maxTokens: ceiling}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// boundedClient is the HTTP client of a target: every body bounded to
// max_response_bytes, headers captured, redirects as the target allows.
func boundedClient(t configs.Target, hc *http.Client) *http.Client {
	var base http.RoundTripper
	if hc != nil && hc.Transport != nil {
		base = hc.Transport
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(t.Concurrency, 2)
		base = tr
	}
	limit := t.MaxResponseBytes
	if limit <= 0 {
		limit = configs.DefaultMaxResponseBytes
	}
	client := &http.Client{Transport: &headerCapture{next: base, limit: limit}, CheckRedirect: redirectPolicy(t.FollowRedirects)}
	if hc != nil {
		client.Jar = hc.Jar
	}
	return client
}

// Complete sends one Messages request. System messages go to the system
// parameter, the others in order as user and assistant turns.
func (a *Anthropic) Complete(ctx context.Context, messages []evals.Message) (Response, error) {
	req := a.tmpl
	for _, m := range messages {
		switch m.Role {
		case "system", "developer":
			req.System = append(req.System, anthropic.TextBlockParam{Text: m.Content})
		case "assistant":
			req.Messages = append(req.Messages, anthropic.NewAssistantMessage(anthropic.NewTextBlock(m.Content)))
		default:
			req.Messages = append(req.Messages, anthropic.NewUserMessage(anthropic.NewTextBlock(m.Content)))
		}
	}
	hdr := &captured{keep: true}
	if _, err := a.client.Messages.New(context.WithValue(ctx, captureKey{}, hdr), req, a.opts...); err != nil {
		return Response{}, classifyAnthropic(ctx, err, hdr, a.apiKey)
	}
	out, err := decodeMessage(hdr.body, a.maxTokens)
	out.RequestID = hdr.requestID
	if err != nil {
		ce := classify(ctx, err, 0, a.apiKey)
		ce.Err = withRequestID(ce.Err, hdr.requestID)
		return out, ce
	}
	if out.FinishReason == "refusal" {
		return out, &CallError{Class: ClassRefused, Status: http.StatusOK, Err: withRequestID(errors.New("the model refused (stop_reason: refusal)"), hdr.requestID)}
	}
	return out, nil
}

// classifyAnthropic maps an SDK or transport error to a CallError, with
// Anthropic's status codes: 529 is a retryable overload.
func classifyAnthropic(ctx context.Context, err error, hdr *captured, apiKey string) *CallError {
	var apiErr *anthropic.Error
	if errors.As(err, &apiErr) {
		msg := short(apiErr.Message)
		if msg == "" {
			msg = http.StatusText(apiErr.StatusCode)
		}
		if t := string(apiErr.Type()); t != "" {
			msg = t + ": " + msg
		}
		reqID := cmpOr(apiErr.RequestID, hdr.requestID)
		ce := byStatus(apiErr.StatusCode, withRequestID(errors.New(msg), reqID))
		ce.RetryAfter = hdr.retryAfter
		if apiErr.StatusCode == StatusOverloaded {
			ce.Reason = ReasonOverloaded
		}
		return classify(ctx, ce, 0, apiKey)
	}
	return classify(ctx, err, hdr.retryAfter, apiKey)
}

func withRequestID(err error, id string) error {
	if id == "" {
		return err
	}
	return fmt.Errorf("%w (request-id %s)", err, id)
}

// decodeMessage reads a Messages API answer, checking what the endpoint
// could get wrong: no text block (unless the model refused), and token
// counts that are negative or above maxTokens. Any such answer is a
// bad_response.
func decodeMessage(body []byte, maxTokens int) (Response, error) {
	var msg struct {
		Type       string `json:"type"`
		Model      string `json:"model"`
		StopReason string `json:"stop_reason"`
		Content    []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		Usage *struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return Response{}, &CallError{Class: ClassBadReply, Status: http.StatusOK, Err: fmt.Errorf("malformed response body: %w", err)}
	}
	if msg.Type != "message" {
		return Response{}, badReply(fmt.Sprintf("response type is %q, not a message", msg.Type))
	}
	if msg.Usage == nil {
		return Response{}, badReply("the answer has no usage")
	}
	var text strings.Builder
	texts := 0
	for _, b := range msg.Content {
		if b.Type == "text" {
			text.WriteString(b.Text)
			texts++
		}
	}
	if texts == 0 && msg.StopReason != "refusal" {
		return Response{}, badReply("the answer has no text block")
	}
	for _, c := range []struct {
		field string
		n     int
	}{{"input_tokens", msg.Usage.InputTokens}, {"output_tokens", msg.Usage.OutputTokens}} {
		if err := checkTokens(c.field, c.n, maxTokens); err != nil {
			return Response{}, err
		}
	}
	return Response{
		Text:             text.String(),
		FinishReason:     msg.StopReason,
		Model:            msg.Model,
		PromptTokens:     msg.Usage.InputTokens,
		CompletionTokens: msg.Usage.OutputTokens,
	}, nil
}
