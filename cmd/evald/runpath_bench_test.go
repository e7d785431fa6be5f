package main

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/internal/testfiles"
	"github.com/evald/evald/sim"
)

// BenchmarkRunPath is the whole `evald run` path in one process, for
// pprof: loading the config and a 2,000-case suite, opening the store,
// the run against a simulator answering in 50 ms at concurrency 64, the
// drift step and the report. bench/run.sh times the same as a command.
//
//	go test -run '^$' -bench RunPath -benchtime 3x -cpuprofile cpu.prof ./cmd/evald
func BenchmarkRunPath(b *testing.B) {
	const cases, conc = 2000, 64
	h := sim.New(sim.Options{Latency: 50 * time.Millisecond, WrongRate: 0.1})
	srv := httptest.NewServer(h)
	b.Cleanup(func() { h.Close(); srv.Close() })
	dir := b.TempDir()
	testfiles.Write(b, dir, "evald.yaml", fmt.Sprintf(`storage: {sqlite: bench.db}
targets:
  - {name: sim, base_url: %q, model: sim-1, concurrency: %d, timeout: 30s, retries: 2}
suites:
  - {file: suites/bench.yaml, targets: [sim]}
`, srv.URL+"/v1", conc))
	var sys strings.Builder
	for i := range 50 {
		fmt.Fprintf(&sys, "      topic%d item%d => answer number %d\n", i, i, i)
	}
	testfiles.Write(b, dir, "suites/bench.yaml", "name: bench\nprompt:\n  - role: system\n    content: |\n"+sys.String()+
		"  - role: user\n    content: \"Question about topic{{n}} item{{n}}, case {{i}}\"\ntests:\n  - file://cases.jsonl\nthresholds: {pass_rate: 0.5}\n")
	var jsonl strings.Builder
	for i := range cases {
		n := i % 50
		fmt.Fprintf(&jsonl, `{"id":"c%d","vars":{"i":"%d","n":"%d"},"assert":[{"type":"icontains","value":"answer number %d"},{"type":"not-icontains","value":"as an ai"}]}`+"\n", i, i, n, n)
	}
	testfiles.Write(b, dir, "suites/cases.jsonl", jsonl.String())
	cfg := signtest.File(b, filepath.Join(dir, "evald.yaml"))
	for b.Loop() {
		var out, errb strings.Builder
		if code := run([]string{"run", "--config", cfg, "--format", "json", "bench"}, &out, &errb); code > 1 {
			b.Fatalf("evald run = exit %d: %s", code, errb.String())
		}
	}
	b.ReportMetric(float64(cases), "samples/op")
}
