package sim

import "net/http"

// Creation times reported for the model before and after the drift.
const (
	modelCreated      = 1767225600 // 2026-01-01
	driftModelCreated = 1793491200 // 2026-11-01
)

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// current returns the model object currently served.
func (s *Server) current() modelObject {
	drifted := s.Drifted() && !s.opts.DriftSilent
	created := int64(modelCreated)
	if drifted {
		created = driftModelCreated
	}
	return modelObject{ID: s.model(drifted), Object: "model", Created: created, OwnedBy: "evald-sim"}
}

// listModels serves GET /v1/models: the one model currently served.
func (s *Server) listModels(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}{"list", []modelObject{s.current()}})
}

// getModel serves GET /v1/models/{id}.
func (s *Server) getModel(w http.ResponseWriter, id string) {
	m := s.current()
	if id != m.ID {
		writeError(w, http.StatusNotFound, errInvalidRequest, "model_not_found",
			"The model '"+id+"' does not exist or you do not have access to it.")
		return
	}
	writeJSON(w, http.StatusOK, m)
}
