package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/evald/evald/api"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/governance"
)

// decodeBody reads a small JSON body strictly: unknown fields are errors, so
// a client cannot pass an identity ("by") the token does not vouch for.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// apiSignoff signs off a suite's file thresholds; who signs is the token's owner.
func (s *Server) apiSignoff(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	by := Identity(r.Context())
	changes, err := s.opts.Daemon.Signoff(r.Context(), r.PathValue("name"), by, req.Reason)
	switch {
	case errors.Is(err, governance.ErrUnchanged):
		writeJSON(w, http.StatusOK, map[string]any{"status": "unchanged", "suite": r.PathValue("name")})
	case errors.Is(err, governance.ErrNoReason):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, governance.ErrSameSigner):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, daemon.ErrUnknown):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		s.internalError(w, r, err)
	default:
		if changes == nil {
			changes = []governance.Change{}
		}
		s.log.Info("thresholds signed off over HTTP", "suite", r.PathValue("name"), "by", by)
		writeJSON(w, http.StatusOK, map[string]any{"status": "signed_off", "suite": r.PathValue("name"), "by": by, "changes": changes})
	}
}

// apiSignedOff shows the sign-off in force of a suite: the latest entry of
// the server's record, which `evald run --server` compares with the
// record of the checkout it runs in. Read-only, like every GET.
func (s *Server) apiSignedOff(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	e, known := s.opts.Daemon.SignedOff(name)
	writeJSON(w, http.StatusOK, api.Signoff{Suite: name, Known: known, Entry: e})
}

// apiSilence mutes a suite's pages on a target; who silences is the token's owner.
func (s *Server) apiSilence(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Suite  string `json:"suite"`
		Target string `json:"target"`
		Reason string `json:"reason"`
		For    string `json:"for"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	d, err := time.ParseDuration(req.For)
	if err != nil {
		writeError(w, http.StatusBadRequest, `"for" must be a duration such as "24h"`)
		return
	}
	si, err := s.opts.Daemon.Silence(r.Context(), req.Suite, req.Target, Identity(r.Context()), req.Reason, d)
	switch {
	case errors.Is(err, governance.ErrNoReason), errors.Is(err, governance.ErrSilenceDuration), errors.Is(err, governance.ErrNoActor):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, daemon.ErrUnknown):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		s.internalError(w, r, err)
	default:
		writeJSON(w, http.StatusCreated, map[string]any{"id": si.ID, "suite": si.Suite, "target": si.Target, "by": si.By, "until": si.Until.UTC()})
	}
}
