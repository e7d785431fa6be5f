package runner

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
)

// GradeCache keeps judge answers in memory, keyed by (judge target version,
// request): the request holds the judge prompt, the rubric or reference and
// the graded output, so grading the same output again with the same judge
// costs nothing. It holds at most a fixed number of entries and drops the
// least recently used. Safe for concurrent use; one per daemon.
type GradeCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // front: most recently used
	entries map[string]*list.Element
}

type cacheEntry struct {
	key string
	val judged
}

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
	return &GradeCache{max: size, order: list.New(), entries: map[string]*list.Element{}}
}

func (c *GradeCache) get(key string) (judged, bool) {
	if c == nil {
		return judged{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return judged{}, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).val, true
}

func (c *GradeCache) put(key string, v judged) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		e.Value.(*cacheEntry).val = v
		c.order.MoveToFront(e)
		return
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, val: v})
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

// Len is the number of cached answers.
func (c *GradeCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

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
