package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/runner"
)

// responseCache keeps model answers on disk so that a CI job re-run on the
// same commit does not pay for them again (`evald run --cache DIR`). Only
// `evald run` wires it, and only for candidates: a production measurement
// must ask the endpoint, or the cache would hide the drift it looks for.
//
// An entry is keyed by sha256 of the target version, the request messages
// and the request's occurrence number in this process: the n-th identical
// request of a run (a case's repeats) gets the n-th stored answer, so
// repeats stay distinct samples. Entries older than the TTL are ignored
// and replaced. Errors are never cached.
type responseCache struct {
	dir string
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	seen map[string]int // occurrences of each request so far
	// probed counts the occurrences of each request that estimates have
	// asked about (covers), as seen counts those sent.
	probed map[string]int
	// byVersion counts the answers given from the cache per target
	// version: a run's own, apart from its judge's.
	byVersion map[string]int

	hits, misses atomic.Int64
	writeErr     atomic.Pointer[error] // the first failed write, reported once
}

func newResponseCache(dir string, ttl time.Duration) (*responseCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache folder: %w", err)
	}
	return &responseCache{dir: dir, ttl: ttl, now: time.Now, seen: map[string]int{}, probed: map[string]int{}, byVersion: map[string]int{}}, nil
}

// wrap returns p answering from the cache for a target of the given
// version.
func (c *responseCache) wrap(p runner.Provider, targetVersion string) runner.Provider {
	cp := &cachedProvider{c: c, next: p, version: targetVersion}
	if jp, ok := p.(runner.JudgeProvider); ok {
		// A judge's provider must still embed; embeddings are not cached.
		return &cachedJudge{cachedProvider: cp, JudgeProvider: jp}
	}
	return cp
}

// cachedJudge caches a judge's chat requests and passes its embedding
// requests through.
type cachedJudge struct {
	*cachedProvider
	runner.JudgeProvider
}

// Complete answers from the cache, as for any target.
func (p *cachedJudge) Complete(ctx context.Context, msgs []evals.Message) (runner.Response, error) {
	return p.cachedProvider.Complete(ctx, msgs)
}

type cacheEntry struct {
	StoredAt time.Time       `json:"stored_at"`
	Response runner.Response `json:"response"`
}

// key returns the entry key of the next occurrence of a request.
func (c *responseCache) key(targetVersion string, msgs []evals.Message) (string, error) {
	req, err := requestHash(targetVersion, msgs)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	n := c.seen[string(req[:])]
	c.seen[string(req[:])] = n + 1
	c.mu.Unlock()
	return occurrenceKey(req, n), nil
}

func requestHash(targetVersion string, msgs []evals.Message) ([sha256.Size]byte, error) {
	b, err := json.Marshal(struct {
		TargetVersion string          `json:"target_version"`
		Messages      []evals.Message `json:"messages"`
	}{targetVersion, msgs})
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(b), nil
}

func occurrenceKey(req [sha256.Size]byte, n int) string {
	sum := sha256.Sum256(fmt.Appendf(req[:], "#%d", n))
	return hex.EncodeToString(sum[:])
}

// covers says how many of the next n occurrences of a request the cache
// holds fresh answers for: what an estimate need not price
// (daemon.GateRequest.Cached). Estimates are made in the order the runs
// go, so the occurrences counted here are those the runs will ask for.
func (c *responseCache) covers(targetVersion string, msgs []evals.Message, n int) int {
	req, err := requestHash(targetVersion, msgs)
	if err != nil {
		return 0
	}
	c.mu.Lock()
	first := c.probed[string(req[:])]
	c.probed[string(req[:])] = first + n
	c.mu.Unlock()
	held := 0
	for i := first; i < first+n; i++ {
		if _, ok := c.get(occurrenceKey(req, i)); ok {
			held++
		}
	}
	return held
}

// hitsByVersion returns a copy of the answers given so far per target
// version.
func (c *responseCache) hitsByVersion() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.byVersion)
}

func (c *responseCache) path(key string) string { return filepath.Join(c.dir, key[:2], key+".json") }

func (c *responseCache) get(key string) (runner.Response, bool) {
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return runner.Response{}, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || c.now().Sub(e.StoredAt) > c.ttl || e.StoredAt.After(c.now().Add(time.Minute)) {
		return runner.Response{}, false
	}
	return e.Response, true
}

// put writes an entry atomically (a reader sees the old file or the new
// one, never half of it).
func (c *responseCache) put(key string, r runner.Response) error {
	b, err := json.Marshal(cacheEntry{StoredAt: c.now().UTC(), Response: r})
	if err != nil {
		return err
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// warning returns the first failed cache write, if any.
func (c *responseCache) warning() error {
	if p := c.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

type cachedProvider struct {
	c       *responseCache
	next    runner.Provider
	version string
}

func (p *cachedProvider) Complete(ctx context.Context, msgs []evals.Message) (runner.Response, error) {
	key, err := p.c.key(p.version, msgs)
	if err != nil {
		return p.next.Complete(ctx, msgs)
	}
	if r, ok := p.c.get(key); ok {
		p.c.hits.Add(1)
		p.c.mu.Lock()
		p.c.byVersion[p.version]++
		p.c.mu.Unlock()
		return r, nil
	}
	p.c.misses.Add(1)
	r, err := p.next.Complete(ctx, msgs)
	if err != nil {
		return r, err
	}
	if werr := p.c.put(key, r); werr != nil {
		werr = fmt.Errorf("write to the response cache %s: %w", p.c.dir, werr)
		p.c.writeErr.CompareAndSwap(nil, &werr)
	}
	return r, nil
}

var _ runner.ToolProvider = (*cachedProvider)(nil)

// CompleteChat answers an agent suite's request (a conversation with tool
// calls and the suite's tools) from the cache like Complete: the key is
// the whole request, so the n-th identical conversation gets the n-th
// stored answer. A provider that cannot carry conversations fails as it
// would uncached.
func (p *cachedProvider) CompleteChat(ctx context.Context, req runner.ChatRequest) (runner.Response, error) {
	tp, ok := p.next.(runner.ToolProvider)
	if !ok {
		return runner.Response{}, &runner.CallError{Class: runner.ClassClient, Err: errors.New("the target's provider cannot send tool calls or conversations")}
	}
	b, err := json.Marshal(struct {
		TargetVersion string             `json:"target_version"`
		Chat          runner.ChatRequest `json:"chat"`
	}{p.version, req})
	if err != nil {
		return tp.CompleteChat(ctx, req)
	}
	h := sha256.Sum256(b)
	p.c.mu.Lock()
	n := p.c.seen[string(h[:])]
	p.c.seen[string(h[:])] = n + 1
	p.c.mu.Unlock()
	key := occurrenceKey(h, n)
	if r, ok := p.c.get(key); ok {
		p.c.hits.Add(1)
		p.c.mu.Lock()
		p.c.byVersion[p.version]++
		p.c.mu.Unlock()
		return r, nil
	}
	p.c.misses.Add(1)
	r, err := tp.CompleteChat(ctx, req)
	if err != nil {
		return r, err
	}
	if werr := p.c.put(key, r); werr != nil {
		werr = fmt.Errorf("write to the response cache %s: %w", p.c.dir, werr)
		p.c.writeErr.CompareAndSwap(nil, &werr)
	}
	return r, nil
}
