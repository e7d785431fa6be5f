package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/evald/evald/sim"
)

// TestRunAgainstHostileEndpoints runs evald run against each hostile
// answer: it ends (no panic, no hang), with the documented exit code, and
// stderr says why in the endpoint's own words, without the key.
func TestRunAgainstHostileEndpoints(t *testing.T) {
	const key = "sk-hostile-test-key-0123"
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/v1"
	}
	for _, tc := range []struct {
		name string
		url  func() string
		code int
		want string
	}{
		{"negative-tokens", func() string { return simServer(t, sim.Options{Hostile: sim.HostileNegativeTokens}) }, exitNoResult,
			"(bad_response 6: usage.prompt_tokens is -99999999: a token count cannot be negative)"},
		{"huge-body", func() string { return simServer(t, sim.Options{Hostile: sim.HostileHugeBody, HostileBytes: 50 << 20}) }, exitNoResult,
			"(bad_response 6: too_large: the response body is larger than max_response_bytes (4194304 bytes); nothing past it was read)"},
		{"endless", func() string { return simServer(t, sim.Options{Hostile: sim.HostileEndless}) }, exitNoResult, "bad_response 6: too_large"},
		{"null-content", func() string { return simServer(t, sim.Options{Hostile: sim.HostileNullContent}) }, exitNoResult,
			"bad_response 6: the answer has no content (content: null) and no tool call"},
		{"retry-after", func() string { return simServer(t, sim.Options{Hostile: sim.HostileRetryAfter}) }, exitNoResult,
			"rate_limited 6: HTTP 429: Rate limit reached (simulated). Please try again in 27h46m.; the endpoint asked to wait 27h46m39s before retrying, more than the 2m0s evald waits: not retried"},
		{"redirect", func() string {
			other := simServer(t, sim.Options{})
			return simServer(t, sim.Options{Hostile: sim.HostileRedirect, RedirectTo: strings.TrimSuffix(other, "/v1")})
		}, exitNoResult, "client_error 6: HTTP 307: the endpoint redirects (HTTP 307) to http://127.0.0.1:"},
		{"refused", refused, exitNoResult, "(unreachable 6: cannot connect to 127.0.0.1:"},
		{"unauthorized", func() string { return simServer(t, sim.Options{Hostile: sim.HostileUnauthorized}) }, exitUsage,
			"evald run: faq on prod: the endpoint refused the key in OPENAI_API_KEY: 401 Incorrect API key provided: sk-h*****0123."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OPENAI_API_KEY", key)
			cfg := project(t, tc.url(), "0.9")
			edit(t, cfg, "    model: sim-1\n", "    model: sim-1\n    api_key_env: OPENAI_API_KEY\n")
			code, out, errOut := evald(t, "run", "--config", cfg, "--format", "json", "faq")
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("run = exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.want)
			}
			if strings.Contains(out+errOut, key) {
				t.Errorf("the key leaks into the output: %s %s", out, errOut)
			}
			var rep struct {
				Status      string            `json:"status"`
				FirstErrors map[string]string `json:"first_errors"`
				Tokens      struct{ Prompt int64 }
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("report %q: %v", out, err)
			}
			if rep.Status != "errored" || len(rep.FirstErrors) != 1 || rep.Tokens.Prompt != 0 {
				t.Errorf("report: status %s, first_errors %v, prompt tokens %d; want errored, one class, 0", rep.Status, rep.FirstErrors, rep.Tokens.Prompt)
			}
		})
	}
}
