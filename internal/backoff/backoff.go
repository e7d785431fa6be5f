// Package backoff computes the wait before a retry: capped exponential
// growth with jitter, shared by the runner's requests and the alert
// outbox's deliveries. It only computes durations: it never sleeps,
// retries or decides what is retryable.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Delay is the wait before a retry after n doublings of base (n = 0 for
// the first retry): d = base·2ⁿ, at most limit, drawn uniformly from
// [d/2, d) ("equal jitter", so retries spread out but never come sooner
// than half the nominal wait). rnd returns a number in [0, 1); nil means
// math/rand/v2.
func Delay(base, limit time.Duration, n int, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	d := base
	for i := 0; i < n && d < limit && d > 0; i++ {
		d *= 2
	}
	if d <= 0 || d > limit {
		d = limit
	}
	return d/2 + time.Duration(rnd()*float64(d/2))
}
