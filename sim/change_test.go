package sim_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/evald/evald/sim"
)

// TestTemplateChange: after --template-after the same request reports
// fewer prompt tokens, and the same answer.
func TestTemplateChange(t *testing.T) {
	s := sim.New(sim.Options{WrongRate: -1, TemplateAfter: 1})
	req := chatRequest(faq, "How long is the return window?")
	before := ask(t, s, req)
	after := ask(t, s, req)
	if b, a := before.Usage.PromptTokens, after.Usage.PromptTokens; a >= b || a <= 0 {
		t.Errorf("prompt tokens %d before the template change and %d after, want fewer after", b, a)
	}
	if b, a := before.Choices[0].Message.Content, after.Choices[0].Message.Content; a != b {
		t.Errorf("answer %q before the template change and %q after, want the same", b, a)
	}
}

// passShare asks every question of n rounds times and returns each
// question's share answered right.
func passShares(t testing.TB, s *sim.Server, n, rounds int) []float64 {
	t.Helper()
	out := make([]float64, n)
	for range rounds {
		for i := range n {
			if strings.Contains(answer(t, s, faq, fmt.Sprintf("Question %d: how long is the return window?", i)), "30 days") {
				out[i] += 1 / float64(rounds)
			}
		}
	}
	return out
}

func mean(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m += x / float64(len(xs))
	}
	return m
}

// TestGreedyAndMoves: greedy decoding fixes each question's answer and a
// both-ways move changes which questions are answered right, the mean pass
// rate staying put in both.
func TestGreedyAndMoves(t *testing.T) {
	const n, rounds = 300, 6
	for _, tc := range []struct {
		name string
		opts sim.Options
	}{
		{"greedy", sim.Options{Noise: 0.3, WrongRate: -1, GreedyAfter: n * rounds, Seed: 1}},
		{"moves", sim.Options{WrongRate: 0.3, MoveAfter: n * rounds, Seed: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.New(tc.opts)
			before := passShares(t, s, n, rounds)
			after := passShares(t, s, n, rounds)
			if d := mean(after) - mean(before); math.Abs(d) > 0.06 {
				t.Errorf("mean pass rate %.3f before, %.3f after; want it unchanged", mean(before), mean(after))
			}
			up, down, fixed := 0, 0, 0
			for i := range n {
				switch {
				case after[i]-before[i] > 0.25:
					up++
				case before[i]-after[i] > 0.25:
					down++
				}
				if after[i] < 1e-9 || after[i] > 1-1e-9 {
					fixed++
				}
			}
			if up < n/20 || down < n/20 {
				t.Errorf("%d questions moved up and %d down by more than a quarter, want both ways", up, down)
			}
			if fixed != n {
				t.Errorf("%d of %d questions have a fixed answer after, want all", fixed, n)
			}
		})
	}
}
