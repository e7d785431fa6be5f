package daemon

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

// switchTransport stands in for the dead-man's switch's HTTP endpoint,
// in memory (a synctest bubble cannot hold a socket): it counts GETs of
// its URL and answers 200 OK as healthchecks.io does.
type switchTransport struct {
	url   string
	pings atomic.Int32
}

func (s *switchTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	code := http.StatusNotFound
	if r.Method == http.MethodGet && r.URL.String() == s.url {
		s.pings.Add(1)
		code = http.StatusOK
	}
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("OK")), Request: r}, nil
}

// The heartbeat pings while the scheduler is healthy, stops when its cron
// loop stops beating (a stuck scheduler), and resumes when it beats again.
func TestHeartbeatStopsWhenSchedulerStuck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const hbURL = "https://hc-ping.example/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"
		sw := &switchTransport{url: hbURL}
		proj := testProject([]*evals.Suite{testSuite("faq", 2)}, []string{"prod"}, "@every 1m")
		proj.Config.Alerts.Heartbeat = &configs.Heartbeat{URLEnv: "HB_URL", Every: 30 * time.Second}
		st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "evald.db"))
		if err != nil {
			t.Fatalf("store.Open: %v", err)
		}
		defer st.Close()
		signtest.Project(t, proj)
		reg := prometheus.NewRegistry()
		d, err := New(Options{
			Project: proj, Store: st, Alerts: true, Registry: reg, HTTPClient: &http.Client{Transport: sw},
			Getenv:      func(k string) string { return map[string]string{"HB_URL": hbURL}[k] },
			NewProvider: func(configs.Target, string) (runner.Provider, error) { return &fakeProvider{}, nil },
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		ctx := context.Background()
		if err := d.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		defer d.Stop(ctx)
		time.Sleep(2*time.Minute + time.Second)
		synctest.Wait()
		if got, want := sw.pings.Load(), int32(5); got != want { // at 0, 30s, 1m, 1m30s, 2m
			t.Fatalf("pings in 2m = %d, want %d", got, want)
		}

		// The cron loop stops: no beat, no tick.
		d.mu.Lock()
		c := d.cron
		d.mu.Unlock()
		<-c.Stop().Done()
		time.Sleep(time.Minute)
		synctest.Wait()
		stuck := sw.pings.Load()
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if got := sw.pings.Load(); got != stuck {
			t.Errorf("pings while the scheduler is stuck = %d more, want none", got-stuck)
		}
		if got := testutil.ToFloat64(d.metrics.heartbeats.WithLabelValues("withheld")); got < 10 {
			t.Errorf("withheld heartbeats = %v, want one per 30s while stuck", got)
		}

		c.Start() // it beats again
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		if got := sw.pings.Load(); got <= stuck {
			t.Errorf("pings after the scheduler recovered = %d, want more than %d", got, stuck)
		}
	})
}
