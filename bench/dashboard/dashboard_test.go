package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evald/evald/server"
	"github.com/evald/evald/store"
)

// smallPlan is a few days of a few suites: enough for every kind of page
// and event, quick to generate.
func smallPlan() Plan {
	p := DefaultPlan()
	p.Suites, p.PerDay, p.Days, p.Cases = 3, 8, 100, 40
	return p
}

// TestSmallPlan generates a small history and checks that every page the
// benchmark times answers, and that the generator made what the pages show.
func TestSmallPlan(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "small.db")
	p := smallPlan()
	runs, err := Generate(ctx, path, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := runs, p.Suites*p.PerDay*p.Days+2*p.WithSamples; got != want {
		t.Errorf("Generate wrote %d runs, want %d", got, want)
	}
	res, err := Measure(ctx, path, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(res), 7; got != want {
		t.Fatalf("Measure timed %d pages, want %d", got, want)
	}

	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.AuditEntries(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range entries {
		actions[e.Action]++
	}
	for _, a := range []string{"suite.adopted", "thresholds.signed_off", "drift.accepted"} {
		if actions[a] == 0 {
			t.Errorf("the generated audit log has no %s entry (got %v)", a, actions)
		}
	}
	s, err := server.New(server.Options{Addr: "127.0.0.1:0", Store: st, Daemon: benchDaemon{pairs: p.Pairs(), next: p.Now()}, Now: p.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Stop(ctx)
	resp, err := http.Get("http://" + s.Addr() + "/suites/suite-00/prod?range=90d")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"provider identity changed", "prompt changed", "Grouped: each point is"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("suite-00's 90-day page lacks %q", want)
		}
	}
}

// benchDB is the database the benchmarks read: $EVALD_DASH_DB (made with
// `go run ./bench/dashboard`), else a small plan generated once.
func benchDB(b *testing.B) (string, Plan) {
	b.Helper()
	if path := os.Getenv("EVALD_DASH_DB"); path != "" {
		return path, DefaultPlan()
	}
	path := filepath.Join(b.TempDir(), "small.db")
	p := smallPlan()
	if _, err := Generate(context.Background(), path, p, nil); err != nil {
		b.Fatal(err)
	}
	return path, p
}

// BenchmarkPages times each page over loopback:
//
//	EVALD_DASH_DB=$PWD/bench/out/dashboard/year.db go test -run '^$' -bench . ./bench/dashboard
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	path, p := benchDB(b)
	st, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s, err := server.New(server.Options{Addr: "127.0.0.1:0", Store: st, Daemon: benchDaemon{pairs: p.Pairs(), next: p.Now().Add(time.Minute)}, Now: p.Now})
	if err != nil {
		b.Fatal(err)
	}
	s.Start()
	defer s.Stop(ctx)
	pages, err := Pages(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	for _, page := range pages {
		b.Run(strings.NewReplacer("/", "_", "?", "_").Replace(page), func(b *testing.B) {
			for b.Loop() {
				resp, err := http.Get("http://" + s.Addr() + page)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s = %d", page, resp.StatusCode)
				}
			}
		})
	}
}
