package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/runner"
)

// spendMeter enforces `evald run --budget-usd` while the runs go: it adds
// up what the endpoint's answers cost (tokens x the target's price) and,
// once the spend reaches the budget, cancels the runs' context with a
// *budgetError as the cause. The runner then stops sending, and the run
// in flight is stored interrupted. Answers from the response cache cost
// nothing and are not counted.
type spendMeter struct {
	budget float64
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	spent float64
}

var errBudgetSpent = errors.New("the --budget-usd budget is spent")

// budgetError is the cause of a context cancelled by the meter.
type budgetError struct {
	spent, budget float64
}

func (e *budgetError) Error() string {
	return fmt.Sprintf("budget reached: spent $%.4f of --budget-usd %g", e.spent, e.budget)
}

// wrap meters p at price. A provider that can grade (a judge's) stays one:
// its chat and embedding requests are metered at the judge's price, so
// grading spends the same budget as answering.
func (m *spendMeter) wrap(p runner.Provider, price configs.Price) runner.Provider {
	mp := &meteredProvider{m: m, next: p, price: price}
	if jp, ok := p.(runner.JudgeProvider); ok {
		return &meteredJudge{meteredProvider: mp, embed: jp}
	}
	return mp
}

// add records a cost and reports whether the budget is now spent.
func (m *spendMeter) add(usd float64) {
	m.mu.Lock()
	m.spent += usd
	over := m.spent >= m.budget
	err := &budgetError{spent: m.spent, budget: m.budget}
	m.mu.Unlock()
	if over {
		m.cancel(err)
	}
}

func (m *spendMeter) total() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.spent
}

type meteredProvider struct {
	m     *spendMeter
	next  runner.Provider
	price configs.Price
}

func (p *meteredProvider) Complete(ctx context.Context, msgs []evals.Message) (runner.Response, error) {
	if p.m.total() >= p.m.budget {
		// Never start a request once the budget is spent.
		return runner.Response{}, &runner.CallError{Class: runner.ClassCanceled, Err: errBudgetSpent}
	}
	r, err := p.next.Complete(ctx, msgs)
	p.charge(r)
	return r, err
}

func (p *meteredProvider) charge(r runner.Response) {
	if cost := float64(r.PromptTokens)*p.price.InputPerMTok/1e6 + float64(r.CompletionTokens)*p.price.OutputPerMTok/1e6; cost > 0 {
		p.m.add(cost)
	}
}

// meteredJudge is a metered provider that also embeds (for similar).
type meteredJudge struct {
	*meteredProvider
	embed runner.JudgeProvider
}

var _ runner.JudgeProvider = (*meteredJudge)(nil)

func (p *meteredJudge) Embed(ctx context.Context, texts []string) ([][]float64, runner.Response, error) {
	if p.m.total() >= p.m.budget {
		return nil, runner.Response{}, &runner.CallError{Class: runner.ClassCanceled, Err: errBudgetSpent}
	}
	v, r, err := p.embed.Embed(ctx, texts)
	p.charge(r)
	return v, r, err
}
