package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// shapeSim is a suite whose answers have shapes: case i passes with p_i,
// answers one of three phrasings of its pass or fail answer, with a
// case-specific length, refusing now and then, at a latency.
type shapeSim struct {
	rng    *rand.Rand
	p      []float64
	k      int
	run    int64
	greedy bool    // from now on each case's answer is fixed
	fixed  []bool  // greedy outcome per case
	longer float64 // answers this many times as long
	refuse float64 // extra refusal share
	slower float64 // latency factor
}

func newShapeSim(seed uint64, n, k int) *shapeSim {
	s := &shapeSim{rng: rand.New(rand.NewPCG(seed, 7)), k: k, longer: 1, slower: 1}
	for range n {
		s.p = append(s.p, 0.3+0.6*s.rng.Float64())
	}
	for _, p := range s.p {
		s.fixed = append(s.fixed, s.rng.Float64() < p)
	}
	return s
}

func (s *shapeSim) next() RunInput {
	s.run++
	in := RunInput{RunID: s.run, SuiteVersion: "s", TargetVersion: "t", Completed: true,
		Cases: map[string][]float64{}, Shapes: map[string][]SampleShape{}}
	lat := 800 * math.Exp(0.1*s.rng.NormFloat64()) * s.slower
	for i, p := range s.p {
		id := fmt.Sprintf("c%03d", i)
		for range s.k {
			pass := s.rng.Float64() < p
			variant := s.rng.IntN(3)
			if s.greedy {
				pass, variant = s.fixed[i], i%3
			}
			x, h := 0.0, uint64(2*i+1)<<8
			if pass {
				x, h = 1, h+0x80
			}
			in.Cases[id] = append(in.Cases[id], x)
			in.Shapes[id] = append(in.Shapes[id], SampleShape{
				PromptTokens: 50, Chars: int(float64(40+i+10*variant) * s.longer), Answer: h + uint64(variant),
				Refusal: s.rng.Float64() < 0.02+s.refuse, LatencyMS: lat * math.Exp(0.2*s.rng.NormFloat64()),
			})
		}
	}
	return in
}

// TestBehaviourQuietWithoutChange: 1 200 runs with no change raise at
// most one behaviour notice (the budget, one per 8 760 runs, expects 0.14;
// two or more would happen by chance with probability under 1 %).
func TestBehaviourQuietWithoutChange(t *testing.T) {
	var notices []string
	for seed := uint64(1); seed <= 3; seed++ {
		sim := newShapeSim(seed, 48, 2)
		var st State
		for range 400 {
			var v Verdict
			st, v = Update(binCfg, st, sim.next())
			if v.Kind == KindBehaviourChanged || (v.Behaviour != nil && v.Behaviour.Changed) {
				notices = append(notices, fmt.Sprintf("seed %d run %d: %s", seed, v.RunID, v.Message))
			}
		}
	}
	if len(notices) > 1 {
		t.Errorf("%d behaviour notices in 1 200 runs without a change, want at most 1:\n%s", len(notices), strings.Join(notices, "\n"))
	}
}

// TestBehaviourGreedy replays issue 21's greedy decoding: each case's
// answer becomes fixed, pass or fail with the case's old pass rate, so the
// mean stays put while cases move both ways. A behaviour_changed verdict
// follows within one block, naming the cases and the distinct-answer
// share, with cases listed in each direction; nothing pages.
func TestBehaviourGreedy(t *testing.T) {
	sim := newShapeSim(3, 48, 2)
	var st State
	for run := 1; run <= 60; run++ {
		sim.greedy = run > 30
		var v Verdict
		st, v = Update(binCfg, st, sim.next())
		if v.Page {
			t.Fatalf("run %d paged: %s", run, v.Message)
		}
		if v.Kind != KindBehaviourChanged {
			continue
		}
		if run <= 30 || run > 30+BehaviourBlock {
			t.Fatalf("behaviour changed at run %d, want within a block of run 31", run)
		}
		b := v.Behaviour
		for _, want := range []string{"cases moved both ways", "distinct-answer share", "up most: ", "down most: "} {
			if !strings.Contains(v.Message, want) {
				t.Errorf("message %q lacks %q", v.Message, want)
			}
		}
		if len(b.Up) == 0 || len(b.Down) == 0 || b.NUp == 0 || b.NDown == 0 {
			t.Errorf("moves up %v (%d), down %v (%d); want both ways", b.Up, b.NUp, b.Down, b.NDown)
		}
		if strings.Contains(v.Message, SignalLatency) || strings.Contains(v.Message, SignalRefusal) {
			t.Errorf("message %q names a signal that did not move", v.Message)
		}
		return
	}
	t.Fatal("no behaviour_changed verdict after greedy decoding")
}

// TestBehaviourShapes: each output-shape signal that moves is named.
func TestBehaviourShapes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*shapeSim)
		want   string
	}{
		{"longer answers", func(s *shapeSim) { s.longer = 1.6 }, "answer length"},
		{"more refusals", func(s *shapeSim) { s.refuse = 0.2 }, "refusal share"},
		{"slower", func(s *shapeSim) { s.slower = 3 }, "latency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := newShapeSim(5, 48, 2)
			var st State
			for run := 1; run <= 50; run++ {
				if run == 31 {
					tc.change(sim)
				}
				var v Verdict
				st, v = Update(binCfg, st, sim.next())
				if v.Kind == KindBehaviourChanged {
					if run <= 30 || !strings.Contains(v.Message, tc.want) {
						t.Errorf("run %d: %s; want %q after run 30", run, v.Message, tc.want)
					}
					return
				}
			}
			t.Errorf("no behaviour_changed verdict naming %q", tc.want)
		})
	}
}

// A provider that only gets slower (its load; same answers, same pass
// outcomes) raises a latency notice that says the cases did not move and
// lists no case as moved: the up/down lists are the cases signal's
// evidence, noise when it did not move.
func TestBehaviourLatencyAloneListsNoCases(t *testing.T) {
	sim := newShapeSim(5, 48, 2)
	var st State
	for run := 1; run <= 50; run++ {
		if run == 31 {
			sim.slower = 3
		}
		var v Verdict
		st, v = Update(binCfg, st, sim.next())
		if v.Kind != KindBehaviourChanged {
			continue
		}
		bs := v.Behaviour
		var names []string
		for _, s := range bs.Signals {
			if s.Moved {
				names = append(names, s.Name)
			}
		}
		if !slices.Equal(names, []string{SignalLatency}) {
			t.Fatalf("run %d: signals moved %v, want latency alone: %s", run, names, v.Message)
		}
		if len(bs.Up) > 0 || len(bs.Down) > 0 {
			t.Errorf("up %v, down %v listed for a latency-only notice", bs.Up, bs.Down)
		}
		for _, bad := range []string{"up most", "down most", "cases moved"} {
			if strings.Contains(v.Message, bad) {
				t.Errorf("message %q claims %q", v.Message, bad)
			}
		}
		if !strings.Contains(v.Message, "latency ") || !strings.Contains(v.Message, "the cases did not move: pass rate") {
			t.Errorf("message %q, want the latency and that the cases did not move", v.Message)
		}
		return
	}
	t.Fatal("no behaviour_changed verdict for a 3x latency")
}

// TestCasesSignalCalibrated: under "no change" the cases signal's p-value
// falls below α about α of the time, far into the tail, for a suite of 200
// cases with difficulties spread from 0.3 to 0.9 and a block of 6 runs
// against 20 (the null law is simulated directly, 40 000 looks).
func TestCasesSignalCalibrated(t *testing.T) {
	if testing.Short() {
		t.Skip("40 000 simulated looks")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	const looks, n, refRuns, blockRuns = 40000, 200, 20, 6
	ps := make([]float64, n)
	for i := range ps {
		ps[i] = 0.3 + 0.6*rng.Float64()
	}
	binom := func(k int, p float64) int {
		c := 0
		for range k {
			if rng.Float64() < p {
				c++
			}
		}
		return c
	}
	counts := map[float64]int{1e-2: 0, 1e-3: 0}
	for range looks {
		b := &BehaviourState{Cases: make([]string, n)}
		b.Ref.N, b.Ref.Pass = make([]int, n), make([]float64, n)
		b.Block.N, b.Block.Pass = make([]int, n), make([]float64, n)
		for i, p := range ps {
			b.Ref.N[i], b.Ref.Pass[i] = refRuns, float64(binom(refRuns, p))
			b.Block.N[i], b.Block.Pass[i] = blockRuns, float64(binom(blockRuns, p))
		}
		res := casesSignal(b, true, &BehaviourStatus{})
		for a := range counts {
			if res.P < a {
				counts[a]++
			}
		}
	}
	for a, c := range counts {
		want := a * looks
		if sd := math.Sqrt(want); math.Abs(float64(c)-want) > 4*sd+2 {
			t.Errorf("P(p < %g) = %d of %d looks, want about %.0f", a, c, looks, want)
		}
	}
}

// TestLatencySignalFloor: a steady reference makes a small slowdown highly
// significant; below LatencyMinRatio it is not reported, above it is.
func TestLatencySignalFloor(t *testing.T) {
	ref := make([]float64, 20)
	for i := range ref {
		ref[i] = math.Log(12 + 0.01*float64(i%3))
	}
	for _, tc := range []struct {
		ms    float64
		moved bool
	}{{13, false}, {14.5, false}, {15.5, true}, {9, true}, {10, false}} {
		cur := []float64{math.Log(tc.ms), math.Log(tc.ms), math.Log(tc.ms)}
		r := latencySignal(ref, cur)
		if got := r.P < 1e-6; got != tc.moved {
			t.Errorf("12 ms → %.1f ms: p = %.3g, moved %v, want %v", tc.ms, r.P, got, tc.moved)
		}
	}
}
