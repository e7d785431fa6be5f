package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// suiteSim makes runs of a synthetic suite for the detector tests: case i
// passes with probability p[i]·(1 − drop/mean(p)).
type suiteSim struct {
	rng   *rand.Rand
	p     []float64
	k     int
	drop  float64
	suite string
	fps   map[string]int
	model string
	judge map[string]int
	run   int64
}

func newSuiteSim(seed uint64, n, k int) *suiteSim {
	s := &suiteSim{rng: rand.New(rand.NewPCG(seed, 0x5eed)), k: k, suite: "s1", model: "m-1"}
	s.p = make([]float64, n)
	for i := range s.p {
		s.p[i] = 0.6 + 0.35*s.rng.Float64()
	}
	return s
}

func (s *suiteSim) next() RunInput {
	s.run++
	mean := 0.0
	for _, p := range s.p {
		mean += p / float64(len(s.p))
	}
	cases := map[string][]float64{}
	for i, p := range s.p {
		q := p * (1 - s.drop/mean)
		xs := make([]float64, s.k)
		for j := range xs {
			if s.rng.Float64() < q {
				xs[j] = 1
			}
		}
		cases[fmt.Sprintf("c%03d", i)] = xs
	}
	fps := s.fps
	if fps == nil {
		fps = map[string]int{"fp_A": 90 * s.k, "fp_B": 10 * s.k}
	}
	return RunInput{
		RunID: s.run, At: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.run) * time.Hour),
		SuiteVersion: s.suite, TargetVersion: "t1", Completed: true, Cases: cases, ExpectedCases: len(s.p),
		Models: map[string]int{s.model: len(s.p) * s.k}, Fingerprints: fps, JudgeModels: s.judge,
	}
}

// feed runs n runs and returns the last state and all verdicts.
func feed(t testing.TB, cfg Config, st State, sim *suiteSim, n int) (State, []Verdict) {
	t.Helper()
	var vs []Verdict
	for range n {
		var v Verdict
		st, v = Update(cfg, st, sim.next())
		vs = append(vs, v)
	}
	return st, vs
}

var binCfg = Config{Binary: true}

func TestUpdateWarmsUpThenCompares(t *testing.T) {
	sim := newSuiteSim(1, 200, 1)
	st, vs := feed(t, binCfg, State{}, sim, 40)
	for i, v := range vs {
		want := KindOK
		if v.RefRuns < DefaultBMin {
			want = KindWarmingUp
		}
		if got := v.Kind; got != want {
			t.Errorf("run %d: Kind = %q, want %q (%s)", i+1, got, want, v.Message)
		}
	}
	// The reference takes a run only when it agreed with it: p of a drop
	// above ConsistentP (docs/drift.md §6); held runs join later, or never.
	for i := 1; i+1 < len(vs); i++ {
		v, held := vs[i], vs[i-1].RefHeld
		grew := vs[i+1].RefRuns - v.RefRuns
		if grew < 0 || v.RefRuns > DefaultBMax {
			t.Errorf("run %d: reference went from %d to %d runs", i+1, v.RefRuns, vs[i+1].RefRuns)
		}
		// Below B_min a consistent run joins at once; from B_min on it
		// waits for a streak (TestGrowthHoldsAndResumes).
		if !held && v.RefRuns < DefaultBMin && v.RefRuns > 0 {
			joinable := v.PConsistent > ConsistentP && v.S == 0
			if (grew == 1) != joinable {
				t.Errorf("run %d: reference went from %d to %d runs after a run with p = %.3g, S = %.2f",
					i+1, v.RefRuns, vs[i+1].RefRuns, v.P, v.S)
			}
		}
	}
	for _, r := range st.Ref.Runs {
		if v := vs[r-1]; r > 1 && v.PConsistent <= ConsistentP {
			t.Errorf("reference holds run %d, whose p = %.3g", r, v.PConsistent)
		}
	}
	if got, want := st.RefRuns(), DefaultBMax; got != want {
		t.Errorf("RefRuns() = %d, want %d", got, want)
	}
	if !st.Ref.Frozen || st.Ref.PerRun != nil {
		t.Errorf("reference Frozen = %v, PerRun = %d runs; want frozen without per-run sums", st.Ref.Frozen, len(st.Ref.PerRun))
	}
	if got, want := st.Ref.Runs[0], int64(1); got != want {
		t.Errorf("reference anchor = run %d, want %d", got, want)
	}
	last := vs[len(vs)-1]
	if last.Phi < 1 || last.Phi > 2 {
		t.Errorf("Phi = %g with pure sampling noise, want in [1, 2]", last.Phi)
	}
	if got, want := last.H, math.Log(8760); got != want {
		t.Errorf("H = %g, want %g", got, want)
	}
	if got, want := last.N, 200; got != want {
		t.Errorf("N = %d, want %d", got, want)
	}
}

// TestUpdateIsPure: Update never writes into the state it is given.
func TestUpdateIsPure(t *testing.T) {
	sim := newSuiteSim(2, 50, 2)
	st := State{}
	for range 30 {
		before, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		in := sim.next()
		next, _ := Update(binCfg, st, in)
		after, _ := json.Marshal(st)
		if string(before) != string(after) {
			t.Fatalf("run %d: Update modified its input state", in.RunID)
		}
		// Same inputs, same outputs.
		again, v2 := Update(binCfg, st, in)
		_, v1 := Update(binCfg, st, in)
		if diff := cmp.Diff(v1, v2); diff != "" {
			t.Fatalf("run %d: Update is not deterministic (-first +second):\n%s", in.RunID, diff)
		}
		if diff := cmp.Diff(next, again); diff != "" {
			t.Fatalf("run %d: states differ (-first +second):\n%s", in.RunID, diff)
		}
		st = next
	}
}

// TestStateJSONRoundTrip: a daemon that stores the state as JSON after
// every run and reloads it continues exactly as one that never restarted.
func TestStateJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		k    int
	}{
		{"binary", binCfg, 1},
		{"continuous", Config{}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newSuiteSim(3, 80, tc.k), newSuiteSim(3, 80, tc.k)
			var sa, sb State
			for i := range 60 {
				if i == 40 {
					a.drop, b.drop = 0.3, 0.3
				}
				ina, inb := a.next(), b.next()
				if !tc.cfg.Binary {
					for _, in := range []RunInput{ina, inb} {
						for _, xs := range in.Cases {
							for j := range xs {
								xs[j] = 0.2 + 0.6*xs[j] + 0.01*float64(j)
							}
						}
					}
				}
				var va, vb Verdict
				sa, va = Update(tc.cfg, sa, ina)
				sb, vb = Update(tc.cfg, sb, inb)
				raw, err := json.Marshal(sb)
				if err != nil {
					t.Fatal(err)
				}
				sb = State{}
				if err := json.Unmarshal(raw, &sb); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(va, vb); diff != "" {
					t.Fatalf("run %d: verdict after a JSON round trip differs (-direct +restarted):\n%s", i+1, diff)
				}
			}
			ja, _ := json.Marshal(sa)
			jb, _ := json.Marshal(sb)
			if string(ja) != string(jb) {
				t.Errorf("final states differ after JSON round trips")
			}
		})
	}
}

func TestSkippedRunsLeaveSAlone(t *testing.T) {
	sim := newSuiteSim(4, 100, 1)
	st, _ := feed(t, binCfg, State{}, sim, 10)
	sim.drop = 0.15
	st, v := Update(binCfg, st, sim.next())
	if st.S <= 0 {
		t.Fatalf("S = %g after a drop, want > 0 (verdict %s)", st.S, v.Message)
	}
	for _, tc := range []struct {
		name string
		edit func(*RunInput)
	}{
		{"errored", func(in *RunInput) { in.Completed = false }},
		{"too few cases", func(in *RunInput) {
			n := 0
			for id := range in.Cases {
				if n%5 == 0 {
					delete(in.Cases, id)
				}
				n++
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := sim.next()
			tc.edit(&in)
			next, v := Update(binCfg, st, in)
			if got, want := v.Kind, KindSkipped; got != want {
				t.Errorf("Kind = %q, want %q", got, want)
			}
			if got, want := next.S, st.S; got != want {
				t.Errorf("S = %g after a skipped run, want %g", got, want)
			}
			if got, want := next.Counters.Skipped, st.Counters.Skipped+1; got != want {
				t.Errorf("Counters.Skipped = %d, want %d", got, want)
			}
			if got, want := len(next.Ref.Runs), len(st.Ref.Runs); got != want {
				t.Errorf("reference runs = %d, want %d", got, want)
			}
		})
	}
}

func TestAlarmHoldResolve(t *testing.T) {
	sim := newSuiteSim(5, 300, 1)
	st, _ := feed(t, binCfg, State{}, sim, 25)
	sim.drop = 0.15
	st, v := Update(binCfg, st, sim.next())
	if got, want := v.Kind, KindRegressed; got != want {
		t.Fatalf("Kind = %q after a 15 pp drop on 300 cases, want %q (%s)", got, want, v.Message)
	}
	if !v.Page {
		t.Error("Page = false on the alarm run, want true")
	}
	if got, want := v.Attribution, AttributionSilent; got != want {
		t.Errorf("Attribution = %q, want %q", got, want)
	}
	if v.Evidence == nil || v.Evidence.Label != EvidenceLabel {
		t.Fatalf("Evidence = %+v, want one labelled %q", v.Evidence, EvidenceLabel)
	}
	if got := v.Evidence.Pooled.Delta; got > -0.08 {
		t.Errorf("Evidence delta = %g, want about −0.15", got)
	}
	if got := v.Evidence.Pooled.NPassToFail; got == 0 {
		t.Error("no pass→fail cases in the evidence")
	}
	held := st.S
	// Still regressed: held, no new page.
	for range 5 {
		st, v = Update(binCfg, st, sim.next())
		if v.Page || v.Kind != KindRegressed || st.S != held {
			t.Fatalf("while held: Kind %q Page %v S %g, want regressed, no page, S %g", v.Kind, v.Page, st.S, held)
		}
	}
	// Recovery after three good runs.
	sim.drop = 0
	var kinds []string
	for range 3 {
		st, v = Update(binCfg, st, sim.next())
		kinds = append(kinds, v.Kind)
	}
	if diff := cmp.Diff([]string{KindRegressed, KindRegressed, KindRecovered}, kinds); diff != "" {
		t.Errorf("kinds while recovering (-want +got):\n%s", diff)
	}
	if st.AlertOpen() || st.S != 0 {
		t.Errorf("after recovery AlertOpen = %v, S = %g; want closed, 0", st.AlertOpen(), st.S)
	}
	if got, want := st.Counters.Alerts, 1; got != want {
		t.Errorf("Counters.Alerts = %d, want %d", got, want)
	}
}

func TestAcceptReanchors(t *testing.T) {
	sim := newSuiteSim(6, 300, 1)
	st, _ := feed(t, binCfg, State{}, sim, 25)
	sim.drop = 0.2
	st, v := Update(binCfg, st, sim.next())
	if !v.Page {
		t.Fatalf("no page on a 20 pp drop: %s", v.Message)
	}
	st = Accept(st)
	if st.AlertOpen() || st.RefRuns() != 0 || st.S != 0 {
		t.Fatalf("after Accept: alert %v, B %d, S %g; want none, 0, 0", st.AlertOpen(), st.RefRuns(), st.S)
	}
	st, vs := feed(t, binCfg, st, sim, 30)
	if got, want := vs[0].Kind, KindWarmingUp; got != want {
		t.Errorf("first run after Accept: Kind = %q, want %q", got, want)
	}
	for _, v := range vs {
		if v.Page {
			t.Errorf("run %d paged after the new behaviour was accepted: %s", v.RunID, v.Message)
		}
	}
	if got, want := st.Ref.Runs[0], vs[0].RunID; got != want {
		t.Errorf("new anchor = run %d, want %d", got, want)
	}
	if got, want := st.Counters.Reanchors, 1; got != want {
		t.Errorf("Counters.Reanchors = %d, want %d", got, want)
	}
}

func TestNewSegmentShowsGateAndRestarts(t *testing.T) {
	sim := newSuiteSim(7, 300, 1)
	st, _ := feed(t, binCfg, State{}, sim, 25)
	sim.suite, sim.drop = "s2", 0.15
	st, v := Update(binCfg, st, sim.next())
	if got, want := v.Kind, KindNewSegment; got != want {
		t.Fatalf("Kind = %q, want %q", got, want)
	}
	if v.Page {
		t.Error("a version change paged")
	}
	if v.Gate == nil || !v.Gate.Worse(0.01) {
		t.Fatalf("Gate = %+v, want a significant drop", v.Gate)
	}
	if got, want := v.Segment, 2; got != want {
		t.Errorf("Segment = %d, want %d", got, want)
	}
	_, vs := feed(t, binCfg, st, sim, 30)
	for _, v := range vs {
		if v.Page {
			t.Errorf("run %d paged inside the new segment: %s", v.RunID, v.Message)
		}
	}
}

func TestIdentityChangeWithoutBehaviourChange(t *testing.T) {
	sim := newSuiteSim(8, 200, 1)
	st, _ := feed(t, binCfg, State{}, sim, 25)
	anchor := st.Ref.Runs[0]
	sim.fps = map[string]int{"fp_C": 180, "fp_A": 20}
	st, vs := feed(t, binCfg, st, sim, 10)
	if got, want := vs[0].Kind, KindIdentityChanged; got != want {
		t.Fatalf("Kind at the change = %q, want %q (%s)", got, want, vs[0].Message)
	}
	if vs[0].Identity == nil || !strings.Contains(vs[0].Identity.Changes[0].Reason, "fp_C") {
		t.Fatalf("Identity = %+v, want the fp_C change", vs[0].Identity)
	}
	concluded := 0
	for i, v := range vs {
		if v.Page {
			t.Errorf("run %d paged: %s", v.RunID, v.Message)
		}
		if v.Check != nil && v.Check.Outcome == CheckNoChange {
			concluded++
			if got, want := i+1, DefaultM; got != want {
				t.Errorf("check concluded after %d runs, want %d", got, want)
			}
			if got, want := v.Kind, KindIdentityChanged; got != want {
				t.Errorf("Kind at conclusion = %q, want %q", got, want)
			}
			if !strings.Contains(v.Message, "no behaviour change") || v.Check.MDE80 <= 0 {
				t.Errorf("conclusion %q, MDE80 %g", v.Message, v.Check.MDE80)
			}
		}
	}
	if concluded != 1 {
		t.Errorf("check concluded %d times, want 1", concluded)
	}
	if got := st.Ref.Runs[0]; got != anchor {
		t.Errorf("anchor moved to run %d, want %d (identity change alone keeps it)", got, anchor)
	}
}

func TestIdentityChangeWithDropIsAttributed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*suiteSim)
		want   string
	}{
		{"fingerprint", func(s *suiteSim) { s.fps = map[string]int{"fp_C": 180, "fp_A": 20} }, "provider (identity changed at run 26)"},
		{"model", func(s *suiteSim) { s.model = "m-2" }, "provider (identity changed at run 26)"},
		{"judge", func(s *suiteSim) { s.judge = map[string]int{"judge-2": 200} }, "scorer (judge identity changed at run 26)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := newSuiteSim(9, 200, 1)
			sim.judge = map[string]int{"judge-1": 200}
			st, _ := feed(t, binCfg, State{}, sim, 25)
			tc.change(sim)
			sim.drop = 0.10
			_, vs := feed(t, binCfg, st, sim, 6)
			var page *Verdict
			for i := range vs {
				if vs[i].Page {
					page = &vs[i]
					break
				}
			}
			if page == nil {
				t.Fatalf("no page within 6 runs; first verdict: %s", vs[0].Message)
			}
			if got := page.Attribution; got != tc.want {
				t.Errorf("Attribution = %q, want %q", got, tc.want)
			}
			// A judge change pages as the scorer's, never as the provider's.
			scorer := tc.name == "judge"
			if (page.Kind == KindScorerChanged) != scorer || strings.Contains(page.Attribution, "scorer") != scorer {
				t.Errorf("page %s: %q; want kind %s and the message to say so exactly when the judge changed", page.Kind, page.Message, KindScorerChanged)
			}
			if got, want := page.ChangeRun, int64(26); got != want {
				t.Errorf("ChangeRun = %d, want %d", got, want)
			}
		})
	}
}

func TestEvidenceByTag(t *testing.T) {
	sim := newSuiteSim(10, 300, 1)
	st, _ := feed(t, binCfg, State{}, sim, 25)
	in := sim.next()
	tags := map[string][]string{}
	for id := range in.Cases {
		var n int
		fmt.Sscanf(id, "c%d", &n)
		tag := "stable"
		if n%2 == 0 {
			tag = "broken"
			in.Cases[id] = []float64{0}
		}
		tags[id] = []string{tag, "all"}
	}
	in.Tags = tags
	_, v := Update(binCfg, st, in)
	if !v.Page || v.Evidence == nil {
		t.Fatalf("no alarm with evidence: %s", v.Message)
	}
	got := map[string]TagEvidence{}
	for _, e := range v.Evidence.ByTag {
		got[e.Tag] = e
	}
	if b, s := got["broken"], got["stable"]; b.Q >= 0.05 || s.Q < 0.05 || b.N != 150 {
		t.Errorf("ByTag = %+v, want broken significant (N=150) and stable not", v.Evidence.ByTag)
	}
}

func TestDroppedCases(t *testing.T) {
	sim := newSuiteSim(11, 100, 1)
	st, _ := feed(t, binCfg, State{}, sim, 21)
	in := sim.next()
	delete(in.Cases, "c000")
	delete(in.Cases, "c001")
	in.Cases["brand-new"] = []float64{1}
	_, v := Update(binCfg, st, in)
	if got, want := v.N, 98; got != want {
		t.Errorf("N = %d, want %d", got, want)
	}
	if got, want := v.DroppedCases, 3; got != want {
		t.Errorf("DroppedCases = %d, want %d", got, want)
	}
}

// TestDeterministicSuite: a suite whose cases always give the same answer
// must not divide by zero (the 1/(2N) floor) and must still see a change.
func TestDeterministicSuite(t *testing.T) {
	mk := func(id int64, fail int) RunInput {
		cases := map[string][]float64{}
		for i := range 100 {
			x := 1.0
			if i < 30 || (i >= 30 && i < 30+fail) {
				x = 0
			}
			cases[fmt.Sprintf("c%03d", i)] = []float64{x}
		}
		return RunInput{RunID: id, SuiteVersion: "s", TargetVersion: "t", Completed: true, Cases: cases}
	}
	var st State
	var v Verdict
	for i := range 25 {
		st, v = Update(binCfg, st, mk(int64(i+1), 0))
		if math.IsNaN(v.S) || math.IsInf(v.S, 0) || v.Page {
			t.Fatalf("run %d: S = %g, Page = %v", i+1, v.S, v.Page)
		}
	}
	st, v = Update(binCfg, st, mk(26, 10))
	if !v.Page {
		t.Errorf("a deterministic 10 pp drop did not page: %s", v.Message)
	}
	// The change began with the run that pages: "since run 26" on run 26
	// reads as if it were an earlier one.
	if want := "pass rate -10.0 pp at this run (95% CI"; v.Evidence.FromRun != 26 || !strings.HasPrefix(v.Message, want) {
		t.Errorf("message of a page whose evidence starts at the run itself = %q (from run %d), want it to start %q", v.Message, v.Evidence.FromRun, want)
	}
	if _, err := json.Marshal(v); err != nil {
		t.Errorf("verdict does not encode: %v", err)
	}
	if _, err := json.Marshal(st); err != nil {
		t.Errorf("state does not encode: %v", err)
	}
}

func TestAlarmMessageNamesTheChangeRun(t *testing.T) {
	v := Verdict{RunID: 30, Kind: KindRegressed, Attribution: AttributionSilent,
		Evidence: &Evidence{FromRun: 28, Pooled: Comparison{Delta: -0.2, CILow: -0.3, CIHigh: -0.1, PDrop: 0.001, NPassToFail: 1}}}
	if got, want := alarmMessage(binCfg, v), "pass rate -20.0 pp since run 28 (95% CI on these cases -30.0 pp to -10.0 pp, one-sided p = 0.001, "+EvidenceLabel+"); 1 case pass→fail, 0 fail→pass; "+AttributionSilent; got != want {
		t.Errorf("alarmMessage = %q, want %q", got, want)
	}
	v.RunID = 28
	if got := alarmMessage(binCfg, v); !strings.Contains(got, "-20.0 pp at this run (") || strings.Contains(got, "since") {
		t.Errorf("alarmMessage when the change began at this run = %q, want \"at this run\"", got)
	}
	at := func(h int) time.Time { return time.Date(2026, 12, 7, h, 0, 0, 0, time.UTC) }
	v.Evidence.Reference = []RefRun{{1, at(1)}, {2, at(2)}, {3, at(3)}, {5, at(5)}}
	if got, want := alarmMessage(binCfg, v), "; measured against reference runs 1–3, 5 (2026-12-07 01:00:00 to 2026-12-07 05:00:00 UTC)"; !strings.HasSuffix(got, want) {
		t.Errorf("alarmMessage = %q, want it to end in %q", got, want)
	}
}

func TestDescribeRuns(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 12, 7, 10, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		runs []RefRun
		want string
	}{
		{nil, "no runs"},
		{[]RefRun{{Run: 4}}, "run 4"},
		{[]RefRun{{4, at(0)}}, "run 4 (2026-12-07 10:00:00 UTC)"},
		{[]RefRun{{1, at(0)}, {2, at(3)}, {4, at(9)}, {5, at(12)}, {6, at(15)}}, "runs 1, 2, 4–6 (2026-12-07 10:00:00 to 2026-12-07 10:15:00 UTC)"},
		{[]RefRun{{7, time.Time{}}, {8, at(5)}}, "runs 7, 8 (2026-12-07 10:05:00 UTC)"},
	} {
		if got := DescribeRuns(tc.runs); got != tc.want {
			t.Errorf("DescribeRuns(%v) = %q, want %q", tc.runs, got, tc.want)
		}
	}
}

func TestARL0For(t *testing.T) {
	for _, tc := range []struct {
		interval, budget time.Duration
		want             float64
	}{
		{time.Hour, Year, 8760},
		{24 * time.Hour, Year, 365},
		{15 * time.Minute, Year, 35040},
		{0, Year, DefaultARL0},
	} {
		if got := ARL0For(tc.interval, tc.budget); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("ARL0For(%v, %v) = %g, want %g", tc.interval, tc.budget, got, tc.want)
		}
	}
	if got, want := (Config{ARL0: 8760}).H(), 9.077951183930438; math.Abs(got-want) > 1e-12 {
		t.Errorf("H() = %.15g, want %.15g", got, want)
	}
}

func TestConfigDefaults(t *testing.T) {
	want := Config{MinEffect: 0.05, ZGuard: 2, BMin: 3, BMax: 20, ARL0: 8760, Alpha: 0.01, M: 6}
	if diff := cmp.Diff(want, DefaultConfig()); diff != "" {
		t.Errorf("DefaultConfig() (-want +got):\n%s", diff)
	}
	if got := (Config{ZGuard: -1}).WithDefaults().ZGuard; got != 0 {
		t.Errorf("negative ZGuard gives %g, want 0 (guard off)", got)
	}
}

func TestIdentityShift(t *testing.T) {
	base := Distribution{Models: map[string]int{"m": 100}, Fingerprints: map[string]int{"fp_A": 90, "fp_B": 10}}
	for _, tc := range []struct {
		name string
		now  Distribution
		want bool
	}{
		{"same", Distribution{Models: map[string]int{"m": 10}, Fingerprints: map[string]int{"fp_A": 8, "fp_B": 2}}, false},
		{"minority flips to majority", Distribution{Fingerprints: map[string]int{"fp_A": 4, "fp_B": 6}}, false},
		{"new majority fingerprint", Distribution{Fingerprints: map[string]int{"fp_C": 6, "fp_A": 4}}, true},
		{"new minority fingerprint", Distribution{Fingerprints: map[string]int{"fp_C": 4, "fp_A": 6}}, false},
		{"new model", Distribution{Models: map[string]int{"m": 9, "m-2": 1}}, true},
		{"no data", Distribution{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reason, got := IdentityShift(base, tc.now)
			if got != tc.want {
				t.Errorf("IdentityShift(%v) = %v (%q), want %v", tc.now, got, reason, tc.want)
			}
		})
	}
}

// TestContinuousDetector: mean scores in [0,1] use the paired t and still
// alarm on a drop.
func TestContinuousDetector(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 0x5eed))
	base := make([]float64, 150)
	for i := range base {
		base[i] = 0.5 + 0.4*rng.Float64()
	}
	mk := func(id int64, drop float64) RunInput {
		cases := map[string][]float64{}
		for i, m := range base {
			xs := make([]float64, 3)
			for j := range xs {
				xs[j] = math.Min(1, math.Max(0, m-drop+0.1*rng.NormFloat64()))
			}
			cases[fmt.Sprintf("c%03d", i)] = xs
		}
		return RunInput{RunID: id, SuiteVersion: "s", TargetVersion: "t", Completed: true, Cases: cases}
	}
	cfg := Config{}
	var st State
	var v Verdict
	for i := range 25 {
		st, v = Update(cfg, st, mk(int64(i+1), 0))
		if v.Page {
			t.Fatalf("false alarm at run %d", i+1)
		}
	}
	if got, want := v.Test, TestPairedT; got != want {
		t.Errorf("Test = %q, want %q", got, want)
	}
	_, v = Update(cfg, st, mk(26, 0.08))
	if !v.Page || v.Evidence.Pooled.Test != TestPairedT {
		t.Errorf("8-point drop in mean score: Page %v, %s", v.Page, v.Message)
	}
}

// TestStateSizeIsOCases: the persisted state grows with the cases, not
// with the runs: per-run sums are kept only while the reference grows.
func TestStateSizeIsOCases(t *testing.T) {
	sim := newSuiteSim(13, 2000, 5)
	st := State{}
	var growing, frozen []int
	for i := range 60 {
		st, _ = Update(binCfg, st, sim.next())
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if i < DefaultBMax-1 {
			growing = append(growing, len(b))
		} else {
			frozen = append(frozen, len(b))
		}
	}
	last := frozen[len(frozen)-1]
	t.Logf("state JSON: %d bytes growing (B = 19), %d bytes frozen, 2000 cases", growing[len(growing)-1], last)
	if per := last / 2000; per > 40 {
		t.Errorf("frozen state = %d bytes per case, want ≤ 40", per)
	}
	if frozen[0] != last {
		// Only the counters, S and small pools may change once frozen.
		if d := last - frozen[0]; d > 2000*8 {
			t.Errorf("frozen state grew by %d bytes over 40 runs", d)
		}
	}
}

// TestPhiAlwaysApplied: the measured φ inflates SE_cur and SE_base as
// max(1, φ̂), with no significance gate (DRIFT.md §5); FixedPhi overrides.
func TestPhiAlwaysApplied(t *testing.T) {
	ref := func(b int, phi float64) Reference { return Reference{Runs: make([]int64, b), Phi: phi} }
	for _, tc := range []struct {
		name                  string
		cfg                   Config
		ref                   Reference
		wantApplied, wantMeas float64
	}{
		{"empty reference", binCfg, Reference{}, 1, 1},
		{"B=20", binCfg, ref(20, 1.5), 1.5, 1.5},
		{"B=5", binCfg, ref(5, 1.9), 1.9, 1.9},
		{"below 1 is 1", binCfg, ref(20, 0.7), 1, 1},
		{"forced", Config{Binary: true, FixedPhi: 1}, ref(20, 3), 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applied, meas := phiOf(tc.cfg, tc.ref)
			if applied != tc.wantApplied || meas != tc.wantMeas {
				t.Errorf("phiOf = (%g, %g), want (%g, %g)", applied, meas, tc.wantApplied, tc.wantMeas)
			}
		})
	}
	// Both parts of the standard error carry it.
	cur := RunScores{Sum: []float64{1, 0, 1, 1}, Count: []int{2, 2, 2, 2}}
	refS := RunScores{Sum: []float64{10, 4, 18, 19}, Count: []int{20, 20, 20, 20}}
	one, four := PairedRun(refS, cur, true, 1), PairedRun(refS, cur, true, 4)
	if math.Abs(four.SECur-2*one.SECur) > 1e-12 || math.Abs(four.SEBase-2*one.SEBase) > 1e-12 {
		t.Errorf("φ = 4: SE_cur %g → %g, SE_base %g → %g; want both doubled", one.SECur, four.SECur, one.SEBase, four.SEBase)
	}
}

// A t interval over a handful of cases can reach past ±100 pp; the
// reported interval stays within what a change of [0, 1] scores can be.
func TestComparisonCIClipped(t *testing.T) {
	ref := RunScores{Sum: []float64{10, 10, 10}, Count: []int{10, 10, 10}}
	cur := RunScores{Sum: []float64{0, 0, 1}, Count: []int{1, 1, 1}}
	c := compareAgg([]string{"a", "b", "c"}, ref, cur, true, nil)
	if c.Delta >= -0.5 || c.CILow != -1 || c.CIHigh > 1 || c.CIHigh <= c.Delta {
		t.Errorf("Delta %g, CI [%g, %g]; want a drop with its interval clipped at -1", c.Delta, c.CILow, c.CIHigh)
	}
}
