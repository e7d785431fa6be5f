package server

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/evald/evald/store"
)

// TestBucketSeriesMatchesRuns: the chart buckets the store sums in SQL and
// the runs where something changed give the same series and the same events
// as reading every run and grouping in Go.
func TestBucketSeriesMatchesRuns(t *testing.T) {
	ctx := context.Background()
	s, st := newDashServer(t)
	statuses := []store.Status{store.StatusPassed, store.StatusPassed, store.StatusFailed, store.StatusRegressed, store.StatusErrored, store.StatusInterrupted}
	var runs []store.Run
	for i := range 300 {
		// Irregular times, two runs in some seconds, fractions of a second.
		at := dashNow.Add(-time.Duration(300-i)*47*time.Minute + time.Duration(i%7)*123456789*time.Nanosecond)
		r := store.Run{Suite: "bulk", Target: "prod", Trigger: "schedule", Status: statuses[i%len(statuses)],
			StartedAt: at, FinishedAt: at.Add(time.Minute), SuiteVersion: "sv1", PromptVersion: "pv1", TargetVersion: "tv1",
			Cases: 20 + i%5, Errors: i % 4 * (i % 9), Verdict: "ok"}
		if i%3 == 1 {
			r.Errors = r.Cases + 1 // more errors than cases
		}
		if i >= 100 {
			r.PromptVersion = "pv2"
		}
		if i >= 200 {
			r.TargetVersion = "tv2"
		}
		if i == 250 {
			r.SuiteVersion = "sv2"
		}
		if r.Status != store.StatusErrored {
			pr, ms := float64(i%11)/10, float64(i%13)/13
			r.PassRate, r.MeanScore = &pr, &ms
		}
		switch {
		case i%17 == 0:
			r.VerdictDetail = "" // no verdict
		case i%29 == 0:
			r.VerdictDetail = "{not json"
		case i%31 == 0:
			r.VerdictDetail = `{"kind":"regressed","page":true,"message":"drop","s":20,"h":15.5}`
		case i%37 == 0:
			r.VerdictDetail = `{"kind":"recovered","message":"back","s":0,"h":15.5}`
		case i%41 == 0:
			r.VerdictDetail = `{"kind":"ok","s":3,"h":15.5,"identity":{"changes":[{"source":"target","reason":"new model"}]}}`
		case i%5 == 0:
			r.VerdictDetail = `{"kind":"warming_up","s":9,"h":0}` // no threshold yet: not drawn
		default:
			r.VerdictDetail = fmt.Sprintf(`{"kind":"ok","s":%g,"h":%g}`, float64(i%19)/3, 15+float64(i%3))
		}
		runs = append(runs, r)
	}
	if err := st.ImportRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	since := dashNow.AddDate(0, 0, -365)
	n, first, err := st.RunSpan(ctx, "bulk", "prod", since)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := st.RunPoints(ctx, "bulk", "prod", since)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(pts) || n <= maxRunPoints || !first.Equal(pts[0].StartedAt) {
		t.Fatalf("RunSpan = %d runs from %s, want %d (more than %d) from %s", n, first, len(pts), maxRunPoints, pts[0].StartedAt)
	}
	verdicts := pointVerdicts(pts)
	t0 := first.Add(-90 * time.Minute) // an event before the first run widens the chart
	want := buildSeries(pts, verdicts, t0, dashNow)
	bs, err := st.RunBuckets(ctx, "bulk", "prod", since, t0, bucketWidth(t0, dashNow))
	if err != nil {
		t.Fatal(err)
	}
	got := bucketSeries(bs, bucketWidth(t0, dashNow))
	if got.bucket != want.bucket || len(got.at) != len(want.at) {
		t.Fatalf("bucketed series: %d points of %s, want %d of %s", len(got.at), got.bucket, len(want.at), want.bucket)
	}
	if !reflect.DeepEqual(got.at, want.at) || !reflect.DeepEqual(got.from, want.from) || !reflect.DeepEqual(got.to, want.to) {
		t.Errorf("bucket times differ:\n got %v\nwant %v", got.from, want.from)
	}
	if !reflect.DeepEqual(got.runs, want.runs) || !reflect.DeepEqual(got.measured, want.measured) ||
		!reflect.DeepEqual(got.lastID, want.lastID) || !reflect.DeepEqual(got.statuses, want.statuses) {
		t.Errorf("bucket counts differ:\n got %v %v %v %v\nwant %v %v %v %v", got.runs, got.measured, got.lastID, got.statuses,
			want.runs, want.measured, want.lastID, want.statuses)
	}
	for name, pair := range map[string][2][]float64{
		"pass": {got.pass, want.pass}, "passLo": {got.passLo, want.passLo}, "passHi": {got.passHi, want.passHi},
		"passMin": {got.passMin, want.passMin}, "passMax": {got.pMax, want.pMax},
		"score": {got.score, want.score}, "scoreLo": {got.scoreLo, want.scoreLo}, "scoreHi": {got.scoreHi, want.scoreHi},
		"scoreMin": {got.sMin, want.sMin}, "scoreMax": {got.sMax, want.sMax}, "cusum": {got.cusum, want.cusum}, "h": {got.h, want.h},
	} {
		for i := range pair[1] {
			g, w := pair[0][i], pair[1][i]
			if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > 1e-9 {
				t.Errorf("%s of bucket %d = %v, want %v", name, i, g, w)
			}
		}
	}
	if math.IsNaN(want.lastH()) || slices.Max(want.runs) < 2 {
		t.Fatal("the test data draws no CUSUM or no bucket of several runs")
	}

	cs, err := st.RunChanges(ctx, "bulk", "prod", since)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) >= len(pts)/2 {
		t.Errorf("RunChanges = %d of %d runs, want only the runs where something changed", len(cs), len(pts))
	}
	gotEv, err := s.suiteEvents(ctx, "bulk", "prod", since, dashNow, storeChanges(cs))
	if err != nil {
		t.Fatal(err)
	}
	wantEv, err := s.suiteEvents(ctx, "bulk", "prod", since, dashNow, pointChanges(pts, verdicts))
	if err != nil {
		t.Fatal(err)
	}
	if len(wantEv) < 10 || !reflect.DeepEqual(gotEv, wantEv) {
		t.Errorf("events from the changed runs:\n%v\nwant (from every run):\n%v", gotEv, wantEv)
	}
}
