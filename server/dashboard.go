package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/store"
)

// The dashboard: server-rendered HTML (html/template) with inline SVG
// charts, one stylesheet and one small script, all embedded, so it works
// with no network. Every stored text, model outputs above all, is data
// to the templates: escaped, never template.HTML.
//
//	GET /                          overview: one row per scheduled suite x target
//	GET /suites/{suite}/{target}   trends, markers of what changed, CUSUM, runs (?range=7d|30d|90d|365d, ?before=RUN_ID)
//	GET /runs/{id}                 one run: thresholds, verdict, diff against the baseline (?vs=RUN_ID), samples
//	GET /governance                pending threshold changes, active silences, the audit log (?before=SEQ)
//	GET /static/...                the stylesheet and the script

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// dashboardStore is what the dashboard reads besides runs and samples.
type dashboardStore interface {
	Trend(ctx context.Context, suite, target string, since time.Time, maxPoints int) ([]store.TrendPoint, error)
	RunPoints(ctx context.Context, suite, target string, since time.Time) ([]store.RunPoint, error)
	RunSpan(ctx context.Context, suite, target string, since time.Time) (int, time.Time, error)
	RunBuckets(ctx context.Context, suite, target string, since, t0 time.Time, width time.Duration) ([]store.RunBucket, error)
	RunChanges(ctx context.Context, suite, target string, since time.Time) ([]store.RunChange, error)
	PreviousRun(ctx context.Context, r store.Run, beforeID int64, statuses ...store.Status) (store.Run, error)
	CostSince(ctx context.Context, suite string, since time.Time) (float64, error)
	Silences(ctx context.Context, activeAt time.Time) ([]store.Silence, error)
	Signoffs(ctx context.Context, suite string) ([]store.Signoff, error)
	AuditEntries(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// pages holds one template set per page, each with the shared layout.
var pages = parsePages()

func parsePages() map[string]*template.Template {
	base := template.Must(template.New("").ParseFS(templateFiles, "templates/layout.html", "templates/parts.html"))
	out := map[string]*template.Template{}
	for _, name := range []string{"overview", "suite", "run", "governance", "error"} {
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFiles, "templates/"+name+".html"))
		out[name] = t
	}
	return out
}

// assetVersion busts browser caches when the embedded assets change.
var assetVersion = func() string {
	h := sha256.New()
	_ = fs.WalkDir(staticFiles, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(path)
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// csp allows the page's own stylesheet and script and nothing else: no
// inline script or style can run even if some text escaped its escaping.
const csp = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Server) dashboardRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.pageOverview)
	mux.HandleFunc("GET /suites/{suite}/{target}", s.pageSuite)
	mux.HandleFunc("GET /runs/{id}", s.pageRun)
	mux.HandleFunc("GET /runs/{id}/output", s.pageOutput)
	mux.HandleFunc("GET /governance", s.pageGovernance)
	static, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	}))
}

// layout is what every page passes to the shared layout.
type layout struct {
	Title   string
	Nav     string // "overview", "governance" or ""
	Now     string
	Asset   string
	Refresh int // seconds; 0: no automatic refresh
	// DBChecked says when the daemon's background check of the database
	// last ran ("" before the first); DBProblem is what it found.
	DBChecked, DBProblem string
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Server) layout(title, nav string) layout {
	now := s.now()
	l := layout{Title: title, Nav: nav, Now: fmtTime(now), Asset: assetVersion}
	if c := s.opts.Daemon.DBCheck(); !c.At.IsZero() {
		l.DBChecked, l.DBProblem = fmtAgo(c.At, now), c.Err
	}
	return l
}

// render executes a page into a buffer first, so that a template error
// never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.pageError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	layout
	Status    int
	Heading   string
	Message   string
	RequestID string
}

// pageNotFound answers 404 with a page saying what was not found.
func (s *Server) pageNotFound(w http.ResponseWriter, r *http.Request, msg string) {
	s.render(w, r, http.StatusNotFound, "error", errorPage{
		layout: s.layout("Not found", ""), Status: http.StatusNotFound, Heading: "Not found", Message: msg,
	})
}

// pageError logs the cause with a request id and shows only the id.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	s.log.Error("dashboard request failed", "method", r.Method, "path", r.URL.Path, "request_id", id, "err", err)
	var buf bytes.Buffer
	p := errorPage{layout: s.layout("Error", ""), Status: http.StatusInternalServerError, Heading: "Something went wrong",
		Message: "The page could not be built. The evald log has the cause under this request id.", RequestID: id}
	if terr := pages["error"].ExecuteTemplate(&buf, "layout", p); terr != nil {
		http.Error(w, "internal error (request "+id+"); see the evald log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", csp)
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(buf.Bytes())
}

// parseDetail reads a run's detail; an empty or unreadable one reads as empty.
func parseDetail(s string) daemon.Detail {
	var d daemon.Detail
	if s != "" {
		_ = json.Unmarshal([]byte(s), &d)
	}
	return d
}

// parseVerdict reads a run's verdict evidence (nil when there is none).
func parseVerdict(s string) *drift.Verdict {
	if s == "" {
		return nil
	}
	var v drift.Verdict
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil
	}
	return &v
}

// parseThresholds reads the thresholds a run applied, by metric.
func parseThresholds(s string) map[string]float64 {
	out := map[string]float64{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &out)
	}
	return out
}

// wilson is the 95% Wilson interval of a rate measured over n cases.
func wilson(rate, n float64) (lo, hi float64) {
	k := int(math.Round(n))
	if k < 1 {
		return 0, 1
	}
	return drift.Wilson(int(math.Round(rate*float64(k))), k, 0.05)
}
