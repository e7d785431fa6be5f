package runner

import (
	"context"
	"sync"

	"golang.org/x/time/rate"
)

// Gate bounds the requests in flight and the request rate of one target. One
// Gate is shared by every run on that target, whoever started it.
type Gate struct {
	slots   chan struct{}
	limiter *rate.Limiter // nil: no rate limit
}

// NewGate returns a gate allowing concurrency requests at once (at least 1)
// and at most rps requests per second (0 or less: unlimited).
func NewGate(concurrency int, rps float64) *Gate {
	if concurrency < 1 {
		concurrency = 1
	}
	g := &Gate{slots: make(chan struct{}, concurrency)}
	if rps > 0 {
		burst := int(rps)
		if burst < 1 {
			burst = 1
		}
		g.limiter = rate.NewLimiter(rate.Limit(rps), burst)
	}
	return g
}

// Acquire waits for a slot and for the rate limit. The caller must call the
// returned release exactly once.
func (g *Gate) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if g.limiter != nil {
		if err := g.limiter.Wait(ctx); err != nil {
			<-g.slots
			return nil, err
		}
	}
	var once sync.Once
	return func() { once.Do(func() { <-g.slots }) }, nil
}

// Gates hands out one Gate per target name.
type Gates struct {
	mu    sync.Mutex
	gates map[string]*Gate
}

// For returns the gate of the named target, creating it with the given limits
// on first use. Later calls return the same gate whatever limits they pass.
func (gs *Gates) For(target string, concurrency int, rps float64) *Gate {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if gs.gates == nil {
		gs.gates = make(map[string]*Gate)
	}
	g, ok := gs.gates[target]
	if !ok {
		g = NewGate(concurrency, rps)
		gs.gates[target] = g
	}
	return g
}
