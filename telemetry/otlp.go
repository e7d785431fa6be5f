package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/evald/evald/internal/redact"
	"github.com/evald/evald/runner"
)

// TracesPath is the OTLP/HTTP traces path added to an endpoint given
// without a path.
const TracesPath = "/v1/traces"

// GenAI semantic convention names (OpenTelemetry semantic conventions,
// gen-ai; development stability).
const (
	EventEvaluationResult = "gen_ai.evaluation.result"

	attrEvalName        = "gen_ai.evaluation.name"
	attrEvalScoreValue  = "gen_ai.evaluation.score.value"
	attrEvalScoreLabel  = "gen_ai.evaluation.score.label"
	attrEvalExplanation = "gen_ai.evaluation.explanation"
	attrOperation       = "gen_ai.operation.name"
	attrProvider        = "gen_ai.provider.name"
	attrRequestModel    = "gen_ai.request.model"
	attrResponseModel   = "gen_ai.response.model"
	attrResponseID      = "gen_ai.response.id"
	attrFinishReasons   = "gen_ai.response.finish_reasons"
	attrInputTokens     = "gen_ai.usage.input_tokens"
	attrOutputTokens    = "gen_ai.usage.output_tokens"
	attrFingerprint     = "openai.response.system_fingerprint"
	attrErrorType       = "error.type"
)

// Options configure an Exporter.
type Options struct {
	// Endpoint is the collector's base URL (telemetry.otlp.endpoint).
	Endpoint string
	// Headers are sent with every export (from telemetry.otlp.headers_env);
	// their values are secrets and never logged.
	Headers map[string]string
	// Logger receives export failures, each text once until it changes
	// (nil: discard).
	Logger *slog.Logger
	// Timeout bounds one export request (default 10s).
	Timeout time.Duration
	// Client is the HTTP client (default: the exporter's own).
	Client *http.Client
}

// Exporter exports runs as traces over OTLP/HTTP, fail-open: spans are
// queued and sent in the background in batches, a full queue drops spans,
// and an export that fails is logged and forgotten. Nothing a run calls
// waits on the network. A nil *Exporter exports nothing.
type Exporter struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
}

// ParseHeaders reads "key=value,key2=value2" (the OTEL_EXPORTER_OTLP_HEADERS
// format, values URL-decoded). The error never shows a value.
func ParseHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("header %d is not key=value", i+1)
		}
		if dv, err := url.QueryUnescape(strings.TrimSpace(v)); err == nil {
			v = dv
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// New returns an exporter to o.Endpoint. It connects to nothing yet.
func New(o Options) (*Exporter, error) {
	u, err := url.Parse(o.Endpoint)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("telemetry: endpoint must be an http:// or https:// URL")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = TracesPath
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(u.String()),
		otlptracehttp.WithTimeout(o.Timeout),
		// No retry: a batch the collector does not take is dropped, so
		// that a collector that is down holds no memory and no goroutine.
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
	}
	if len(o.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(o.Headers))
	}
	if o.Client != nil {
		opts = append(opts, otlptracehttp.WithHTTPClient(o.Client))
	}
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var secrets []string
	for _, v := range o.Headers {
		secrets = append(secrets, v)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(&failOpen{inner: exp, log: log, secrets: secrets},
			sdktrace.WithMaxQueueSize(8192), sdktrace.WithBatchTimeout(2*time.Second)),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "evald"))),
	)
	return &Exporter{tp: tp, tracer: tp.Tracer("github.com/evald/evald/telemetry")}, nil
}

// Shutdown sends what is queued, for as long as ctx allows, and stops.
func (e *Exporter) Shutdown(ctx context.Context) error {
	if e == nil {
		return nil
	}
	return e.tp.Shutdown(ctx)
}

// ForceFlush sends what is queued now, for as long as ctx allows.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if e == nil {
		return nil
	}
	return e.tp.ForceFlush(ctx)
}

// Run describes a run as its span shows it.
type Run struct {
	ID                          int64
	Suite, Target, Trigger      string
	SuiteVersion, TargetVersion string
	PromptVersion               string
	// Platform is the target's provider ("openai", ...), Model the model
	// asked for.
	Platform, Model string
	Cases, Repeats  int
	Start           time.Time
}

// RunSpan is a run's span. A nil *RunSpan records nothing.
type RunSpan struct {
	e    *Exporter
	ctx  context.Context
	span trace.Span
	run  Run

	mu           sync.Mutex
	models       map[string]int
	fingerprints map[string]int
}

// StartRun opens the span of a run.
func (e *Exporter) StartRun(r Run) *RunSpan {
	if e == nil {
		return nil
	}
	ctx, span := e.tracer.Start(context.Background(), "evald.run "+r.Suite+" on "+r.Target,
		trace.WithTimestamp(r.Start), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(
			attribute.Int64("evald.run.id", r.ID),
			attribute.String("evald.suite", r.Suite), attribute.String("evald.target", r.Target),
			attribute.String("evald.trigger", r.Trigger),
			attribute.String("evald.suite.version", r.SuiteVersion), attribute.String("evald.prompt.version", r.PromptVersion),
			attribute.String("evald.target.version", r.TargetVersion),
			attribute.Int("evald.cases", r.Cases), attribute.Int("evald.repeats", r.Repeats),
			attribute.String(attrProvider, r.Platform), attribute.String(attrRequestModel, r.Model),
		))
	return &RunSpan{e: e, ctx: ctx, span: span, run: r, models: map[string]int{}, fingerprints: map[string]int{}}
}

// Sample records one sample as a child span, from when its last attempt
// started (end minus its latency) to end, with the model and fingerprint
// the provider returned and one gen_ai.evaluation.result event per
// assertion result. Model output is not exported.
func (s *RunSpan) Sample(smp runner.Sample, end time.Time) {
	if s == nil {
		return
	}
	attrs := []attribute.KeyValue{
		attribute.String(attrOperation, "chat"),
		attribute.String(attrProvider, s.run.Platform), attribute.String(attrRequestModel, s.run.Model),
		attribute.String("evald.case.id", smp.CaseID), attribute.Int("evald.repeat", smp.Repeat),
		attribute.Int("evald.attempts", smp.Attempts),
	}
	if smp.Model != "" {
		attrs = append(attrs, attribute.String(attrResponseModel, smp.Model))
	}
	if smp.Fingerprint != "" {
		attrs = append(attrs, attribute.String(attrFingerprint, smp.Fingerprint))
	}
	if smp.FinishReason != "" {
		attrs = append(attrs, attribute.StringSlice(attrFinishReasons, []string{smp.FinishReason}))
	}
	if smp.PromptTokens > 0 || smp.CompletionTokens > 0 {
		attrs = append(attrs, attribute.Int(attrInputTokens, smp.PromptTokens), attribute.Int(attrOutputTokens, smp.CompletionTokens))
	}
	if smp.Valid() {
		attrs = append(attrs, attribute.Bool("evald.sample.pass", smp.Pass), attribute.Float64("evald.sample.score", smp.Score))
	}
	_, span := s.e.tracer.Start(s.ctx, "chat "+s.run.Model, trace.WithTimestamp(end.Add(-smp.Latency)),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	if smp.ErrClass != "" {
		span.SetAttributes(attribute.String(attrErrorType, smp.ErrClass))
		if !smp.Valid() {
			span.SetStatus(codes.Error, smp.ErrClass)
		}
	}
	for _, r := range smp.Results {
		label := "fail"
		if r.Pass {
			label = "pass"
		}
		ev := []attribute.KeyValue{
			attribute.String(attrEvalName, r.Type), attribute.Float64(attrEvalScoreValue, r.Score),
			attribute.String(attrEvalScoreLabel, label),
		}
		if r.Reason != "" {
			ev = append(ev, attribute.String(attrEvalExplanation, truncate(r.Reason, 500)))
		}
		span.AddEvent(EventEvaluationResult, trace.WithTimestamp(end), trace.WithAttributes(ev...))
	}
	span.End(trace.WithTimestamp(end))
	s.mu.Lock()
	if smp.Model != "" {
		s.models[smp.Model]++
	}
	if smp.Fingerprint != "" {
		s.fingerprints[smp.Fingerprint]++
	}
	s.mu.Unlock()
}

// End closes the run's span with its outcome: status, pass rate and mean
// score (nil: not measured), and the models and fingerprints the provider
// returned.
func (s *RunSpan) End(status string, passRate, meanScore *float64, errText string, end time.Time) {
	if s == nil {
		return
	}
	s.mu.Lock()
	attrs := []attribute.KeyValue{
		attribute.String("evald.status", status),
		attribute.StringSlice(attrResponseModel, keys(s.models)),
		attribute.StringSlice(attrFingerprint, keys(s.fingerprints)),
	}
	s.mu.Unlock()
	if passRate != nil {
		attrs = append(attrs, attribute.Float64("evald.pass_rate", *passRate))
	}
	if meanScore != nil {
		attrs = append(attrs, attribute.Float64("evald.mean_score", *meanScore))
	}
	s.span.SetAttributes(attrs...)
	if status == "errored" || status == "interrupted" {
		s.span.SetStatus(codes.Error, truncate(errText, 300))
	}
	s.span.End(trace.WithTimestamp(end))
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// failOpen is the exporter the batch processor calls: a failure is logged
// (once per distinct text, without secrets) and reported as success, so
// that nothing retries beyond the exporter's own bounded retry.
type failOpen struct {
	inner   sdktrace.SpanExporter
	log     *slog.Logger
	secrets []string

	mu   sync.Mutex
	last string
}

func (f *failOpen) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := f.inner.ExportSpans(ctx, spans)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err != nil:
		text := redact.Text(err.Error(), f.secrets...)
		if text != f.last {
			f.log.Warn("telemetry export failed; spans dropped", "spans", len(spans), "err", text)
		}
		f.last = text
	case f.last != "":
		f.log.Info("telemetry export recovered")
		f.last = ""
	}
	return nil
}

func (f *failOpen) Shutdown(ctx context.Context) error { return f.inner.Shutdown(ctx) }
