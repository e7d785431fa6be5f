package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

// Daemon is what the server asks of the application.
type Daemon interface {
	Trigger(suite, target, trigger string) error
	Ready(ctx context.Context) error
	Pairs() []daemon.Pair
	Signoff(ctx context.Context, suite, by, reason string) ([]governance.Change, error)
	// SignedOff is the suite's sign-off in force (nil: none) and whether
	// the suite is known.
	SignedOff(suite string) (*governance.RecordEntry, bool)
	Silence(ctx context.Context, suite, target, by, reason string, d time.Duration) (store.Silence, error)
	// NextRun is when the scheduler next starts suite on target (zero when
	// it is not scheduled or the scheduler is not running).
	NextRun(suite, target string) time.Time
	// StartFailure is why the pair's newest run could not start, if so.
	StartFailure(suite, target string) (daemon.StartFailure, bool)
	// DBCheck is the latest background check of the database.
	DBCheck() daemon.DBCheck
	// Detectability is what the drift detector can catch on the pair (ok
	// false when it is not configured).
	Detectability(ctx context.Context, suite, target string) (det drift.Detectability, ok bool, err error)
}

// Store is what the server reads.
type Store interface {
	Runs(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	EachRun(ctx context.Context, f store.RunFilter, order store.Order, fn func(store.Run) error) error
	PageEnd(ctx context.Context, f store.RunFilter) (last int64, more bool, err error)
	Run(ctx context.Context, id int64) (store.Run, error)
	Samples(ctx context.Context, runID int64) ([]store.Sample, error)
	Incidents(ctx context.Context, openOnly bool, limit int) ([]store.Incident, error)
	Deliveries(ctx context.Context, limit int) ([]store.Delivery, error)
	dashboardStore
	calibrationStore
	regradeStore
}

// Options configure a Server.
type Options struct {
	Addr     string // default 127.0.0.1:8080; ":0" style ports pick a free one
	Daemon   Daemon
	Store    Store
	Gatherer prometheus.Gatherer
	// Tokens maps bearer tokens to the identity they stand for.
	Tokens map[string]string
	Logger *slog.Logger
	// Now is the dashboard's clock (default time.Now).
	Now func() time.Time
}

// Server serves HTTP on a listener bound in New, so Addr is known at once.
type Server struct {
	opts Options
	log  *slog.Logger
	ln   net.Listener
	srv  *http.Server
	done chan error
	// trends caches the overview's sparkline points.
	trends trendCache
	// detects caches the suite pages' detectability.
	detects detectCache
}

// New binds the listener and builds the routes; Start serves.
func New(opts Options) (*Server, error) {
	if opts.Daemon == nil || opts.Store == nil {
		return nil, errors.New("server: a daemon and a store are required")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Gatherer == nil {
		opts.Gatherer = prometheus.NewRegistry()
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	s := &Server{opts: opts, log: opts.Logger, ln: ln, done: make(chan error, 1)}
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// Addr is the bound address, e.g. "127.0.0.1:8080".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Start serves in the background until Stop.
func (s *Server) Start() {
	go func() {
		err := s.srv.Serve(s.ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
}

// Stop shuts the server down, waiting for requests in flight until ctx ends.
func (s *Server) Stop(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		return fmt.Errorf("stop http server: %w", err)
	}
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/suites", s.apiSuites)
	mux.HandleFunc("GET /api/runs", s.apiRuns)
	mux.HandleFunc("GET /api/runs/{id}", s.apiRun)
	mux.HandleFunc("GET /api/alerts", s.apiAlerts)
	mux.HandleFunc("GET /api/calibrations", s.apiCalibrations)
	mux.HandleFunc("GET /api/regrades", s.apiRegrades)
	mux.HandleFunc("GET /api/suites/{name}/signoff", s.apiSignedOff)
	mux.Handle("POST /api/runs", s.auth(http.HandlerFunc(s.apiTrigger)))
	mux.Handle("POST /api/suites/{name}/signoff", s.auth(http.HandlerFunc(s.apiSignoff)))
	mux.Handle("POST /api/silences", s.auth(http.HandlerFunc(s.apiSilence)))
	s.dashboardRoutes(mux)
	return mux
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.opts.Daemon.Ready(r.Context()); err != nil {
		s.log.Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready")
		return
	}
	fmt.Fprintln(w, "ready")
}

type identityKey struct{}

// auth admits requests carrying a known bearer token and records who sent it.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		who := ""
		if ok && tok != "" {
			for known, name := range s.opts.Tokens {
				if subtle.ConstantTimeCompare([]byte(known), []byte(tok)) == 1 {
					who = name
				}
			}
		}
		if who == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="evald"`)
			msg := "a valid bearer token is required to change state; the tokens are the name=token pairs in the environment variable that evald.yaml's server.tokens_env names"
			if len(s.opts.Tokens) == 0 {
				msg = "this server accepts no changes: it has no API tokens; set server.tokens_env in evald.yaml to an environment variable holding name=token pairs, set that variable, and restart evald serve"
			}
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, who)))
	})
}

// Identity returns who the request's token belongs to ("" if none).
func Identity(ctx context.Context) string {
	who, _ := ctx.Value(identityKey{}).(string)
	return who
}

// ParseTokens reads "alice=tok1,bob=tok2" into token -> identity.
func ParseTokens(v string) (map[string]string, error) {
	out := map[string]string{}
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		who, tok, ok := strings.Cut(part, "=")
		who, tok = strings.TrimSpace(who), strings.TrimSpace(tok)
		if !ok || who == "" || tok == "" {
			return nil, errors.New("tokens must look like name=token,name2=token2")
		}
		out[tok] = who
	}
	return out, nil
}
