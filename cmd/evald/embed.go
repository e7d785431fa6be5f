package main

import (
	"context"
	"errors"

	"github.com/evald/evald/runner"
)

// The --budget-usd and --cache wrappers sit around judge providers too: a
// judge also asks for embeddings (similar, answer-relevance), which pass
// through them.

var (
	_ runner.JudgeProvider = (*meteredProvider)(nil)
	_ runner.JudgeProvider = (*cachedProvider)(nil)
)

// errNoEmbeddings is returned when the wrapped provider cannot embed.
var errNoEmbeddings = errors.New("this provider serves no embeddings")

func embed(ctx context.Context, next runner.Provider, texts []string) ([][]float64, runner.Response, error) {
	jp, ok := next.(runner.JudgeProvider)
	if !ok {
		return nil, runner.Response{}, &runner.CallError{Class: runner.ClassClient, Err: errNoEmbeddings}
	}
	return jp.Embed(ctx, texts)
}

// Embed counts what the embeddings cost against the budget, and sends
// nothing once it is spent.
func (p *meteredProvider) Embed(ctx context.Context, texts []string) ([][]float64, runner.Response, error) {
	if p.m.total() >= p.m.budget {
		return nil, runner.Response{}, &runner.CallError{Class: runner.ClassCanceled, Err: errBudgetSpent}
	}
	v, r, err := embed(ctx, p.next, texts)
	if cost := float64(r.PromptTokens) * p.price.InputPerMTok / 1e6; cost > 0 {
		p.m.add(cost)
	}
	return v, r, err
}

// Embed is not cached on disk: embeddings are cheap and the judge keeps
// its grades in its own cache.
func (p *cachedProvider) Embed(ctx context.Context, texts []string) ([][]float64, runner.Response, error) {
	return embed(ctx, p.next, texts)
}
