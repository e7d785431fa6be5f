package server

import (
	"context"
	"net/http"
	"time"

	"github.com/evald/evald/store"
)

// regradeStore is what the regrades API and the run page read.
type regradeStore interface {
	Regrades(ctx context.Context, f store.RegradeFilter) ([]store.Regrade, error)
}

type regradeJSON struct {
	ID               int64     `json:"id"`
	Suite            string    `json:"suite"`
	Target           string    `json:"target"`
	RunID            int64     `json:"run_id"`
	JudgeTarget      string    `json:"judge_target"`
	JudgeVersion     string    `json:"judge_version"`
	At               time.Time `json:"at"`
	Status           string    `json:"status"`
	Graded           int       `json:"graded"`
	Compared         int       `json:"compared"`
	PassToFail       int       `json:"pass_to_fail"`
	FailToPass       int       `json:"fail_to_pass"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	CostUSD          float64   `json:"cost_usd"`
}

// apiRegrades lists regrades of stored runs (`evald regrade`), newest
// first (?suite= one suite's, ?limit= at most that many, default 100):
// which run was graded again, by which judge, with what outcome, and what
// the judge was paid, which counts toward the suite's daily budget.
func (s *Server) apiRegrades(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, q)
	if !ok {
		return
	}
	list, err := s.opts.Store.Regrades(r.Context(), store.RegradeFilter{Suite: q.Get("suite"), Limit: limit})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]regradeJSON, len(list))
	for i, g := range list {
		out[i] = regradeJSON{ID: g.ID, Suite: g.Suite, Target: g.Target, RunID: g.RunID, JudgeTarget: g.JudgeTarget,
			JudgeVersion: g.JudgeVersion, At: g.At.UTC(), Status: g.Status, Graded: g.Graded, Compared: g.Compared,
			PassToFail: g.PassToFail, FailToPass: g.FailToPass, PromptTokens: g.PromptTokens,
			CompletionTokens: g.CompletionTokens, CostUSD: g.CostUSD}
	}
	writeJSON(w, http.StatusOK, out)
}
