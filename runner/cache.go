package runner

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"
)

// GradeCache keeps judge answers in memory, keyed by (judge target version,
// request): the request holds the judge prompt, the rubric or reference and
// the graded output, so grading the same output again with the same judge
// costs nothing. It holds at most a fixed number of entries and drops the
// least recently used. Safe for concurrent use; one per daemon.
//
// A cache must not hide a judge that changed behind its name: a model
// answering the same outputs run after run would be graded from the cache
// forever, with the old judge's identity. So, per judge version and kind of
// request, once the last paid answer is older than the probe interval the
// next request is sent, not served (a probe), and when its judge identity
// (returned model and system_fingerprint) differs from the one the cached
// answers came from, they are dropped.
type GradeCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // front: most recently used
	entries map[string]*list.Element

	probeEvery time.Duration
	now        func() time.Time
	families   map[string]*gradeFamily // by version + kind
}

// gradeFamily is what the cache knows of one judge version and request
// kind: who answered at the last probe, and when an answer was last paid.
type gradeFamily struct {
	identity string
	lastPaid time.Time
	probing  chan struct{} // closed when the probe in flight ends
}

type cacheEntry struct {
	key, family string
	val         judged
}

// DefaultProbeEvery is how long a judge's cached answers are trusted
// before one request goes to the judge again.
const DefaultProbeEvery = 10 * time.Minute

// judged is one cached judge answer: a chat reply or embeddings.
type judged struct {
	resp Response
	vecs [][]float64
}

// DefaultGradeCacheSize bounds a GradeCache built with size 0 or less.
const DefaultGradeCacheSize = 10000

// NewGradeCache returns a cache of at most size entries.
func NewGradeCache(size int) *GradeCache {
	if size <= 0 {
		size = DefaultGradeCacheSize
	}
	return &GradeCache{max: size, order: list.New(), entries: map[string]*list.Element{},
		probeEvery: DefaultProbeEvery, now: time.Now, families: map[string]*gradeFamily{}}
}

// WithProbe sets the probe interval (0 or less: DefaultProbeEvery) and the
// clock (nil: time.Now), and returns c.
func (c *GradeCache) WithProbe(every time.Duration, now func() time.Time) *GradeCache {
	if every <= 0 {
		every = DefaultProbeEvery
	}
	if now == nil {
		now = time.Now
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.probeEvery, c.now = every, now
	return c
}

// get returns the cached answer of key, in family. It misses on purpose
// when the family is due a probe, and then probe says the caller's request
// is one; the caller must call release(family) when done, answered or not. While a probe is in flight the family's other
// requests wait for it, so none is served an answer it is about to drop.
func (c *GradeCache) get(ctx context.Context, key, family string) (v judged, ok, probe bool, err error) {
	if c == nil {
		return judged{}, false, false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		f := c.families[family]
		if f == nil {
			f = &gradeFamily{}
			c.families[family] = f
		}
		if f.probing != nil {
			wait := f.probing
			c.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
			}
			c.mu.Lock()
			if ctx.Err() != nil {
				return judged{}, false, false, ctx.Err()
			}
			continue
		}
		if f.lastPaid.IsZero() || c.now().Sub(f.lastPaid) >= c.probeEvery {
			f.probing = make(chan struct{})
			return judged{}, false, true, nil
		}
		e, ok := c.entries[key]
		if !ok {
			return judged{}, false, false, nil
		}
		c.order.MoveToFront(e)
		return e.Value.(*cacheEntry).val, true, false, nil
	}
}

// release ends a probe of family (see get).
func (c *GradeCache) release(family string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.families[family]; f != nil && f.probing != nil {
		close(f.probing)
		f.probing = nil
		// Answered or not, the family is trusted for another interval: a
		// judge that is down must not make every request a probe in turn.
		f.lastPaid = c.now()
	}
}

// put stores a paid answer. An answer from another judge identity than
// the family's drops the family's cached answers first.
func (c *GradeCache) put(key, family string, v judged) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.families[family]
	if f == nil {
		f = &gradeFamily{}
		c.families[family] = f
	}
	f.lastPaid = c.now()
	// Every paid answer says who the judge is now, not only a probe's: a
	// busy judge version is paid often and would otherwise never be probed.
	if id := v.resp.Model + "\x00" + v.resp.Fingerprint; id != f.identity {
		if f.identity != "" {
			c.dropFamilyLocked(family)
		}
		f.identity = id
	}
	if e, ok := c.entries[key]; ok {
		e.Value.(*cacheEntry).val = v
		c.order.MoveToFront(e)
		return
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, family: family, val: v})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*cacheEntry).key)
	}
}

// forget drops keys (answers that produced no grade, so the next run asks again).
func (c *GradeCache) forget(keys []string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		if e, ok := c.entries[k]; ok {
			c.order.Remove(e)
			delete(c.entries, k)
		}
	}
}

// dropFamilyLocked removes every cached answer of family.
func (c *GradeCache) dropFamilyLocked(family string) {
	for e := c.order.Front(); e != nil; {
		next := e.Next()
		if ce := e.Value.(*cacheEntry); ce.family == family {
			c.order.Remove(e)
			delete(c.entries, ce.key)
		}
		e = next
	}
}

// Len is the number of cached answers.
func (c *GradeCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// cacheFamily names the answers of one judge version to one kind of request.
func cacheFamily(version, kind string) string { return version + "\x00" + kind }

// cacheKey hashes the judge's version, the kind of request and its payload.
func cacheKey(version, kind string, payload any) string {
	h := sha256.New()
	b, _ := json.Marshal(payload) // strings and messages always encode
	h.Write([]byte(version))
	h.Write([]byte{0})
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
