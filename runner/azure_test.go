package runner

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evald/evald/configs"
)

// fakeAzure speaks Azure OpenAI's chat completions: POST
// /openai/deployments/DEPLOYMENT/chat/completions?api-version=V with the
// key in the api-key header; reply answers request n (from 1).
func fakeAzure(t testing.TB, deployment, version, key string, reply func(n int, w http.ResponseWriter)) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/openai/deployments/"+deployment+"/chat/completions" || r.URL.Query().Get("api-version") != version:
			http.NotFound(w, r)
		case r.Header.Get("api-key") != key || r.Header.Get("Authorization") != "":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}`)
		default:
			reply(int(n.Add(1)), w)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func azureTarget(t testing.TB, url, key string) Target {
	t.Helper()
	ct := configs.Target{Name: "azure-prod", BaseURL: url, Model: "gpt-4o-mini", Provider: configs.ProviderAzure,
		Deployment: "evald-4o-mini", APIVersion: "2024-10-21", Price: configs.Price{InputPerMTok: 1, OutputPerMTok: 2}}
	p, err := NewOpenAI(ct, key, nil)
	if err != nil {
		t.Fatalf("NewOpenAI: %v", err)
	}
	return Target{Name: ct.Name, Provider: p, Gate: NewGate(4, 0), Timeout: 5 * time.Second, Retries: 3, Price: ct.Price}
}

// An Azure target runs a suite against its deployment: tokens, cost and
// the model identity Azure returns are kept as for any OpenAI target, and
// a 429's retry-after is honoured.
func TestAzureTargetRunsSuite(t *testing.T) {
	const key = "azure-key-0123456789abcdef"
	srv := fakeAzure(t, "evald-4o-mini", "2024-10-21", key, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded the rate limit."}}`)
			return
		}
		io.WriteString(w, completion("yes", "gpt-4o-mini-2024-07-18", "fp_azure", "stop"))
	})
	sum, samples := collect(t, context.Background(), testSuite(2, 1), azureTarget(t, srv.URL, key), fast)
	if sum.Outcome != Completed || sum.Errors != 0 || len(samples) != 2 {
		t.Fatalf("outcome %v, errors %d, samples %d; want completed, 0, 2", sum.Outcome, sum.Errors, len(samples))
	}
	for _, s := range samples {
		if s.Model != "gpt-4o-mini-2024-07-18" || s.Fingerprint != "fp_azure" || s.PromptTokens != 10 || s.CompletionTokens != 4 {
			t.Errorf("sample = model %q fp %q tokens %d/%d, want Azure's model, fingerprint and usage", s.Model, s.Fingerprint, s.PromptTokens, s.CompletionTokens)
		}
	}
	if got, want := sum.CostUSD, 2*(10*1+4*2)/1e6; got < want*0.999 || got > want*1.001 {
		t.Errorf("cost = %v, want %v", got, want)
	}
	attempts := 0
	for _, s := range samples {
		attempts += s.Attempts
	}
	if attempts != 3 {
		t.Errorf("attempts = %d, want 3 (the 429 retried once)", attempts)
	}
}

// A key Azure refuses is a client error with its 401, never retried, and
// the key is not in the error.
func TestAzureTargetRefusedKey(t *testing.T) {
	srv := fakeAzure(t, "evald-4o-mini", "2024-10-21", "the-right-key", func(int, http.ResponseWriter) {})
	_, samples := collect(t, context.Background(), testSuite(1, 1), azureTarget(t, srv.URL, "wrong-key-0123456789"), fast)
	s := samples[0]
	if s.ErrClass != ClassClient || s.ErrStatus != http.StatusUnauthorized || s.Attempts != 1 {
		t.Fatalf("sample = %s %d after %d attempts, want client_error 401 at once", s.ErrClass, s.ErrStatus, s.Attempts)
	}
	if strings.Contains(s.ErrText, "wrong-key") {
		t.Errorf("error %q shows the key", s.ErrText)
	}
}
