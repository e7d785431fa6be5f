package sim

import (
	"fmt"
	"net/http"
	"strings"
)

// Hostile modes: with Options.Hostile set, every chat request gets that
// answer, whatever it asks. They are what a broken, misconfigured or
// malicious endpoint sends, for testing that a client stays bounded and
// says why.
const (
	// HostileNegativeTokens: a good answer whose usage counts are negative.
	HostileNegativeTokens = "negative-tokens"
	// HostileHugeTokens: a good answer claiming 10^12 prompt tokens.
	HostileHugeTokens = "huge-tokens"
	// HostileFloatTokens: usage counts that are not integers.
	HostileFloatTokens = "float-tokens"
	// HostileNullContent: content null and no tool call.
	HostileNullContent = "null-content"
	// HostileHugeBody: a well-formed answer of HostileBytes bytes (default
	// 50 MB), streamed, never held in memory.
	HostileHugeBody = "huge-body"
	// HostileEndless: a 200 answer whose body never ends.
	HostileEndless = "endless"
	// HostileUnauthorized: 401 "Incorrect API key provided" to every request.
	HostileUnauthorized = "unauthorized"
	// HostileRetryAfter: 429 asking to retry after 99999 seconds.
	HostileRetryAfter = "retry-after"
	// HostileRedirect: 307 to RedirectTo (same path).
	HostileRedirect = "redirect"
)

// HostileModes lists the modes, for flags and errors.
var HostileModes = []string{HostileNegativeTokens, HostileHugeTokens, HostileFloatTokens, HostileNullContent,
	HostileHugeBody, HostileEndless, HostileUnauthorized, HostileRetryAfter, HostileRedirect}

// DefaultHostileBytes is the size of a HostileHugeBody answer.
const DefaultHostileBytes = 50 << 20

func (s *Server) hostile(w http.ResponseWriter, r *http.Request) {
	id := s.ids.Add(1)
	answer := func(content, usage string) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-h%d","object":"chat.completion","created":1,"model":%q,`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],"usage":%s}`,
			id, s.opts.Model, content, usage)
	}
	switch s.opts.Hostile {
	case HostileNegativeTokens:
		answer(`"yes"`, `{"prompt_tokens":-99999999,"completion_tokens":-5,"total_tokens":-100000004}`)
	case HostileHugeTokens:
		answer(`"yes"`, `{"prompt_tokens":1000000000000,"completion_tokens":1,"total_tokens":1000000000001}`)
	case HostileFloatTokens:
		answer(`"yes"`, `{"prompt_tokens":10.5,"completion_tokens":2,"total_tokens":12.5}`)
	case HostileNullContent:
		answer(`null`, `{"prompt_tokens":10,"completion_tokens":0,"total_tokens":10}`)
	case HostileHugeBody:
		n := s.opts.HostileBytes
		if n <= 0 {
			n = DefaultHostileBytes
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-h%d","object":"chat.completion","created":1,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":"`, id, s.opts.Model)
		chunk := []byte(strings.Repeat("yes ", 8<<10))
		for written := 0; written < n; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return // the client stopped reading
			}
		}
		fmt.Fprint(w, `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":10,"total_tokens":20}}`)
	case HostileEndless:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-h%d","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`, id)
		chunk := []byte(strings.Repeat("more ", 8<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case HostileUnauthorized:
		writeError(w, http.StatusUnauthorized, errInvalidRequest, "invalid_api_key",
			"Incorrect API key provided: "+keyHint(r.Header.Get("Authorization"))+". You can find your API key at https://platform.openai.com/account/api-keys.")
	case HostileRetryAfter:
		w.Header().Set("Retry-After", "99999")
		writeError(w, http.StatusTooManyRequests, errRateLimit, "rate_limit_exceeded", "Rate limit reached (simulated). Please try again in 27h46m.")
	case HostileRedirect:
		http.Redirect(w, r, strings.TrimRight(s.opts.RedirectTo, "/")+r.URL.Path, http.StatusTemporaryRedirect)
	default:
		writeError(w, http.StatusInternalServerError, errServer, "", "unknown hostile mode "+s.opts.Hostile)
	}
}

// keyHint echoes the key the way OpenAI does (its first and last four
// characters): a client must redact even that.
func keyHint(auth string) string {
	k := strings.TrimPrefix(auth, "Bearer ")
	if len(k) < 12 {
		return "***"
	}
	return k[:4] + "*****" + k[len(k)-4:]
}
