package daemon

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/otlptest"
	"github.com/evald/evald/store"
)

// otlpProject is a two-case suite on one target exporting to endpoint.
func otlpProject(endpoint string) *configs.Project {
	proj := testProject([]*evals.Suite{testSuite("faq", 2)}, []string{"prod"}, "")
	proj.Config.Telemetry.OTLP = &configs.OTLP{Endpoint: endpoint, HeadersEnv: "OTLP_HEADERS"}
	return proj
}

// With the collector up, it holds one span per run, a child per sample
// with the model and fingerprint the provider returned, and one
// gen_ai.evaluation.result event per assertion result.
func TestTelemetryExportsRuns(t *testing.T) {
	const apiKey = "otlp-api-key-0123456789"
	rcv := otlptest.New(t)
	h := newHarness(t, otlpProject(rcv.URL), func(string) *fakeProvider { return &fakeProvider{} }, func(o *Options) {
		o.Getenv = func(k string) string { return map[string]string{"OTLP_HEADERS": "x-api-key=" + apiKey}[k] }
	})
	ctx := context.Background()
	var ids []int64
	for range 3 {
		res, err := h.d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerManual})
		if err != nil || res.Run.Status != store.StatusPassed {
			t.Fatalf("Evaluate = %v, %v", res, err)
		}
		ids = append(ids, res.Run.ID)
	}
	// As `evald run` does before it exits (Stop does the same for serve).
	if err := h.d.FlushTelemetry(ctx); err != nil {
		t.Fatalf("FlushTelemetry: %v", err)
	}
	runs := map[string]string{} // span id -> run id
	var samples, events int
	spans := rcv.Spans()
	for _, s := range spans {
		if strings.HasPrefix(s.GetName(), "evald.run ") {
			runs[string(s.GetSpanId())] = otlptest.Attr(s.GetAttributes(), "evald.run.id")
			if got := otlptest.Attr(s.GetAttributes(), "gen_ai.request.model"); got != "m" {
				t.Errorf("run span gen_ai.request.model = %q, want m", got)
			}
			if got := otlptest.Attr(s.GetAttributes(), "evald.status"); got != "passed" {
				t.Errorf("run span evald.status = %q, want passed", got)
			}
		}
	}
	if len(runs) != 3 {
		t.Fatalf("run spans = %d, want 3 (one per run); got %d spans", len(runs), len(spans))
	}
	spanRuns := map[string]bool{}
	for _, id := range runs {
		spanRuns[id] = true
	}
	for _, id := range ids {
		if !spanRuns["int_value:"+strconv.FormatInt(id, 10)] {
			t.Errorf("no run span carries evald.run.id %d (spans carry %v)", id, spanRuns)
		}
	}
	for _, s := range spans {
		if strings.HasPrefix(s.GetName(), "evald.run ") {
			continue
		}
		samples++
		if _, ok := runs[string(s.GetParentSpanId())]; !ok {
			t.Errorf("sample span %q is not a child of a run span", s.GetName())
		}
		if got := otlptest.Attr(s.GetAttributes(), "gen_ai.response.model"); got != "fake-1" {
			t.Errorf("sample gen_ai.response.model = %q, want fake-1", got)
		}
		if got := otlptest.Attr(s.GetAttributes(), "openai.response.system_fingerprint"); got != "fp_a" {
			t.Errorf("sample fingerprint = %q, want fp_a", got)
		}
		for _, e := range s.GetEvents() {
			if e.GetName() != "gen_ai.evaluation.result" {
				continue
			}
			events++
			if got := otlptest.Attr(e.GetAttributes(), "gen_ai.evaluation.name"); got != "contains" {
				t.Errorf("event gen_ai.evaluation.name = %q, want contains", got)
			}
			if got := otlptest.Attr(e.GetAttributes(), "gen_ai.evaluation.score.label"); got != "pass" {
				t.Errorf("event score.label = %q, want pass", got)
			}
		}
	}
	if samples != 6 || events != 6 {
		t.Errorf("sample spans = %d, evaluation events = %d; want 6 and 6 (3 runs x 2 cases x 1 assertion)", samples, events)
	}
	hs := rcv.Headers()
	if len(hs) == 0 || hs[0].Get("X-Api-Key") != apiKey {
		t.Errorf("export headers = %v, want x-api-key from OTLP_HEADERS", hs)
	}
}

// benchmarkTelemetry measures a run of a 20-case suite on an in-process
// provider with the collector up, down (nothing listens) or unconfigured.
func benchmarkTelemetry(b *testing.B, endpoint string) {
	proj := otlpProject(endpoint)
	if endpoint == "" {
		proj.Config.Telemetry.OTLP = nil
	}
	proj.Suites[0] = testSuite("faq", 20)
	proj = testProject(proj.Suites, []string{"prod"}, "")
	if endpoint != "" {
		proj.Config.Telemetry.OTLP = &configs.OTLP{Endpoint: endpoint}
	}
	h := newHarness(b, proj, func(string) *fakeProvider { return &fakeProvider{} }, nil)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.d.Evaluate(ctx, Request{Suite: "faq", Target: "prod", Trigger: TriggerManual}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	_ = h.d.Stop(ctx)
}

// BenchmarkRunTelemetry: a run takes as long with the collector down as
// with it up (export is fail-open and in the background).
func BenchmarkRunTelemetry(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchmarkTelemetry(b, "") })
	b.Run("receiver_up", func(b *testing.B) {
		rcv := otlptest.New(b)
		benchmarkTelemetry(b, rcv.URL)
	})
	b.Run("receiver_down", func(b *testing.B) {
		srv := httptest.NewServer(nil)
		down := srv.URL
		srv.Close() // nothing listens there now
		benchmarkTelemetry(b, down)
	})
}
