package drift

import (
	"fmt"
	"maps"
	"slices"
	"sort"
)

// Usage signature as identity (issue 21). evald sends the same requests
// every run, so the prompt tokens a provider reports for a request are a
// fingerprint of its tokenizer and chat template, one that does not depend
// on the provider's word (many servers report only their build as
// system_fingerprint, or nothing). Per case the detector keeps how often
// each count was reported (one count per run: the run's most common for
// the case) over the identity baseline's runs; a count that this run
// reports for a case and that the case showed in under 5 % of the
// baseline's runs is new for that case; when the cases with a new count
// are at least half of the cases compared, the identity changed, by the
// same ≥ 50 % now / < 5 % before rule as the fingerprint.

// UsageBaseline is the per-case prompt-token counts of the identity
// baseline's runs: Cases[case][tokens] = runs that reported that count.
type UsageBaseline struct {
	Runs  int                    `json:"runs"`
	From  int64                  `json:"from,omitempty"`
	To    int64                  `json:"to,omitempty"`
	Cases map[string]map[int]int `json:"cases,omitempty"`
}

func (u UsageBaseline) clone() UsageBaseline {
	c := u
	if u.Cases != nil {
		c.Cases = make(map[string]map[int]int, len(u.Cases))
		for id, m := range u.Cases {
			c.Cases[id] = maps.Clone(m)
		}
	}
	return c
}

// describe names the baseline's runs as Baseline.describe does.
func (u UsageBaseline) describe(last *IdentityChange) string {
	return Baseline{From: u.From, To: u.To}.describe(last)
}

// promptTokensOf returns each case's most common positive prompt-token
// count among the run's valid samples (ties: the smaller count); cases
// whose samples report none are absent.
func promptTokensOf(in RunInput) map[string]int {
	out := map[string]int{}
	for id, ss := range in.Shapes {
		counts := map[int]int{}
		for _, s := range ss {
			if s.PromptTokens > 0 {
				counts[s.PromptTokens]++
			}
		}
		best, bestN := 0, 0
		for _, v := range slices.Sorted(maps.Keys(counts)) {
			if counts[v] > bestN {
				best, bestN = v, counts[v]
			}
		}
		if best > 0 {
			out[id] = best
		}
	}
	return out
}

// usageShift compares the run's per-case prompt tokens with the baseline.
func usageShift(base UsageBaseline, now map[string]int, against string) (string, bool) {
	if base.Runs == 0 || len(now) == 0 {
		return "", false
	}
	compared := 0
	var before, after []int
	for _, id := range slices.Sorted(maps.Keys(now)) {
		hist, ok := base.Cases[id]
		if !ok {
			continue
		}
		n := 0
		for _, c := range hist {
			n += c
		}
		if n == 0 {
			continue
		}
		compared++
		if float64(hist[now[id]])/float64(n) < identityBaseShare {
			before = append(before, mode(hist))
			after = append(after, now[id])
		}
	}
	if compared == 0 || float64(len(after)) < identityNowShare*float64(compared) {
		return "", false
	}
	return fmt.Sprintf("prompt tokens for identical requests changed (%d → %d) in %d of %d cases, against %s",
		median(before), median(after), len(after), compared, against), true
}

// mode is the most common count of a histogram (ties: the smaller).
func mode(h map[int]int) int {
	best, bestN := 0, -1
	for _, v := range slices.Sorted(maps.Keys(h)) {
		if h[v] > bestN {
			best, bestN = v, h[v]
		}
	}
	return best
}

// median of whole numbers (the lower middle for an even count).
func median(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Ints(s)
	return s[(len(s)-1)/2]
}

// addUsage pools one run's per-case prompt tokens into the baseline.
func (u *UsageBaseline) add(run int64, now map[string]int, bmax int) {
	if u.Runs >= bmax || len(now) == 0 {
		return
	}
	if u.Cases == nil {
		u.Cases = map[string]map[int]int{}
	}
	for id, v := range now {
		if u.Cases[id] == nil {
			u.Cases[id] = map[int]int{}
		}
		u.Cases[id][v]++
	}
	if u.From == 0 {
		u.From = run
	}
	u.To = run
	u.Runs++
}
