package daemon

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/store"
)

// BenchmarkTickSkip measures a scheduler tick that finds its pair's run
// still in flight: the per-tick cost the daemon pays between runs.
func BenchmarkTickSkip(b *testing.B) {
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	d, err := New(Options{Project: testProject([]*evals.Suite{testSuite("faq", 1)}, []string{"prod"}, "@hourly"), Store: st, Registry: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	k := runKey{"faq", "prod"}
	d.running[k] = true
	b.ReportAllocs()
	for b.Loop() {
		d.tick(k)
	}
}
