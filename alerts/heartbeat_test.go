package alerts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHeartbeatPing(t *testing.T) {
	const uuid = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"
	var pings atomic.Int32
	status := atomic.Int32{}
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/ping/"+uuid {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		pings.Add(1)
		w.WriteHeader(int(status.Load()))
		w.Write([]byte("OK"))
	}))
	defer srv.Close()
	h := &Heartbeat{URL: Secret(srv.URL + "/ping/" + uuid)}
	if err := h.Ping(context.Background()); err != nil {
		t.Fatalf("Ping() = %v, want nil", err)
	}
	if got := pings.Load(); got != 1 {
		t.Errorf("pings = %d, want 1", got)
	}
	status.Store(503)
	err := h.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), "http 503") {
		t.Fatalf("Ping() = %v, want the 503", err)
	}
	AssertNoSecret(t, uuid, err.Error())

	srv.Close()
	err = h.Ping(context.Background())
	if err == nil {
		t.Fatal("Ping() to a closed server = nil, want an error")
	}
	AssertNoSecret(t, uuid, err.Error())
}
