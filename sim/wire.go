package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxBody bounds a request body.
const maxBody = 8 << 20

// OpenAI error types.
const (
	errInvalidRequest = "invalid_request_error"
	errServer         = "server_error"
	errRateLimit      = "requests"
)

// apiError is OpenAI's error object, sent as {"error": {...}}.
type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// writeError sends status with an OpenAI error object; an empty code is
// sent as null.
func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	e := apiError{Message: msg, Type: typ}
	if code != "" {
		e.Code = &code
	}
	writeJSON(w, status, struct {
		Error apiError `json:"error"`
	}{e})
}

// badRequest sends 400 invalid_request_error naming param (may be empty).
func badRequest(w http.ResponseWriter, param, msg string) {
	e := apiError{Message: msg, Type: errInvalidRequest}
	if param != "" {
		e.Param = &param
	}
	writeJSON(w, http.StatusBadRequest, struct {
		Error apiError `json:"error"`
	}{e})
}

// writeJSON sends v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own types are encoded here; this is a programming error.
		http.Error(w, "sim: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// decodeBody decodes a JSON request body into v. On failure it has already
// answered the client and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, errInvalidRequest, "request_too_large",
				fmt.Sprintf("request body larger than %d bytes", maxBody))
			return false
		}
		badRequest(w, "", "could not read the request body: "+err.Error())
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		badRequest(w, "", "We could not parse the JSON body of your request: "+err.Error())
		return false
	}
	return true
}
