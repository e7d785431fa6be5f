package scoring

import (
	"math"
	"testing"
)

func TestSampleScore(t *testing.T) {
	for _, tc := range []struct {
		name      string
		results   []Result
		wantPass  bool
		wantScore float64
	}{
		{name: "no assertions", results: nil, wantPass: true, wantScore: 1},
		{name: "all pass", results: []Result{{Pass: true, Score: 1, Weight: 1}, {Pass: true, Score: 1, Weight: 2}},
			wantPass: true, wantScore: 1},
		{name: "weighted mean", results: []Result{{Pass: true, Score: 1, Weight: 1}, {Pass: false, Score: 0, Weight: 3}},
			wantPass: false, wantScore: 0.25},
		{name: "graded scores", results: []Result{{Pass: true, Score: 1, Weight: 1}, {Pass: true, Score: 0.5, Weight: 1}},
			wantPass: true, wantScore: 0.75},
		{name: "weight 0 is out of the score but must pass",
			results:  []Result{{Pass: true, Score: 1, Weight: 1}, {Pass: false, Score: 0, Weight: 0}},
			wantPass: false, wantScore: 1},
		{name: "only weight 0, passing", results: []Result{{Pass: true, Score: 0.3, Weight: 0}}, wantPass: true, wantScore: 1},
		{name: "only weight 0, failing", results: []Result{{Pass: false, Score: 0.3, Weight: 0}}, wantPass: false, wantScore: 0},
		{name: "odd inputs stay in range",
			results:  []Result{{Pass: true, Score: 7, Weight: 1}, {Pass: true, Score: math.NaN(), Weight: 1}, {Pass: true, Score: 1, Weight: -4}},
			wantPass: true, wantScore: 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pass, score := SampleScore(tc.results)
			if pass != tc.wantPass || !approx(score, tc.wantScore) {
				t.Errorf("SampleScore(%+v) = %v, %v, want %v, %v", tc.results, pass, score, tc.wantPass, tc.wantScore)
			}
		})
	}
}

func TestRunScores(t *testing.T) {
	for _, tc := range []struct {
		name               string
		cases              []CaseTally
		wantPass, wantMean float64
		wantCounted        int
	}{
		{name: "no cases"},
		{name: "only empty cases", cases: []CaseTally{{}, {}}},
		{name: "cases weigh the same whatever their sample count",
			cases:    []CaseTally{{Samples: 2, Passed: 1, ScoreSum: 1.5}, {Samples: 4, Passed: 4, ScoreSum: 4}},
			wantPass: 0.75, wantMean: 0.875, wantCounted: 2},
		{name: "cases without valid samples are skipped",
			cases:    []CaseTally{{Samples: 3, Passed: 0, ScoreSum: 0.3}, {}, {Samples: 1, Passed: 1, ScoreSum: 1}},
			wantPass: 0.5, wantMean: 0.55, wantCounted: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, m, n := RunScores(tc.cases)
			if !approx(p, tc.wantPass) || !approx(m, tc.wantMean) || n != tc.wantCounted {
				t.Errorf("RunScores(%+v) = %v, %v, %v, want %v, %v, %v", tc.cases, p, m, n, tc.wantPass, tc.wantMean, tc.wantCounted)
			}
		})
	}
}

func TestCaseTally(t *testing.T) {
	var c CaseTally
	if got, want := c.PassRate(), 0.0; got != want {
		t.Errorf("empty CaseTally.PassRate() = %v, want %v", got, want)
	}
	c.Add(true, 1)
	c.Add(false, 0.5)
	c.Add(true, 0.75)
	if got, want := c, (CaseTally{Samples: 3, Passed: 2, ScoreSum: 2.25}); got != want {
		t.Errorf("CaseTally after 3 Adds = %+v, want %+v", got, want)
	}
	if got, want := c.PassRate(), 2.0/3; !approx(got, want) {
		t.Errorf("PassRate() = %v, want %v", got, want)
	}
	if got, want := c.MeanScore(), 0.75; !approx(got, want) {
		t.Errorf("MeanScore() = %v, want %v", got, want)
	}
}

func TestCasePassing(t *testing.T) {
	for _, tt := range []struct {
		passed, samples int
		want            bool
	}{
		{0, 0, false}, {0, 1, false}, {1, 1, true}, {1, 2, true}, {1, 3, false}, {2, 3, true}, {2, 4, true}, {2, 5, false},
	} {
		var c CaseTally
		for i := range tt.samples {
			c.Add(i < tt.passed, 0)
		}
		if got := c.Passing(); got != tt.want {
			t.Errorf("CaseTally{%d of %d passed}.Passing() = %v, want %v", tt.passed, tt.samples, got, tt.want)
		}
	}
}
