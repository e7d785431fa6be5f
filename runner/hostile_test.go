package runner

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/sim"
)

// hostileTarget is a target on a simulator answering every request in mode.
func hostileTarget(t *testing.T, mode string, mod func(*sim.Options, *configs.Target)) (Target, *sim.Server) {
	t.Helper()
	opts := sim.Options{Hostile: mode, HostileBytes: 50 << 20}
	var ct configs.Target
	if mod != nil {
		mod(&opts, &ct)
	}
	h := sim.New(opts)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tg := target(t, srv.URL, func(c *configs.Target) {
		c.MaxResponseBytes, c.FollowRedirects, c.MaxUsageTokens = ct.MaxResponseBytes, ct.FollowRedirects, ct.MaxUsageTokens
	})
	return tg, h
}

// TestHostileEndpoint sends each hostile answer through the real client:
// every sample ends missing with its class and a reason that says why,
// and no count the endpoint made up reaches the summary.
func TestHostileEndpoint(t *testing.T) {
	for _, tc := range []struct {
		mode      string
		class     string
		text      string
		attempts  int // per sample: 1 when retrying cannot help
		maxMemory uint64
	}{
		{sim.HostileNegativeTokens, ClassBadReply, "usage.prompt_tokens is -99999999: a token count cannot be negative", 4, 0},
		{sim.HostileHugeTokens, ClassBadReply, "above the target's max_usage_tokens (10000000)", 4, 0},
		{sim.HostileFloatTokens, ClassBadReply, "malformed response body", 4, 0},
		{sim.HostileNullContent, ClassBadReply, "no content (content: null) and no tool call", 4, 0},
		// The bound counts every allocation in the process, the in-process
		// server's too: 48 MB for three samples, 96 MB under the race
		// detector (which defeats sync.Pool reuse). Reading the three
		// 50 MB bodies whole would allocate at least 150 MB.
		{sim.HostileHugeBody, ClassBadReply, "too_large: the response body is larger than max_response_bytes (4194304 bytes)", 1, 128 << 20},
		{sim.HostileEndless, ClassBadReply, "too_large", 1, 128 << 20},
		{sim.HostileUnauthorized, ClassClient, "Incorrect API key provided: sk-s*****-123", 1, 0},
		{sim.HostileRetryAfter, ClassRateLimit, "asked to wait 27h46m39s before retrying, more than the 2m0s evald waits: not retried", 1, 0},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			tg, _ := hostileTarget(t, tc.mode, nil)
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			sum, samples := collect(t, context.Background(), testSuite(3, 1), tg, fast)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("run took %s", d)
			}
			if tc.maxMemory > 0 {
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				if grew := after.TotalAlloc - before.TotalAlloc; grew > tc.maxMemory {
					t.Errorf("run allocated %d MB in all, want under %d MB (bodies read past the limit)", grew>>20, tc.maxMemory>>20)
				}
			}
			if sum.Outcome != Errored || sum.Errors != 3 || sum.ErrorsByClass[tc.class] != 3 {
				t.Fatalf("summary = %s, %d errors %v, want errored with 3 %s", sum.Outcome, sum.Errors, sum.ErrorsByClass, tc.class)
			}
			if got := sum.FirstErrors[tc.class]; !strings.Contains(got, tc.text) {
				t.Errorf("first %s error = %q, want it to contain %q", tc.class, got, tc.text)
			}
			if sum.PromptTokens != 0 || sum.CompletionTokens != 0 || sum.CostUSD != 0 {
				t.Errorf("summary tokens %d/%d cost %g, want nothing counted from a bad answer", sum.PromptTokens, sum.CompletionTokens, sum.CostUSD)
			}
			for _, s := range samples {
				if s.Attempts != tc.attempts {
					t.Errorf("sample %s: %d attempts, want %d", s.CaseID, s.Attempts, tc.attempts)
				}
				if strings.Contains(s.ErrText, "sk-secret-key-123") {
					t.Errorf("sample error leaks the key: %q", s.ErrText)
				}
			}
			if tc.mode == sim.HostileUnauthorized && sum.AuthRefused != 3 {
				t.Errorf("AuthRefused = %d, want 3", sum.AuthRefused)
			}
		})
	}
}

func TestMaxUsageTokensConfigurable(t *testing.T) {
	tg, _ := hostileTarget(t, sim.HostileHugeTokens, func(_ *sim.Options, c *configs.Target) { c.MaxUsageTokens = 2_000_000_000_000 })
	sum, _ := collect(t, context.Background(), testSuite(2, 1), tg, fast)
	if sum.Errors != 0 || sum.PromptTokens != 2_000_000_000_000 {
		t.Errorf("with a ceiling above the count: %d errors, %d prompt tokens, want 0 and 2e12", sum.Errors, sum.PromptTokens)
	}
}

func TestMaxResponseBytesConfigurable(t *testing.T) {
	tg, _ := hostileTarget(t, sim.HostileHugeBody, func(o *sim.Options, c *configs.Target) {
		o.HostileBytes = 100 << 10
		c.MaxResponseBytes = 1 << 20
	})
	sum, samples := collect(t, context.Background(), testSuite(1, 1), tg, fast)
	if sum.Errors != 0 || len(samples[0].Text) < 100<<10 {
		t.Errorf("a 100 KB answer under a 1 MiB limit: %d errors, %d bytes of text", sum.Errors, len(samples[0].Text))
	}
}

// redirectPair is an endpoint that answers 307 to a second server on
// another port, which records the Authorization headers it receives.
func redirectPair(t *testing.T, follow bool) (Target, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var auth []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		sim.New(sim.Options{WrongRate: -1}).ServeHTTP(w, r)
	}))
	t.Cleanup(other.Close)
	tg, _ := hostileTarget(t, sim.HostileRedirect, func(o *sim.Options, c *configs.Target) {
		o.RedirectTo = other.URL
		c.FollowRedirects = follow
	})
	return tg, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), auth...)
	}
}

func TestRedirectRefusedByDefault(t *testing.T) {
	tg, auth := redirectPair(t, false)
	sum, samples := collect(t, context.Background(), testSuite(2, 1), tg, fast)
	if sum.ErrorsByClass[ClassClient] != 2 || samples[0].Attempts != 1 {
		t.Fatalf("errors %v, attempts %d, want 2 client_error after one attempt each", sum.ErrorsByClass, samples[0].Attempts)
	}
	if got, want := sum.FirstErrors[ClassClient], "redirects (HTTP 307) to http://127.0.0.1:"; !strings.Contains(got, want) || !strings.Contains(got, "follow_redirects: true") {
		t.Errorf("error = %q, want it to name the redirect and follow_redirects", got)
	}
	if got := auth(); len(got) != 0 {
		t.Errorf("the other port received %d requests, want none", len(got))
	}
}

func TestRedirectFollowedWithoutTheKey(t *testing.T) {
	tg, auth := redirectPair(t, true)
	sum, _ := collect(t, context.Background(), testSuite(2, 1), tg, fast)
	if sum.Errors != 0 {
		t.Fatalf("errors %v, want the redirect followed", sum.FirstErrors)
	}
	got := auth()
	if len(got) != 2 {
		t.Fatalf("the other port received %d requests, want 2", len(got))
	}
	for _, a := range got {
		if a != "" {
			t.Errorf("Authorization on the other port = %q, want none", a)
		}
	}
}

func TestOriginComparesSchemeHostAndPort(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://api.example.com/v1", "https://api.example.com:443/v2", true},
		{"https://api.example.com/v1", "http://api.example.com/v1", false},
		{"http://127.0.0.1:8080/v1", "http://127.0.0.1:8081/v1", false},
		{"https://example.com/v1", "https://api.example.com/v1", false},
		{"https://API.example.com/v1", "https://api.example.com/v1", true},
	} {
		a, b := mustURL(t, tc.a), mustURL(t, tc.b)
		if got := origin(a) == origin(b); got != tc.same {
			t.Errorf("origin(%s) == origin(%s) = %t, want %t", tc.a, tc.b, got, tc.same)
		}
	}
}

func TestUnreachableIsItsOwnClass(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused
	tg := target(t, "http://"+addr, nil)
	tg.Retries = 1
	sum, _ := collect(t, context.Background(), testSuite(2, 1), tg, fast)
	if sum.ErrorsByClass[ClassUnreachable] != 2 {
		t.Fatalf("errors %v, want 2 unreachable", sum.ErrorsByClass)
	}
	if got, want := sum.FirstErrors[ClassUnreachable], "cannot connect to "+addr+": "; !strings.HasPrefix(got, "unreachable: "+want) || !strings.Contains(got, "connection refused") {
		t.Errorf("error = %q, want %q... connection refused", got, want)
	}
}

func TestRetryAfterPastTheDeadlineIsNotAwaited(t *testing.T) {
	tg, _ := hostileTarget(t, sim.HostileRetryAfter, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	opts := fast
	opts.MaxRetryAfter = 48 * time.Hour // the cap allows it; the deadline does not
	_, samples := collect(t, ctx, testSuite(1, 1), tg, opts)
	if s := samples[0]; s.Attempts != 1 || !strings.Contains(s.ErrText, "past the run's timeout: not retried") {
		t.Errorf("sample: %d attempts, %q; want 1, not retried past the deadline", s.Attempts, s.ErrText)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPanicStopsTheRunWithAnError(t *testing.T) {
	srv := fakeOpenAI(t, func(_ int, w http.ResponseWriter, _ *http.Request, _ chatReq) {
		io.WriteString(w, completion("yes", "m", "fp", "stop"))
	})
	tg := target(t, srv.URL, nil)
	// More samples than the result queue holds: a caller that panicked
	// must not leave workers blocked.
	_, err := Run(context.Background(), testSuite(40, 1), tg, fast, func(Sample, bool) { panic("emit broke") })
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Error() != "panic: emit broke" {
		t.Fatalf("Run = %v, want a PanicError", err)
	}
}

// TestSuiteTimeoutEndsTheRun: an endpoint that never answers holds a run
// no longer than its suite's timeout; the run ends errored, saying so.
func TestSuiteTimeoutEndsTheRun(t *testing.T) {
	srv := fakeOpenAI(t, func(_ int, _ http.ResponseWriter, r *http.Request, _ chatReq) { <-r.Context().Done() })
	tg := target(t, srv.URL, nil)
	tg.Timeout = time.Hour
	s := testSuite(3, 1)
	s.Timeout = 100 * time.Millisecond
	start := time.Now()
	sum, _ := collect(t, context.Background(), s, tg, fast)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("run took %s, want about the suite's 100ms timeout", d)
	}
	if sum.Outcome != Errored || sum.TimedOut != s.Timeout {
		t.Errorf("outcome %s, timed out %s; want errored after %s", sum.Outcome, sum.TimedOut, s.Timeout)
	}
}

func TestRetryAfterBeyondTheSuiteTimeoutIsNotAwaited(t *testing.T) {
	tg, _ := hostileTarget(t, sim.HostileRetryAfter, nil)
	s := testSuite(1, 1)
	s.Timeout = time.Hour
	opts := fast
	opts.MaxRetryAfter = 48 * time.Hour
	sum, samples := collect(t, context.Background(), s, tg, opts)
	if samples[0].Attempts != 1 || !strings.Contains(sum.FirstErrors[ClassRateLimit], "past the run's timeout: not retried") {
		t.Errorf("%d attempts, %q; want 1, not retried past the suite's timeout", samples[0].Attempts, sum.FirstErrors[ClassRateLimit])
	}
}
