package scoring

import (
	"fmt"
	"math"
	"time"
)

// latency passes when the response took at most the threshold, in
// milliseconds. A threshold is required. The score is 1 or 0.
type latencyChecker struct{ maxMS float64 }

func compileLatency(s Spec) (checker, error) {
	if err := noValue(s, "set threshold to the maximum latency in milliseconds"); err != nil {
		return nil, err
	}
	t, err := requiredThreshold(s, "latency in milliseconds")
	if err != nil {
		return nil, err
	}
	return &latencyChecker{maxMS: t}, nil
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (c *latencyChecker) check(out Output) outcome {
	return verdict(millis(out.Latency) <= c.maxMS)
}

func (c *latencyChecker) reason(out Output, _ outcome, negated bool) string {
	ms := jsNumber(math.Round(millis(out.Latency)*10) / 10)
	if negated {
		return fmt.Sprintf("expected latency above %sms, got %sms", jsNumber(c.maxMS), ms)
	}
	return fmt.Sprintf("latency %sms is above threshold %sms", ms, jsNumber(c.maxMS))
}
