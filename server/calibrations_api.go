package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/evald/evald/store"
)

// calibrationStore is what the calibrations API reads.
type calibrationStore interface {
	Calibrations(ctx context.Context, suite string, limit int) ([]store.Calibration, error)
}

type calibrationJSON struct {
	ID               int64           `json:"id"`
	Suite            string          `json:"suite"`
	JudgeTarget      string          `json:"judge_target"`
	JudgeVersion     string          `json:"judge_version"`
	JudgeModel       string          `json:"judge_model"`
	JudgeFingerprint string          `json:"judge_fingerprint"`
	SetHash          string          `json:"set_hash"`
	Trigger          string          `json:"trigger"`
	RunID            int64           `json:"run_id,omitempty"`
	At               time.Time       `json:"at"`
	Status           string          `json:"status"`
	Items            int             `json:"items"`
	Agreements       int             `json:"agreements"`
	Disagreements    int             `json:"disagreements"`
	Missing          int             `json:"missing"`
	Rate             *float64        `json:"rate"`
	MaxDisagreement  float64         `json:"max_disagreement"`
	CostUSD          float64         `json:"cost_usd"`
	Detail           json.RawMessage `json:"detail"`
}

// apiCalibrations lists judge calibrations, newest first (?suite= one
// suite's, ?limit= at most that many, default 100). The detail holds the
// judge's reasons: untrusted text, to be escaped by whoever renders it.
func (s *Server) apiCalibrations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, q)
	if !ok {
		return
	}
	list, err := s.opts.Store.Calibrations(r.Context(), q.Get("suite"), limit)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]calibrationJSON, len(list))
	for i, c := range list {
		out[i] = calibrationJSON{ID: c.ID, Suite: c.Suite, JudgeTarget: c.JudgeTarget, JudgeVersion: c.JudgeVersion,
			JudgeModel: c.JudgeModel, JudgeFingerprint: c.JudgeFingerprint, SetHash: c.SetHash, Trigger: c.Trigger, RunID: c.RunID,
			At: c.At.UTC(), Status: c.Status, Items: c.Items, Agreements: c.Agreements, Disagreements: c.Disagreements,
			Missing: c.Missing, Rate: c.Rate, MaxDisagreement: c.MaxDisagreement, CostUSD: c.CostUSD, Detail: rawJSON([]byte(c.Detail))}
	}
	writeJSON(w, http.StatusOK, out)
}
