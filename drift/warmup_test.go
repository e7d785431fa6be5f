package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// replayRun is one run of 24 cases × 2 repeats with the given number of
// passing samples: whole cases pass first, the odd sample goes to case
// `odd` (so that the reference is not perfectly deterministic).
func replayRun(id int64, passes, odd int) RunInput {
	cases := map[string][]float64{}
	left := passes
	for i := range 24 {
		cases[fmt.Sprintf("q%02d", i)] = []float64{0, 0}
	}
	for i := 0; left >= 2 && i < 24; i++ {
		cases[fmt.Sprintf("q%02d", i)] = []float64{1, 1}
		left -= 2
	}
	if left == 1 {
		cases[fmt.Sprintf("q%02d", odd)][0] = 1
	}
	return RunInput{
		RunID: id, At: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).Add(time.Duration(id) * 3 * time.Second),
		SuiteVersion: "sv", TargetVersion: "tv", Completed: true, Cases: cases, ExpectedCases: 24,
		// The server came back with another model under the same name and
		// fingerprint: the identity never changes.
		Models: map[string]int{"model.gguf": 48}, Fingerprints: map[string]int{"b1-abc": 48},
	}
}

// TestReplayModelSwapDuringWarmUp replays the incident of docs/drift.md §6:
// llama.cpp's server swapped the model behind the same name after 7 runs
// of a 24-case suite (2 repeats) run every 3 s; the pass rate fell from
// 0.85 to 0.40, then 0.06, 0.06, 0.06, 0.04, and the detector said "ok" on
// every later run because each one joined the still-growing reference. It
// must page by the second run after the swap, as a silent provider change,
// against a reference holding none of the new model's runs.
func TestReplayModelSwapDuringWarmUp(t *testing.T) {
	cfg := Config{Binary: true, ARL0: ARL0For(3*time.Second, Year)}
	if got := cfg.H(); math.Abs(got-16.17) > 0.005 {
		t.Fatalf("H at a 3 s cadence with a one-year budget = %.3f, want 16.17 as in the incident", got)
	}
	// 41 of 48 samples is the 0.85 of the log; 19, 3, 3, 3, 2 its 0.40,
	// 0.06 and 0.04.
	passes := []int{41, 41, 41, 41, 41, 41, 41, 19, 3, 3, 3, 2}
	var st State
	paged := 0
	for i, n := range passes {
		id := int64(i + 1)
		var v Verdict
		st, v = Update(cfg, st, replayRun(id, n, 20+i%4))
		t.Logf("run %2d pass %.2f %s", id, float64(n)/48, v.Message)
		for _, r := range st.Ref.Runs {
			if r >= 8 {
				t.Fatalf("run %d: the reference holds run %d of the new model: %v", id, r, st.Ref.Runs)
			}
		}
		if v.Phi > 1.5 || v.PhiMeasured > 1.5 {
			t.Errorf("run %d: φ = %.2f (measured %.2f); the reference runs agree with each other, want ≤ 1.5", id, v.Phi, v.PhiMeasured)
		}
		if !v.Page {
			continue
		}
		paged++
		if id < 8 || id > 9 {
			t.Fatalf("run %d paged (%s), want the page at run 8 or 9", id, v.Message)
		}
		if v.Kind != KindRegressed || v.Attribution != AttributionSilent {
			t.Errorf("run %d: Kind %q, attribution %q; want %q, %q", id, v.Kind, v.Attribution, KindRegressed, AttributionSilent)
		}
		e := v.Evidence
		if e == nil || len(e.Reference) == 0 {
			t.Fatalf("run %d: page without its reference: %+v", id, e)
		}
		for _, r := range e.Reference {
			if r.Run >= 8 || r.At.IsZero() {
				t.Errorf("run %d: page measured against reference run %d at %v, want runs 1–7 with their dates", id, r.Run, r.At)
			}
		}
		if !strings.Contains(v.Message, "measured against reference runs 1–") || !strings.Contains(v.Message, "(2026-12-07 10:00:03 to 2026-12-07 10:00:") {
			t.Errorf("run %d: message %q does not name the reference runs and dates", id, v.Message)
		}
	}
	if paged != 1 {
		t.Errorf("%d pages, want exactly 1 (then held while the alert is open)", paged)
	}
}

// TestGrowthHoldsAndResumes: an inconsistent run holds growth; three
// consistent runs lift the hold; held runs never join.
func TestGrowthHoldsAndResumes(t *testing.T) {
	sim := newSuiteSim(11, 200, 1)
	st, _ := feed(t, binCfg, State{}, sim, 6)
	if got := st.RefRuns(); got < 4 {
		t.Fatalf("after 6 quiet runs the reference has %d runs, want at least 4", got)
	}
	b := st.RefRuns()
	sim.drop = 0.25
	st, v := Update(binCfg, st, sim.next())
	if !v.RefHeld || v.HeldSince != v.RunID || st.RefRuns() != b {
		t.Fatalf("after a 25 pp drop: held %v since %d, reference %d runs; want held at run %d with %d runs (%s)",
			v.RefHeld, v.HeldSince, st.RefRuns(), v.RunID, b, v.Message)
	}
	if !v.Page || v.Trigger != TriggerSingleRun && v.Trigger != TriggerCUSUM {
		t.Errorf("a 25 pp drop on 200 cases: page %v, trigger %q; want a page at once (%s)", v.Page, v.Trigger, v.Message)
	}
	// Accepting the new behaviour re-anchors; growth starts over unheld.
	st = Accept(st)
	if st.Growth.Held || st.RefRuns() != 0 {
		t.Fatalf("Accept left growth %+v and %d reference runs", st.Growth, st.RefRuns())
	}

	// Without an alert: a run held by S > 0 alone waits, and joins with
	// the runs after it once three consistent runs follow.
	sim = newSuiteSim(12, 200, 1)
	st, _ = feed(t, binCfg, State{}, sim, 5)
	st.S = 8 // an excursion in progress, below H
	b = st.RefRuns()
	st, v = Update(binCfg, st, sim.next())
	if v.S == 0 || v.PConsistent <= ConsistentP {
		t.Fatalf("the test needs a run with S > 0 and p > %g after it: S = %.2f, p = %.3g", ConsistentP, v.S, v.P)
	}
	if !v.RefHeld || st.RefRuns() != b || len(st.Growth.Pending) == 0 || st.Growth.Pending[len(st.Growth.Pending)-1].Run != v.RunID {
		t.Fatalf("a run with S = %.2f after it: held %v, reference %d → %d runs, %d pending; want held and pending",
			v.S, v.RefHeld, b, st.RefRuns(), len(st.Growth.Pending))
	}
	for range 30 {
		if !st.Growth.Held {
			break
		}
		prev := st
		st, v = Update(binCfg, st, sim.next())
		switch {
		case st.Growth.Held && st.RefRuns() != prev.RefRuns():
			t.Fatalf("run %d joined the reference while growth was held", v.RunID)
		case !st.Growth.Held:
			// The hold lifted: the runs held joined, the last two of the
			// streak still wait.
			if got, want := st.RefRuns(), prev.RefRuns()+len(prev.Growth.Pending)+1-(ResumeAfter-1); got != want {
				t.Errorf("hold lifted at run %d: reference %d runs, want %d (%d pending + this run − %d)", v.RunID, got, want, len(prev.Growth.Pending), ResumeAfter-1)
			}
		case v.PConsistent > ConsistentP && v.S == 0 && st.Growth.Streak != prev.Growth.Streak+1:
			t.Fatalf("run %d was consistent but the streak went %d → %d", v.RunID, prev.Growth.Streak, st.Growth.Streak)
		}
	}
	if st.Growth.Held {
		t.Fatalf("growth still held after 30 quiet runs: %+v", st.Growth)
	}
	if !slices.Contains(st.Ref.Runs, 6) {
		t.Errorf("reference runs %v: want the held run 6 to have joined", st.Ref.Runs)
	}
}

// TestSingleRunAlarmBeforeBMin: a catastrophic drop pages on its first run
// against a one-run reference, through the single-run alarm alone.
func TestSingleRunAlarmBeforeBMin(t *testing.T) {
	sim := newSuiteSim(13, 24, 2)
	st, _ := feed(t, binCfg, State{}, sim, 1)
	sim.drop = 0.5
	cfg := binCfg
	st, v := Update(cfg, st, sim.next())
	if v.G >= v.H {
		t.Fatalf("the CUSUM reached H = %.2f in one run (g = %.2f); the test needs a drop only the single-run alarm sees", v.H, v.G)
	}
	if !v.Page || v.Trigger != TriggerSingleRun || v.RefRuns != 1 {
		t.Fatalf("a 50 pp drop against one reference run: page %v, trigger %q, B = %d (%s)", v.Page, v.Trigger, v.RefRuns, v.Message)
	}
	if v.PMinEffect >= v.Alpha1 || v.Alpha1 != 1/cfg.WithDefaults().ARL0 {
		t.Errorf("PMinEffect = %g, Alpha1 = %g; want PMinEffect < Alpha1 = 1/ARL0", v.PMinEffect, v.Alpha1)
	}
	if st.RefRuns() != 1 {
		t.Errorf("the paging run joined the reference: %v", st.Ref.Runs)
	}
}

// TestPhiRobustToOneOutlier: one run far below the others cannot carry φ
// (docs/drift.md §6), where the plain leave-one-out mean would.
func TestPhiRobustToOneOutlier(t *testing.T) {
	sim := newSuiteSim(14, 24, 2)
	var ref Reference
	for i := range 8 {
		if i == 7 {
			sim.drop = 0.45
		}
		in := sim.next()
		ids := make([]string, 0, 24)
		for j := range 24 {
			ids = append(ids, fmt.Sprintf("c%03d", j))
		}
		if i == 0 {
			ref.Cases = ids
			ref.Sum, ref.Count = make([]float64, 24), make([]int, 24)
		}
		ref.add(in, aggregateRun(in.Cases, ref.Cases, true), true, 20)
	}
	plain := 0.0
	for _, z := range ref.looZ2(true, -1) {
		plain += z / 8
	}
	if plain < 3 {
		t.Fatalf("plain leave-one-out mean Z² = %.2f with one run 45 pp down; the test needs an outlier that moves it", plain)
	}
	// The same reference without the outlying run.
	clean := ref.clone()
	last := clean.PerRun[7]
	for i := range clean.Sum {
		clean.Sum[i] -= at(last.Sum, i)
		clean.Count[i] -= at(last.Count, i)
	}
	clean.PerRun, clean.Runs = clean.PerRun[:7], clean.Runs[:7]
	// The outlier is set aside entirely: φ is the other seven runs'
	// leave-one-out mean Z² among themselves, rescaled for the trimming.
	among := 0.0
	for _, z := range clean.looZ2(true, -1) {
		among += z / 7
	}
	got, want := ref.Overdispersion(true), math.Max(1, among/trimmedPhiMean(8))
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("Overdispersion = %.4f with one outlying run, want %.4f (the other runs alone)", got, want)
	}
	if got > plain/2 {
		t.Errorf("Overdispersion = %.2f, plain mean %.2f: the outlier still carries φ", got, plain)
	}
}

// TestTrimmedPhiMean re-checks the table by Monte Carlo on Gaussian run
// means: the trimmed estimate divided by trimmedPhiMean has mean 1.
func TestTrimmedPhiMean(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, b := range []int{5, 8, 20, 40} {
		const reps = 40000
		x := make([]float64, b)
		sum := 0.0
		for range reps {
			m := 0.0
			for i := range x {
				x[i] = rng.NormFloat64()
				m += x[i] / float64(b)
			}
			w := 0
			for i := range x {
				if math.Abs(x[i]-m) > math.Abs(x[w]-m) {
					w = i
				}
			}
			m2, ss := 0.0, 0.0
			for i := range x {
				if i != w {
					m2 += x[i] / float64(b-1)
				}
			}
			for i := range x {
				if i != w {
					ss += (x[i] - m2) * (x[i] - m2)
				}
			}
			sum += ss / float64(b-2)
		}
		if got, want := sum/reps, trimmedPhiMean(b); math.Abs(got-want) > 0.015 {
			t.Errorf("Monte Carlo trimmed mean at B = %d: %.4f, table %.4f", b, got, want)
		}
	}
	if got := trimmedPhiMean(200); got <= trimmedPhiMean(100) || got >= 1 {
		t.Errorf("trimmedPhiMean(200) = %.4f, want between trimmedPhiMean(100) = %.4f and 1", got, trimmedPhiMean(100))
	}
}

// TestOldStateDecodes: a state stored before the growth hold and the
// reference dates existed decodes and carries on.
func TestOldStateDecodes(t *testing.T) {
	sim := newSuiteSim(15, 50, 1)
	st, _ := feed(t, binCfg, State{}, sim, 6)
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "growth")
	delete(m["reference"].(map[string]any), "at")
	old, _ := json.Marshal(m)
	var back State
	if err := json.Unmarshal(old, &back); err != nil {
		t.Fatalf("old state does not decode: %v", err)
	}
	if back.Growth.Held || len(back.Ref.At) != 0 || back.Schema != StateSchema {
		t.Fatalf("old state decoded to growth %+v, %d dates, schema %d", back.Growth, len(back.Ref.At), back.Schema)
	}
	next := back
	for range 30 {
		if next, _ = Update(binCfg, next, sim.next()); next.RefRuns() > back.RefRuns()+1 {
			break
		}
	}
	if len(next.Ref.At) != len(next.Ref.Runs) {
		t.Fatalf("after more runs: %d dates for %d reference runs", len(next.Ref.At), len(next.Ref.Runs))
	}
	for i, r := range next.Ref.RefRuns() {
		if known := !r.At.IsZero(); known != (i >= back.RefRuns()) {
			t.Errorf("reference run %d: date %v; want unknown only for the runs stored before", r.Run, r.At)
		}
	}
}

// TestLowRunWaitsThenJoins: a run whose p of a drop is ≤ ConsistentP does
// not join a growing reference at once, but waits like a held run and
// joins once ResumeAfter consistent runs show it was noise (docs/drift.md
// "As built" (6)): keeping the low tail of the noise out for good biased
// the reference upwards and φ̂ downwards.
func TestLowRunWaitsThenJoins(t *testing.T) {
	found := false
	for seed := uint64(1); seed <= 40 && !found; seed++ {
		sim := newSuiteSim(seed, 200, 1)
		st, _ := feed(t, binCfg, State{}, sim, 5)
		sim.drop = 0.07
		var low Verdict
		st, low = Update(binCfg, st, sim.next())
		if low.P > ConsistentP || low.Page || slices.Contains(st.Ref.Runs, low.RunID) {
			continue // not the case under test: the run was not low, or paged
		}
		sim.drop = 0
		st, vs := feed(t, binCfg, st, sim, 6)
		if slices.ContainsFunc(vs, func(v Verdict) bool { return v.Page }) {
			continue
		}
		found = true
		if !slices.Contains(st.Ref.Runs, low.RunID) {
			t.Errorf("seed %d: run %d (p = %.3g) never joined after %d quiet runs; reference %v", seed, low.RunID, low.P, len(vs), st.Ref.Runs)
		}
	}
	if !found {
		t.Fatal("no seed gave a low run that did not page; the test needs another setup")
	}
}

// TestExcursionAlarm: two runs of a large change against a one-run
// reference page on the second through the pooled excursion test when
// neither run alone is below α_1, and only then.
func TestExcursionAlarm(t *testing.T) {
	n := 0
	for seed := uint64(1); seed <= 200; seed++ {
		sim := newSuiteSim(seed, 24, 2)
		st, _ := feed(t, binCfg, State{}, sim, 1)
		sim.drop = 0.35
		st, first := Update(binCfg, st, sim.next())
		if first.Page {
			continue
		}
		_, second := Update(binCfg, st, sim.next())
		if second.Trigger != TriggerExcursion {
			continue
		}
		n++
		if !second.Page || second.PExcursion >= second.Alpha1 || second.PMinEffect < second.Alpha1 || second.S >= second.H {
			t.Errorf("seed %d: excursion page %v with p %.3g (α_1 %.3g), single-run p %.3g, S %.2f of %.2f",
				seed, second.Page, second.PExcursion, second.Alpha1, second.PMinEffect, second.S, second.H)
		}
		if !strings.Contains(second.Message, "excursion alarm") {
			t.Errorf("seed %d: message %q does not say what paged", seed, second.Message)
		}
	}
	if n == 0 {
		t.Fatal("no replicate paged through the excursion test")
	}
}
