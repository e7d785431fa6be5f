package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/evald/evald/api"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/store"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// internalError logs the cause and shows the client a safe message.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal error; see the evald log")
}

type suiteJSON struct {
	Suite           string   `json:"suite"`
	Target          string   `json:"target"`
	Schedule        string   `json:"schedule"`
	BudgetUSDPerDay float64  `json:"budget_usd_per_day"`
	LastRun         *api.Run `json:"last_run"`
	// Detectability is what the drift detector can catch on the pair
	// (docs/drift.md "Under-powered suites").
	Detectability *drift.Detectability `json:"detectability,omitempty"`
}

func (s *Server) apiSuites(w http.ResponseWriter, r *http.Request) {
	out := []suiteJSON{}
	for _, p := range s.opts.Daemon.Pairs() {
		sj := suiteJSON{Suite: p.Suite, Target: p.Target, Schedule: p.Schedule, BudgetUSDPerDay: p.BudgetUSDPerDay}
		runs, err := s.opts.Store.Runs(r.Context(), store.RunFilter{Suite: p.Suite, Target: p.Target, Limit: 1})
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if len(runs) > 0 {
			rj := api.FromRun(runs[0])
			sj.LastRun = &rj
		}
		det, ok, err := s.opts.Daemon.Detectability(r.Context(), p.Suite, p.Target)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if ok {
			sj.Detectability = &det
		}
		out = append(out, sj)
	}
	writeJSON(w, http.StatusOK, out)
}

// queryLimit reads ?limit= of a list endpoint: 1 to 10000, 100 when absent.
// On a bad value it answers 400 and returns false.
func queryLimit(w http.ResponseWriter, q url.Values) (int, bool) {
	v := q.Get("limit")
	if v == "" {
		return 100, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		writeError(w, http.StatusBadRequest, "limit must be a whole number from 1 to 10000")
		return 0, false
	}
	return n, true
}

// apiRuns streams a page of runs, newest first, as a JSON array: the
// runs are read from the store a few hundred at a time and written as they
// come, so memory stays flat at any limit. When older runs match, a Link
// header (rel="next") gives the next page's URL (before=the page's last
// run). A run's detail is left out unless detail=1.
func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, q)
	if !ok {
		return
	}
	f := store.RunFilter{Suite: q.Get("suite"), Target: q.Get("target"), Limit: limit}
	if v := q.Get("before"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			writeError(w, http.StatusBadRequest, "before must be a run id (a positive whole number)")
			return
		}
		f.BeforeID = id
	}
	withDetail := false
	switch q.Get("detail") {
	case "", "0":
	case "1":
		withDetail = true
	default:
		writeError(w, http.StatusBadRequest, "detail must be 1 (include each run's detail) or 0")
		return
	}
	last, more, err := s.opts.Store.PageEnd(r.Context(), f)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if more {
		// The page is the runs from last on: a run recorded meanwhile
		// lengthens this page rather than pushing one off it.
		f.AfterID, f.Limit = last-1, 0
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("before", strconv.FormatInt(last, 10))
		w.Header().Set("Link", "<"+(&url.URL{Path: r.URL.Path, RawQuery: next.Encode()}).String()+`>; rel="next"`)
	}
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 32<<10)
	sep, n := "[\n", 0
	err = s.opts.Store.EachRun(r.Context(), f, store.NewestFirst, func(run store.Run) error {
		a := api.FromRun(run)
		if !withDetail {
			a.Detail = nil
		}
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		bw.WriteString(sep)
		sep = ",\n"
		m, err := bw.Write(b)
		n += len(sep) + m
		return err
	})
	if err != nil && n == bw.Buffered() {
		// Nothing is sent yet: a plain error answer.
		w.Header().Del("Link")
		bw.Reset(w)
		s.internalError(w, r, err)
		return
	}
	if err != nil {
		// Part of the answer may be sent: end the connection, so that the
		// client sees a broken answer rather than a short list.
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
	if n == 0 {
		bw.WriteString("[]\n")
	} else {
		bw.WriteString("\n]\n")
	}
	_ = bw.Flush() // the client went away: nothing to tell it
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, "run id must be a positive whole number")
		return
	}
	run, err := s.opts.Store.Run(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such run")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	samples, err := s.opts.Store.Samples(r.Context(), id)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := api.RunWithSamples{Run: api.FromRun(run), Samples: make([]api.Sample, len(samples))}.WithDrift(run.VerdictDetail)
	for i, smp := range samples {
		out.Samples[i] = api.FromSample(smp)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiTrigger(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Suite  string `json:"suite"`
		Target string `json:"target"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Suite == "" || req.Target == "" {
		writeError(w, http.StatusBadRequest, `body must be {"suite": NAME, "target": NAME}`)
		return
	}
	err := s.opts.Daemon.Trigger(req.Suite, req.Target, daemon.TriggerManual)
	switch {
	case errors.Is(err, daemon.ErrUnknown):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, daemon.ErrBusy):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, daemon.ErrStopped):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case err != nil:
		s.internalError(w, r, err)
	default:
		s.log.Info("run requested over HTTP", "suite", req.Suite, "target", req.Target, "by", Identity(r.Context()))
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted", "suite": req.Suite, "target": req.Target, "requested_by": Identity(r.Context())})
	}
}
