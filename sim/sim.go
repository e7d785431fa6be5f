package sim

import (
	"math"
	"math/rand/v2"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultModel      = "sim-1"
	DefaultWrongRate  = 0.1
	DefaultDriftShare = 0.3
	DefaultMoveShare  = 0.5
	DefaultRetryAfter = time.Second

	// driftModelSuffix makes the default model id after the drift.
	driftModelSuffix = "-2026-11-update"
)

// Options configure a simulated endpoint. The zero value is a fast, healthy
// endpoint that answers 10 % of the questions wrong and never drifts.
//
// Rates are shares in [0, 1]; New clamps values outside that range. The four
// fault rates split one uniform draw per chat request in the order timeout,
// garbage, 500, 429, so each is the share of requests that get that fault
// (as long as they sum to at most 1).
type Options struct {
	// Model is the model id returned before the drift (default "sim-1").
	// The model named in a request is accepted whatever it is.
	Model string
	// Latency is the mean time before any chat answer or fault is sent.
	Latency time.Duration
	// Jitter spreads the latency uniformly over Latency ± Jitter.
	Jitter time.Duration
	// FailRate is the share of chat requests answered 500 with an OpenAI
	// error object.
	FailRate float64
	// Rate429 is the share of chat requests answered 429, with the
	// Retry-After (whole seconds, rounded up) and retry-after-ms headers.
	Rate429 float64
	// RetryAfter is the delay the 429s ask for (default 1s).
	RetryAfter time.Duration
	// TimeoutRate is the share of chat requests that are never answered:
	// they hang until the client gives up or Close is called.
	TimeoutRate float64
	// GarbageRate is the share of chat requests answered 200 with a
	// truncated, undecodable JSON body.
	GarbageRate float64
	// Noise is the share of answers flipped between right and wrong at
	// random, like sampling with temperature > 0. It applies whatever
	// temperature the request asks for, as real providers are not
	// deterministic at temperature 0 either.
	Noise float64
	// WrongRate is the share of (system prompt, question) pairs answered
	// wrong every time. Zero means DefaultWrongRate (0.1); any negative
	// value means none.
	WrongRate float64
	// DriftAfter is the number of answered chat requests after which the
	// provider silently updates its model (0: never). Only answers count:
	// faults and rejected requests don't, so with retries the update lands
	// after the same amount of work whatever the fault rates.
	DriftAfter int
	// DriftShare is the share of (system prompt, question) pairs whose
	// answers become wrong after the update. Zero means DefaultDriftShare
	// (0.3); any negative value means none (only the identity changes).
	DriftShare float64
	// DriftModel is the model id returned after the update (default Model
	// followed by "-2026-11-update").
	DriftModel string
	// DriftSilent makes the update invisible in the responses: the model
	// id and the system fingerprints stay those of before, as when a server
	// restarts with another model behind the same name (DriftModel is then
	// unused).
	DriftSilent bool
	// JudgeDriftAfter is the number of answered grading requests after
	// which the simulator, acting as a judge, silently updates (0: never):
	// grading replies then report the model id Model followed by
	// "-judge-update" and the fingerprint "fp_sim_judge", and fail a share
	// of the verdicts that would pass (judge.go). Ordinary answers do not
	// change.
	JudgeDriftAfter int
	// JudgeDriftShare is the share of passing llm-rubric verdicts that the
	// updated judge fails (the other graded types keep theirs). Zero means
	// DefaultJudgeDriftShare (0.3); any negative value means none (only
	// the judge's identity changes).
	JudgeDriftShare float64
	// TemplateAfter is the number of answered chat requests after which
	// the server's chat template changes (0: never): the prompt tokens it
	// reports for the same request fall (each message costs 1 token of
	// template instead of 4, and the text counts at about 55 %), and the
	// answers stay the same, as when llama.cpp's server restarts with
	// another chat template behind the same model name.
	TemplateAfter int
	// GreedyAfter is the number of answered chat requests after which the
	// server decodes greedily (0: never): the noise no longer flips
	// answers at random but fixes each (system prompt, question) pair's
	// answer, flipped or not, with the same probability, so the mean pass
	// rate stays put while cases move to always-right or always-wrong.
	GreedyAfter int
	// MoveAfter is the number of answered chat requests after which the
	// cases move both ways with the mean unchanged (0: never): MoveShare
	// of the pairs answered wrong become right, and as many pairs answered
	// right become wrong.
	MoveAfter int
	// MoveShare is the share of wrong pairs that MoveAfter turns right
	// (zero: DefaultMoveShare).
	MoveShare float64
	// Seed seeds the random faults, noise, latency jitter and fingerprint
	// draws (PCG). Given the same order of requests, a server replays the
	// same sequence. Zero is a valid seed.
	Seed uint64
	// Hostile, when set, answers every chat request in that hostile mode
	// (hostile.go) instead of simulating a model.
	Hostile string
	// HostileBytes is the body size of HostileHugeBody (default 50 MB).
	HostileBytes int
	// RedirectTo is the base URL HostileRedirect sends requests to.
	RedirectTo string
}

// withDefaults returns o with defaults applied and values clamped.
func (o Options) withDefaults() Options {
	if o.Model == "" {
		o.Model = DefaultModel
	}
	if o.DriftModel == "" {
		o.DriftModel = o.Model + driftModelSuffix
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = DefaultRetryAfter
	}
	o.Latency = max(o.Latency, 0)
	o.Jitter = max(o.Jitter, 0)
	o.DriftAfter = max(o.DriftAfter, 0)
	o.JudgeDriftAfter = max(o.JudgeDriftAfter, 0)
	o.JudgeDriftShare = defaultedShare(o.JudgeDriftShare, DefaultJudgeDriftShare)
	o.FailRate = share(o.FailRate)
	o.Rate429 = share(o.Rate429)
	o.TimeoutRate = share(o.TimeoutRate)
	o.GarbageRate = share(o.GarbageRate)
	o.Noise = share(o.Noise)
	o.WrongRate = defaultedShare(o.WrongRate, DefaultWrongRate)
	o.DriftShare = defaultedShare(o.DriftShare, DefaultDriftShare)
	o.TemplateAfter = max(o.TemplateAfter, 0)
	o.GreedyAfter = max(o.GreedyAfter, 0)
	o.MoveAfter = max(o.MoveAfter, 0)
	o.MoveShare = defaultedShare(o.MoveShare, DefaultMoveShare)
	return o
}

// share clamps x to [0, 1]; NaN becomes 0.
func share(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	return math.Min(x, 1)
}

// defaultedShare maps 0 to def and a negative value to 0.
func defaultedShare(x, def float64) float64 {
	if x == 0 {
		return def
	}
	return share(x)
}

// Server is the simulated endpoint. It is an http.Handler, safe for
// concurrent use.
type Server struct {
	opts Options

	mu  sync.Mutex // guards rng
	rng *rand.Rand

	requests atomic.Int64 // chat requests seen
	answered atomic.Int64 // chat requests answered (what DriftAfter counts)
	graded   atomic.Int64 // grading requests answered (what JudgeDriftAfter counts)
	ids      atomic.Uint64

	judgeUpdated atomic.Bool // set by UpdateJudge

	closeOnce sync.Once
	closed    chan struct{}
}

// New returns a simulated endpoint with opts' defaults applied.
func New(opts Options) *Server {
	return &Server{
		opts:   opts.withDefaults(),
		rng:    rand.New(rand.NewPCG(opts.Seed, 0x5eed)),
		closed: make(chan struct{}),
	}
}

// Options returns the options in effect, defaults applied.
func (s *Server) Options() Options { return s.opts }

// Requests returns the number of chat completion requests seen, whatever
// their outcome (answers, faults and rejected requests alike).
func (s *Server) Requests() int64 { return s.requests.Load() }

// Drifted reports whether the scripted model update has happened, so that
// the next answer comes from the updated model.
func (s *Server) Drifted() bool {
	return s.opts.DriftAfter > 0 && s.answered.Load() >= int64(s.opts.DriftAfter)
}

// Close releases the requests held by the timeout fault: their connections
// are aborted, and later timeout faults abort at once. Wire it to
// http.Server.RegisterOnShutdown so that a graceful shutdown need not wait
// for clients to give up. Close is idempotent; the server keeps answering.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

// ServeHTTP routes the OpenAI endpoints, with or without the /v1 prefix:
// POST chat/completions, POST embeddings, GET models and GET models/{id};
// and Anthropic's POST messages (messages.go).
// Authorization is neither required nor checked.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := path.Clean("/" + r.URL.Path)
	if p == "/v1" || strings.HasPrefix(p, "/v1/") {
		p = p[len("/v1"):]
	}
	switch {
	case p == "/chat/completions":
		if allow(w, r, http.MethodPost) {
			s.chat(w, r)
		}
	case p == "/messages":
		if allow(w, r, http.MethodPost) {
			s.messages(w, r)
		}
	case p == "/embeddings":
		if allow(w, r, http.MethodPost) {
			s.embeddings(w, r)
		}
	case p == "/models":
		if allow(w, r, http.MethodGet) {
			s.listModels(w)
		}
	case strings.HasPrefix(p, "/models/"):
		if allow(w, r, http.MethodGet) {
			s.getModel(w, strings.TrimPrefix(p, "/models/"))
		}
	default:
		writeError(w, http.StatusNotFound, errInvalidRequest, "unknown_url",
			"unknown URL "+r.Method+" "+r.URL.Path+" (the simulator serves /v1/chat/completions, /v1/messages, /v1/embeddings and /v1/models)")
	}
}

// allow answers 405 unless r uses method.
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, errInvalidRequest, "method_not_allowed",
		"method "+r.Method+" not allowed on "+r.URL.Path+"; use "+method)
	return false
}

// model returns the model id currently served.
func (s *Server) model(drifted bool) string {
	if drifted {
		return s.opts.DriftModel
	}
	return s.opts.Model
}
