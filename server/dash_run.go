package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/drift"
	"github.com/evald/evald/store"
)

// The run page: what ran, the thresholds it applied, the drift verdict
// with its evidence, the regrades of its outputs (if any), a diff against
// the baseline daemon.BaselineFor picks and every sample. The handler
// fetches (fetchRun), the view is built from what was fetched (runView,
// dash_run_view.go), then rendered.

// runData is what the run page shows, as read from the store.
type runData struct {
	run          store.Run
	detail       daemon.Detail
	verdict      *drift.Verdict
	samples      []store.Sample
	regrades     []store.Regrade
	moreRegrades bool
	// base is the baseline; baseSamples its samples (nil when there is
	// none, then noBase says why).
	base        daemon.RunBaseline
	baseSamples []store.Sample
	noBase      string
}

// notFound is a fetch failure the page answers with 404 and this message;
// any other error answers 500.
type notFound string

func (e notFound) Error() string { return string(e) }

func (s *Server) pageRun(w http.ResponseWriter, r *http.Request) {
	data, err := s.fetchRun(r)
	if nf, ok := errors.AsType[notFound](err); ok {
		s.pageNotFound(w, r, string(nf))
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	page := runView(data, s.now())
	title := page.Title
	page.layout = s.layout(title, "")
	s.render(w, r, http.StatusOK, "run", page)
}

// fetchRun reads what the page of the run in r's path shows.
func (s *Server) fetchRun(r *http.Request) (runData, error) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return runData{}, notFound("Run ids are positive whole numbers.")
	}
	var data runData
	data.run, err = s.opts.Store.Run(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return runData{}, notFound(fmt.Sprintf("There is no run %d.", id))
	}
	if err != nil {
		return runData{}, err
	}
	if data.samples, err = s.opts.Store.Samples(ctx, id); err != nil {
		return runData{}, err
	}
	data.detail, data.verdict = parseDetail(data.run.Detail), parseVerdict(data.run.VerdictDetail)
	regrades, err := s.opts.Store.Regrades(ctx, store.RegradeFilter{Suite: data.run.Suite, RunID: id, Limit: maxRunRegrades + 1})
	if err != nil {
		return runData{}, err
	}
	if len(regrades) > maxRunRegrades {
		regrades, data.moreRegrades = regrades[:maxRunRegrades], true
	}
	data.regrades = regrades
	var vs int64
	if q := r.URL.Query().Get("vs"); q != "" {
		if vs, err = strconv.ParseInt(q, 10, 64); err != nil || vs < 1 {
			return runData{}, notFound("?vs= takes the id of the run to compare with.")
		}
	}
	return data, s.fetchBaseline(ctx, &data, vs)
}

// fetchBaseline reads data.run's baseline and its samples, or says in
// data.noBase why it has none.
func (s *Server) fetchBaseline(ctx context.Context, data *runData, vs int64) error {
	run := data.run
	base, err := daemon.BaselineFor(ctx, s.opts.Store, run, data.detail, data.verdict, vs)
	switch {
	case errors.Is(err, store.ErrNotFound) && vs > 0:
		return notFound(fmt.Sprintf("There is no run %d to compare with.", vs))
	case errors.Is(err, store.ErrNotFound):
		data.noBase = "No earlier completed production run of " + run.Suite + " on " + run.Target + " to compare with."
		return nil
	case err != nil:
		return err
	}
	b := base.Gate
	switch base.Missing {
	case daemon.GateNoBaseline:
		data.noBase = "The CI gate compared this candidate with no baseline: its thresholds alone decided. Compare with a run by adding ?vs=RUN_ID to this page's address."
	case daemon.GateRemote:
		data.noBase = fmt.Sprintf("The CI gate's baseline, run %d of %s, is not in this database.", b.RunID, b.Source)
	case daemon.GateGone:
		data.noBase = fmt.Sprintf("The CI gate's baseline, run %d, is no longer in this database.", b.RunID)
	default:
		data.base = base
		data.baseSamples, err = s.opts.Store.Samples(ctx, base.Run.ID)
	}
	return err
}
