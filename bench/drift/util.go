package main

import (
	"encoding/json"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/evald/evald/drift"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// jsonRoundTrip stores and reloads a state as the daemon does.
func jsonRoundTrip(st drift.State) drift.State {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	var out drift.State
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// syncGroup runs functions on at most GOMAXPROCS goroutines.
type syncGroup struct {
	wg  sync.WaitGroup
	sem chan struct{}
}

func (g *syncGroup) run(f func()) {
	if g.sem == nil {
		g.sem = make(chan struct{}, runtime.GOMAXPROCS(0))
	}
	g.sem <- struct{}{}
	g.wg.Go(func() {
		defer func() { <-g.sem }()
		f()
	})
}

func (g *syncGroup) wait() { g.wg.Wait() }
