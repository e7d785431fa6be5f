package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/runner"
)

func TestParseHeaders(t *testing.T) {
	got, err := ParseHeaders("x-api-key=abc%3D1, team = evals ,")
	if err != nil {
		t.Fatalf("ParseHeaders = %v", err)
	}
	if diff := cmp.Diff(map[string]string{"x-api-key": "abc=1", "team": "evals"}, got); diff != "" {
		t.Errorf("ParseHeaders (-want +got):\n%s", diff)
	}
	_, err = ParseHeaders("x-api-key=ok,s3cr3t-without-a-key")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("ParseHeaders(bad) = %v, want an error that does not show the value", err)
	}
}

// A nil exporter, as without telemetry.otlp, records nothing and never
// panics.
func TestNilExporter(t *testing.T) {
	var e *Exporter
	s := e.StartRun(Run{Suite: "faq"})
	s.Sample(runner.Sample{}, time.Now())
	s.End("passed", nil, nil, "", time.Now())
	if err := e.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
}

// A collector that refuses is logged once per distinct error, without the
// headers' secret values, and the export reports success to the batch
// processor (nothing retries, nothing waits).
func TestExportFailureLoggedOnce(t *testing.T) {
	const key = "hdr-s3cr3t-0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("bad key " + r.Header.Get("X-Api-Key")))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	e, err := New(Options{Endpoint: srv.URL, Headers: map[string]string{"X-Api-Key": key}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.StartRun(Run{Suite: "faq", Start: time.Now()}).End("passed", nil, nil, "", time.Now())
		if err := e.ForceFlush(context.Background()); err != nil {
			t.Fatalf("ForceFlush = %v, want nil (fail-open)", err)
		}
	}
	if got := strings.Count(logs.String(), "telemetry export failed"); got != 1 {
		t.Errorf("failure log lines = %d, want 1:\n%s", got, logs.String())
	}
	if strings.Contains(logs.String(), key) {
		t.Errorf("logs show the header's secret:\n%s", logs.String())
	}
	_ = e.Shutdown(context.Background())
}
