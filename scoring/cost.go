package scoring

import "fmt"

// cost passes when the sample cost at most the threshold, in US dollars. A
// threshold is required. When the cost is unknown (the target has no price)
// both cost and not-cost fail: there is nothing to judge. The score is 1
// or 0.
type costChecker struct{ maxUSD float64 }

func compileCost(s Spec) (checker, error) {
	if err := noValue(s, "set threshold to the maximum cost in US dollars"); err != nil {
		return nil, err
	}
	t, err := requiredThreshold(s, "cost in US dollars")
	if err != nil {
		return nil, err
	}
	return &costChecker{maxUSD: t}, nil
}

func (c *costChecker) check(out Output) outcome {
	if !out.CostKnown {
		return outcome{unmeasurable: true}
	}
	return verdict(out.CostUSD <= c.maxUSD)
}

func (c *costChecker) reason(out Output, _ outcome, negated bool) string {
	switch {
	case !out.CostKnown:
		return "cost unknown: the target has no price configured"
	case negated:
		return fmt.Sprintf("expected cost above $%.3g, got $%.3g", c.maxUSD, out.CostUSD)
	}
	return fmt.Sprintf("cost $%.3g is above threshold $%.3g", out.CostUSD, c.maxUSD)
}
