package drift

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Behaviour changed, mean unchanged (issue 21). Greedy decoding once moved
// 18 of 48 cases by 50 pp or more, some up and some down, while the pass
// rate stayed at 0.50: the CUSUM, which watches the suite's mean, cannot
// see that. Beside it the detector runs five two-sided signals on a block
// of recent runs against a behaviour reference:
//
//   - cases: per case, the block's passes against the reference's,
//     conditional on the case's total (hypergeometric, as CMH's strata), as
//     z_i² summed over cases: Q = Σ z_i². Under "no change" E[z_i²] = 1,
//     and the variance and third moment of each z_i² come exactly from
//     its hypergeometric law; Q is referred to the shifted, scaled χ² with
//     those three moments (Pearson type III, Wilson–Hilferty). Each case is
//     compared with itself, so moves up and down add instead of
//     cancelling, and case difficulty does not enter.
//   - answer length: per case, the mean log(1 + characters), block minus
//     reference, paired t over cases (two-sided);
//   - distinct-answer share: per case, the pairs of answers (two by two, in
//     order) that fall in the same hash bucket, block against reference,
//     cases as strata (CMH two-sided; see distinctSignal);
//   - refusal share: refusals of the block against the reference's, cases
//     as strata (CMH two-sided; exact mid-p when its variance is small);
//   - latency: per run, the mean log latency, block runs against reference
//     runs, with the spread of the reference runs (latency moves with the
//     provider's load, a run-level effect that a per-case pairing would
//     count as many independent ones).
//
// Budget: the same false-page budget as the CUSUM, one per suite per year
// at the suite's cadence. Each run is one look at each of the five
// signals, at level 1/(5·ARL0): by Bonferroni over signals and looks, the
// expected number of false notices in ARL0 runs is at most one. Measured on
// the simulation benchmark's S0 cells (bench/drift/RESULTS.md).
//
// The block is tumbling: it collects up to BehaviourBlock runs and then
// starts over, and it is looked at after each run. The behaviour reference
// is the first BMax eligible runs since the drift reference (re)started
// (its own pools, so that a notice can re-anchor it without touching the
// drift reference); a change during those runs is absorbed, as the drift
// reference of docs/drift.md §1 was before §6. After a notice the
// reference restarts from the next run, so one change gives one notice.

const (
	// BehaviourBlock is the most runs a block pools.
	BehaviourBlock = 12
	// BehaviourMinRuns is the fewest runs a block needs to be judged.
	BehaviourMinRuns = 3
	// BehaviourSignals is the number of signals the budget is split over.
	BehaviourSignals = 5
	// MaxMoved caps the cases listed in each direction.
	MaxMoved = 5
	// answerBuckets is how many buckets a case's answers are hashed into
	// for the distinct-answer share.
	answerBuckets = 64
)

// Signal names, as the notice names them.
const (
	SignalCases    = "cases"
	SignalLength   = "answer length"
	SignalDistinct = "distinct-answer share"
	SignalRefusal  = "refusal share"
	SignalLatency  = "latency"
)

// SampleShape is what one valid answer looked like, beside its score.
type SampleShape struct {
	// PromptTokens is what the provider reported for the request (0: not
	// reported).
	PromptTokens int `json:"prompt_tokens,omitempty"`
	// Chars is the answer's length in characters.
	Chars int `json:"chars,omitempty"`
	// Answer is a hash of the normalised answer, for the distinct-answer
	// share (0: unknown).
	Answer uint64 `json:"answer,omitempty"`
	// Refusal is true when the answer declines (content filter or a
	// refusal phrase; the daemon decides).
	Refusal bool `json:"refusal,omitempty"`
	// LatencyMS is the time to the answer (0: unknown).
	LatencyMS float64 `json:"latency_ms,omitempty"`
}

// BehaviourState is the behaviour monitor's memory: the reference and the
// current block, per case aligned with Cases (new cases are appended).
type BehaviourState struct {
	Cases []string  `json:"cases,omitempty"`
	Ref   ShapePool `json:"reference"`
	Block ShapePool `json:"block"`
	// Notices counts behaviour notices.
	Notices int `json:"notices,omitempty"`
}

// ShapePool pools runs per case (arrays aligned with BehaviourState.Cases,
// shorter when later cases have no sample): passes, and the shapes when
// the runs carried any.
type ShapePool struct {
	Runs  int   `json:"runs"`
	First int64 `json:"first,omitempty"`
	Last  int64 `json:"last,omitempty"`
	// N counts valid samples, Pass sums their scores.
	N    []int     `json:"n,omitempty"`
	Pass []float64 `json:"pass,omitempty"`
	// Shaped counts samples with a shape, LogLen sums log(1 + characters),
	// Refusals counts refusing answers. For the distinct-answer share a
	// case's answers are taken two by two in the order they came (Open
	// holds the bucket of one waiting for its partner, +1; 0: none): Pairs
	// counts the pairs and Same those whose two answers fall in the same
	// hash bucket.
	Shaped   []int     `json:"shaped,omitempty"`
	LogLen   []float64 `json:"log_len,omitempty"`
	Refusals []int     `json:"refusals,omitempty"`
	Open     []int     `json:"open,omitempty"`
	Pairs    []int     `json:"pairs,omitempty"`
	Same     []int     `json:"same,omitempty"`
	// Latency holds each run's mean log latency (ms); runs without
	// latencies are left out.
	Latency []float64 `json:"latency,omitempty"`
}

func (p ShapePool) clone() ShapePool {
	c := p
	c.N, c.Pass = slices.Clone(p.N), slices.Clone(p.Pass)
	c.Shaped, c.LogLen, c.Refusals = slices.Clone(p.Shaped), slices.Clone(p.LogLen), slices.Clone(p.Refusals)
	c.Open, c.Pairs, c.Same = slices.Clone(p.Open), slices.Clone(p.Pairs), slices.Clone(p.Same)
	c.Latency = slices.Clone(p.Latency)
	return c
}

func (b BehaviourState) clone() BehaviourState {
	return BehaviourState{Cases: slices.Clone(b.Cases), Ref: b.Ref.clone(), Block: b.Block.clone(), Notices: b.Notices}
}

// index returns the position of each case, appending the run's new cases
// (sorted, so that the state is deterministic).
func (b *BehaviourState) index(in RunInput) map[string]int {
	idx := make(map[string]int, len(b.Cases))
	for i, id := range b.Cases {
		idx[id] = i
	}
	var fresh []string
	for id := range in.Cases {
		if _, ok := idx[id]; !ok {
			fresh = append(fresh, id)
		}
	}
	slices.Sort(fresh)
	for _, id := range fresh {
		idx[id] = len(b.Cases)
		b.Cases = append(b.Cases, id)
	}
	return idx
}

func grow[T any](xs []T, n int) []T {
	if len(xs) < n {
		xs = append(xs, make([]T, n-len(xs))...)
	}
	return xs
}

// add pools one run.
func (p *ShapePool) add(in RunInput, idx map[string]int) {
	var latSum float64
	var latN int
	for id, xs := range in.Cases {
		sum, n := sumValid(xs)
		if n == 0 {
			continue
		}
		i := idx[id]
		p.N, p.Pass = grow(p.N, i+1), grow(p.Pass, i+1)
		p.N[i] += n
		p.Pass[i] += sum
		shapes := in.Shapes[id]
		if len(shapes) == 0 {
			continue
		}
		p.Shaped, p.LogLen, p.Refusals = grow(p.Shaped, i+1), grow(p.LogLen, i+1), grow(p.Refusals, i+1)
		p.Open, p.Pairs, p.Same = grow(p.Open, i+1), grow(p.Pairs, i+1), grow(p.Same, i+1)
		for _, s := range shapes {
			p.Shaped[i]++
			p.LogLen[i] += math.Log1p(float64(max(s.Chars, 0)))
			if s.Refusal {
				p.Refusals[i]++
			}
			if s.Answer != 0 {
				p.count(i, s.Answer)
			}
			if s.LatencyMS > 0 {
				latSum += math.Log(s.LatencyMS)
				latN++
			}
		}
	}
	if latN > 0 {
		p.Latency = append(p.Latency, latSum/float64(latN))
	}
	if p.Runs == 0 {
		p.First = in.RunID
	}
	p.Last = in.RunID
	p.Runs++
}

func (p *ShapePool) count(i int, h uint64) {
	// The hash's high bits too: the daemon's hashes are FNV, whose low bits
	// mix less.
	b := int((h>>32^h)%answerBuckets) + 1
	if p.Open[i] == 0 {
		p.Open[i] = b
		return
	}
	p.Pairs[i]++
	if p.Open[i] == b {
		p.Same[i]++
	}
	p.Open[i] = 0
}

func atOr[T any](xs []T, i int) T {
	var zero T
	if i < len(xs) {
		return xs[i]
	}
	return zero
}

// distinctSignal is the stratified test of the distinct-answer share:
// per case, the pairs of answers (taken two by two in order) that fall in
// the same hash bucket, block against reference, cases as strata (CMH
// two-sided, exact mid-p when its variance is under 25). Under "no
// change" a case's pairs are independent draws with one chance of being
// the same, whatever the case, so the conditional test is exact up to the
// mid-p; greedy decoding makes every pair the same. (A paired t on each
// case's share of equal answers was the first version: far in its tail it
// gave 6 false notices in 48 000 runs at N = 50, and counting the first
// four distinct answers per case biased it with the number of answers.)
func distinctSignal(b *BehaviourState) SignalResult {
	// Shown as the share of pairs whose answers differ.
	return stratifiedShare(b, SignalDistinct, func(p *ShapePool) ([]int, []int) { return p.Pairs, p.Same }, true)
}

// stratifiedShare tests a share counted per case (hits of total) between
// the block and the reference, cases as strata: CMH, or its exact mid-p
// when the variance is under 25. complement shows 1 − share instead.
func stratifiedShare(b *BehaviourState, name string, counts func(*ShapePool) (total, hits []int), complement bool) SignalResult {
	res := SignalResult{Name: name, P: 1}
	curTotal, curHits := counts(&b.Block)
	refTotal, refHits := counts(&b.Ref)
	var strata []Stratum
	var nb, na, hb, ha int
	for i := range b.Cases {
		cn, rn := atOr(curTotal, i), atOr(refTotal, i)
		if cn == 0 || rn == 0 {
			continue
		}
		ch, rh := atOr(curHits, i), atOr(refHits, i)
		strata = append(strata, Stratum{CurPass: ch, CurFail: cn - ch, RefPass: rh, RefFail: rn - rh})
		na, nb, ha, hb = na+cn, nb+rn, ha+ch, hb+rh
	}
	if len(strata) == 0 {
		return res
	}
	res.Before, res.After, res.N = float64(hb)/float64(nb), float64(ha)/float64(na), len(strata)
	if complement {
		res.Before, res.After = 1-res.Before, 1-res.After
	}
	c := CMH(strata)
	if c.V <= 0 {
		return res
	}
	res.Stat, res.P = c.Z, c.PTwoSided
	if c.V < 25 {
		_, res.P = CMHExact(strata)
	}
	return res
}

func (p *ShapePool) meanLogLen(i int) (float64, bool) {
	n := atOr(p.Shaped, i)
	if n == 0 {
		return 0, false
	}
	return atOr(p.LogLen, i) / float64(n), true
}

// refusalSignal is the stratified test of the refusal share, cases as
// strata (CMH, exact mid-p when its variance is under 25): refusals are
// rare, and a paired t on per-case shares is far from its law in the tail.
func refusalSignal(b *BehaviourState) SignalResult {
	return stratifiedShare(b, SignalRefusal, func(p *ShapePool) ([]int, []int) { return p.Shaped, p.Refusals }, false)
}

// BehaviourStatus is the behaviour monitor's verdict on one run.
type BehaviourStatus struct {
	// Runs is the runs in the block, RefRuns those in the behaviour
	// reference; FromRun is the block's first run.
	Runs    int   `json:"runs"`
	FromRun int64 `json:"from_run"`
	RefRuns int   `json:"ref_runs"`
	RefFrom int64 `json:"ref_from"`
	// Alpha is each signal's level at this look, 1/(BehaviourSignals·ARL0).
	Alpha   float64        `json:"alpha"`
	Signals []SignalResult `json:"signals"`
	// Changed is true on the run that raises the notice.
	Changed bool `json:"changed,omitempty"`
	// Delta is the block's pass rate minus the reference's (means of case
	// means), to show that the mean need not have moved.
	Delta float64 `json:"delta"`
	// Up and Down are the cases that moved most each way.
	Up   []CaseMove `json:"up,omitempty"`
	Down []CaseMove `json:"down,omitempty"`
	// NUp and NDown count the cases that moved by 0.5 or more each way.
	NUp   int `json:"n_up"`
	NDown int `json:"n_down"`
	// Message is one sentence naming every signal that moved.
	Message string `json:"message,omitempty"`
}

// SignalResult is one signal at one look.
type SignalResult struct {
	Name string `json:"name"`
	// Before and After are the reference's and the block's values (mean
	// pass rate for cases; mean characters, distinct-answer share,
	// refusal share, mean latency in ms).
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	Stat   float64 `json:"stat"`
	P      float64 `json:"p"`
	N      int     `json:"n"`
	Moved  bool    `json:"moved,omitempty"`
}

// CaseMove is one case's pass rate in the reference and in the block.
type CaseMove struct {
	Case   string  `json:"case"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
}

// behave feeds one eligible run to the behaviour monitor and returns its
// status (nil while the reference is still filling). refReset is true when
// the drift reference restarted at this run, quiet when no notice may be
// raised at this run (an alarm pages, or an alert is open).
func behave(cfg Config, b *BehaviourState, in RunInput, refReset, quiet bool) *BehaviourStatus {
	if refReset {
		*b = BehaviourState{Notices: b.Notices}
	}
	idx := b.index(in)
	if b.Ref.Runs < cfg.BMax {
		b.Ref.add(in, idx)
		return nil
	}
	if b.Block.Runs >= BehaviourBlock {
		b.Block = ShapePool{}
	}
	b.Block.add(in, idx)
	st := b.look(cfg)
	if st.Changed && !quiet {
		b.Notices++
		// One change, one notice: the reference restarts from the next run.
		*b = BehaviourState{Notices: b.Notices}
		return st
	}
	st.Changed = false
	return st
}

// look tests the block against the reference.
func (b *BehaviourState) look(cfg Config) *BehaviourStatus {
	alpha := 1 / (BehaviourSignals * cfg.ARL0)
	st := &BehaviourStatus{Runs: b.Block.Runs, FromRun: b.Block.First, RefRuns: b.Ref.Runs, RefFrom: b.Ref.First, Alpha: alpha}
	st.Signals = append(st.Signals, casesSignal(b, cfg.Binary, st))
	st.Signals = append(st.Signals, pairedSignal(SignalLength, b, (*ShapePool).meanLogLen, math.Expm1))
	st.Signals = append(st.Signals, distinctSignal(b))
	st.Signals = append(st.Signals, refusalSignal(b))
	st.Signals = append(st.Signals, latencySignal(b.Ref.Latency, b.Block.Latency))
	var moved []string
	for i := range st.Signals {
		s := &st.Signals[i]
		// A block of one or two runs is too small for the tails the budget
		// looks at (a 2 % refusal share gives a run with none 14 % of the
		// time at 96 samples): the signals are computed, but none is
		// judged before BehaviourMinRuns.
		if s.N > 0 && s.P < alpha && b.Block.Runs >= BehaviourMinRuns {
			s.Moved = true
			moved = append(moved, s.Name)
		}
	}
	// The cases that moved most are evidence only when the cases signal
	// moved: otherwise they are the noise of a block against its
	// reference, and a notice for latency alone must not list them.
	if !slices.Contains(moved, SignalCases) {
		st.Up, st.Down = nil, nil
	}
	if len(moved) > 0 {
		st.Changed = true
		st.Message = behaviourMessage(st, moved, cfg.Binary)
	}
	return st
}

// casesSignal is the per-case test of "the cases moved".
func casesSignal(b *BehaviourState, binary bool, st *BehaviourStatus) SignalResult {
	res := SignalResult{Name: SignalCases, P: 1}
	var q, eq, vq, tq, before, after float64
	var moves []CaseMove
	paired := 0
	for i, id := range b.Cases {
		cn, rn := atOr(b.Block.N, i), atOr(b.Ref.N, i)
		if rn == 0 || cn == 0 {
			continue
		}
		cp, rp := atOr(b.Block.Pass, i), atOr(b.Ref.Pass, i)
		paired++
		rb, ra := rp/float64(rn), cp/float64(cn)
		before += rb
		after += ra
		moves = append(moves, CaseMove{Case: id, Before: rb, After: ra})
		if !binary {
			continue
		}
		x := int(math.Round(cp))
		z2, v2, t2, ok := hyperTerm(x, cn, int(math.Round(rp))+x, rn+cn)
		if !ok {
			continue
		}
		q += z2
		eq++
		vq += v2
		tq += t2
		res.N++
	}
	if paired > 0 {
		res.Before, res.After = before/float64(paired), after/float64(paired)
		st.Delta = res.After - res.Before
	}
	for _, m := range moves {
		switch d := m.After - m.Before; {
		case d >= 0.5:
			st.NUp++
		case d <= -0.5:
			st.NDown++
		}
	}
	slices.SortStableFunc(moves, func(a, b CaseMove) int {
		return cmp.Compare(b.After-b.Before, a.After-a.Before)
	})
	for _, m := range moves {
		if m.After > m.Before && len(st.Up) < MaxMoved {
			st.Up = append(st.Up, m)
		}
	}
	for i := len(moves) - 1; i >= 0; i-- {
		if m := moves[i]; m.After < m.Before && len(st.Down) < MaxMoved {
			st.Down = append(st.Down, m)
		}
	}
	if res.N == 0 || vq <= 0 {
		res.N = 0
		return res
	}
	res.Stat = q
	res.P = pearson3SF(q, eq, vq, tq)
	return res
}

// hyperTerm is one case's z² under the hypergeometric law of its block
// passes x among k block samples, given m passes among n samples in all,
// with the variance and third central moment of z² under that law
// (E[z²] = 1), by enumerating the law's support (at most k + 1 values);
// ok is false when the case carries no information (all passed or all
// failed).
func hyperTerm(x, k, m, n int) (z2, v2, t2 float64, ok bool) {
	if m <= 0 || m >= n || k <= 0 || k >= n {
		return 0, 0, 0, false
	}
	N, K, r := float64(n), float64(m), float64(k)
	mean := r * K / N
	v := r * K * (N - K) * (N - r) / (N * N * (N - 1))
	if v <= 0 {
		return 0, 0, 0, false
	}
	z2 = (float64(x) - mean) * (float64(x) - mean) / v
	// P(lo), then the ratio P(y+1)/P(y) = (m−y)(k−y)/((y+1)(n−m−k+y+1)).
	lo, hi := max(0, k-(n-m)), min(k, m)
	p := math.Exp(logChoose(m, lo) + logChoose(n-m, k-lo) - logChoose(n, k))
	for y := lo; y <= hi; y++ {
		d := (float64(y)-mean)*(float64(y)-mean)/v - 1
		v2 += p * d * d
		t2 += p * d * d * d
		p *= float64(m-y) * float64(k-y) / (float64(y+1) * float64(n-m-k+y+1))
	}
	return z2, v2, t2, true
}

// pearson3SF is P(Q > q) for Q with mean e, variance v and third central
// moment t, referred to the shifted, scaled χ² with those three moments
// (Pearson type III: Q ≈ a + b·χ²_ν, ν = 8/skew²), the χ² tail by
// Wilson–Hilferty. Matching the skewness matters: Q sums skewed terms, and
// the notices are judged far in its tail (1/(5·ARL0)).
func pearson3SF(q, e, v, t float64) float64 {
	if v <= 0 {
		return 1
	}
	skew := t / math.Pow(v, 1.5)
	if skew <= 1e-9 {
		return NormalSF((q - e) / math.Sqrt(v))
	}
	nu := 8 / (skew * skew)
	b := math.Sqrt(v / (2 * nu))
	x := (q - e + b*nu) / b
	if x <= 0 {
		return 1
	}
	h := 2 / (9 * nu)
	z := (math.Cbrt(x/nu) - (1 - h)) / math.Sqrt(h)
	return NormalSF(z)
}

// pairedSignal compares a per-case value of the block with the reference's,
// paired by case: t = mean(d)/(sd(d)/√N), two-sided, N−1 df. show maps the
// value to what the notice prints.
func pairedSignal(name string, b *BehaviourState, val func(*ShapePool, int) (float64, bool), show func(float64) float64) SignalResult {
	res := SignalResult{Name: name, P: 1}
	var ds []float64
	var sb, sa float64
	for i := range b.Cases {
		x, okX := val(&b.Block, i)
		y, okY := val(&b.Ref, i)
		if !okX || !okY {
			continue
		}
		ds = append(ds, x-y)
		sa += x
		sb += y
	}
	n := len(ds)
	if n < 3 {
		return res
	}
	res.Before, res.After = show(sb/float64(n)), show(sa/float64(n))
	mean, sd := meanSD(ds)
	if sd == 0 {
		if mean == 0 {
			res.N = n
			return res // nothing moved, nothing varies (no refusals on either side)
		}
		sd = 1e-12
	}
	t := mean / (sd / math.Sqrt(float64(n)))
	res.Stat, res.N = t, n
	res.P = 2 * StudentTCDF(-math.Abs(t), float64(n-1))
	return res
}

// LatencyMinRatio is the smallest change of the typical latency (the
// geometric mean, either way) the latency signal reports, however small
// its p: a reference of steady runs makes a few milliseconds significant,
// and a provider's load moves latency by that much without any change of
// model.
const LatencyMinRatio = 1.25

// latencySignal compares the block's runs' mean log latencies with the
// reference runs': t = (mean_block − mean_ref)/(sd_ref·√(1/n_ref + 1/n_block))
// on n_ref − 1 df, two-sided. The spread comes from the reference runs
// alone: a block of two runs cannot estimate its own.
func latencySignal(ref, cur []float64) SignalResult {
	res := SignalResult{Name: SignalLatency, P: 1}
	if len(ref) < 3 || len(cur) < 1 {
		return res
	}
	mr, sr := meanSD(ref)
	mc, _ := meanSD(cur)
	res.Before, res.After = math.Exp(mr), math.Exp(mc)
	se := sr * math.Sqrt(1/float64(len(ref))+1/float64(len(cur)))
	if se == 0 {
		return res
	}
	t := (mc - mr) / se
	res.Stat, res.N = t, len(cur)
	if math.Abs(mc-mr) < math.Log(LatencyMinRatio) {
		return res
	}
	res.P = 2 * StudentTCDF(-math.Abs(t), float64(len(ref)-1))
	return res
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// behaviourMessage names every signal that moved and, when the cases
// signal is one of them, the cases that moved most each way; when it is
// not, it says the cases did not move.
func behaviourMessage(st *BehaviourStatus, moved []string, binary bool) string {
	metric := "mean score"
	if binary {
		metric = "pass rate"
	}
	var parts []string
	for _, s := range st.Signals {
		if !s.Moved {
			continue
		}
		switch s.Name {
		case SignalCases:
			parts = append(parts, fmt.Sprintf("cases moved both ways (%d up, %d down by 50 pp or more; p = %.2g)", st.NUp, st.NDown, s.P))
		case SignalLength:
			parts = append(parts, fmt.Sprintf("answer length %.0f → %.0f characters (p = %.2g)", s.Before, s.After, s.P))
		case SignalDistinct:
			parts = append(parts, fmt.Sprintf("distinct-answer share %.2f → %.2f (p = %.2g)", s.Before, s.After, s.P))
		case SignalRefusal:
			parts = append(parts, fmt.Sprintf("refusal share %.1f%% → %.1f%% (p = %.2g)", 100*s.Before, 100*s.After, s.P))
		case SignalLatency:
			parts = append(parts, fmt.Sprintf("latency %.0f → %.0f ms (p = %.2g)", s.Before, s.After, s.P))
		}
	}
	cases := ""
	if !slices.Contains(moved, SignalCases) {
		cases = "the cases did not move: "
	}
	msg := fmt.Sprintf("%s; %s%s %s over %s from run %d against %s from run %d",
		strings.Join(parts, "; "), cases, metric, pp(st.Delta), runsText(st.Runs), st.FromRun, runsText(st.RefRuns), st.RefFrom)
	if len(st.Up) > 0 {
		msg += "; up most: " + movesText(st.Up)
	}
	if len(st.Down) > 0 {
		msg += "; down most: " + movesText(st.Down)
	}
	return msg
}

func runsText(n int) string {
	if n == 1 {
		return "1 run"
	}
	return fmt.Sprintf("%d runs", n)
}

func movesText(ms []CaseMove) string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s %.0f%% → %.0f%%", m.Case, 100*m.Before, 100*m.After))
	}
	return strings.Join(out, ", ")
}
