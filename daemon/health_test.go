package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/evald/evald/evals"
)

func TestReady(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@every 1h"),
		func(string) *fakeProvider { return &fakeProvider{} }, func(o *Options) { o.QuickCheckEvery = -1 })
	if err := h.d.Ready(ctx); err == nil || !strings.Contains(err.Error(), "scheduler not running") {
		t.Errorf("Ready() before Start = %v, want scheduler not running", err)
	}
	if err := h.d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer h.d.Stop(ctx)
	if err := h.d.Ready(ctx); err != nil {
		t.Errorf("Ready() after Start = %v, want nil", err)
	}
	h.d.heartbeat.last.Store(time.Now().Add(-time.Hour).UnixNano())
	if err := h.d.Ready(ctx); err == nil || !strings.Contains(err.Error(), "heartbeat") {
		t.Errorf("Ready() with the last beat an hour ago = %v, want a missed heartbeat", err)
	}
	h.d.heartbeat.beat()
	if err := h.d.Ready(ctx); err != nil {
		t.Errorf("Ready() after a beat = %v, want nil", err)
	}
}

func TestCheckDB(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, ""),
		func(string) *fakeProvider { return &fakeProvider{} }, func(o *Options) { o.Now = func() time.Time { return now } })
	if got := h.d.DBCheck(); !got.At.IsZero() {
		t.Errorf("DBCheck() before any check = %+v, want a zero time", got)
	}
	if got := testutil.ToFloat64(h.d.metrics.dbCheckOK); got != 1 {
		t.Errorf("evald_db_quick_check_ok before any check = %v, want 1", got)
	}
	h.d.checkDB(ctx)
	got := h.d.DBCheck()
	if !got.At.Equal(now) || got.Err != "" {
		t.Errorf("DBCheck() after a check of a sound database = %+v, want At %v and no error", got, now)
	}
	if got, want := testutil.ToFloat64(h.d.metrics.dbCheckTime), float64(now.Unix()); got != want {
		t.Errorf("evald_db_quick_check_timestamp_seconds = %v, want %v", got, want)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	now = now.Add(time.Hour)
	h.d.checkDB(cancelled)
	if got := h.d.DBCheck(); got.At.Equal(now) {
		t.Errorf("a check cut short was reported: %+v", got)
	}
}
