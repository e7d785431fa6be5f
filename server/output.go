package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/evald/evald/api"
	"github.com/evald/evald/store"
)

// clipOutput is api.ClipOutput: the dashboard shows what the API serves.
func clipOutput(sm store.Sample) (shown, full string) { return api.ClipOutput(sm) }

// pageOutput serves one sample's whole output as plain text: the explicit
// "full output" link of a clipped one.
func (s *Server) pageOutput(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	repeat, rerr := strconv.Atoi(r.URL.Query().Get("repeat"))
	caseID := r.URL.Query().Get("case")
	if err != nil || id < 1 || rerr != nil || caseID == "" {
		http.Error(w, "want /runs/{id}/output?case=ID&repeat=N", http.StatusBadRequest)
		return
	}
	samples, err := s.opts.Store.Samples(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, sm := range samples {
		if sm.CaseID == caseID && sm.Repeat == repeat {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Write([]byte(sm.Output))
			return
		}
	}
	http.NotFound(w, r)
}
