package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/evald/evald/drift"
	"github.com/evald/evald/store"
)

// TestAPIRunCarriesDrift: GET /api/runs/{id} carries the run's drift
// verdict and its numbers (issue 21: it had the verdict's kind only).
func TestAPIRunCarriesDrift(t *testing.T) {
	s, st := newServer(t, &fakeDaemon{})
	ctx := context.Background()
	id, err := st.CreateRun(ctx, store.Run{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	pr := 0.5
	if err := st.FinishRun(ctx, store.Run{ID: id, Status: "passed", FinishedAt: time.Now(), PassRate: &pr, MeanScore: &pr, Samples: 1, Cases: 1}); err != nil {
		t.Fatal(err)
	}
	v := drift.Verdict{RunID: id, Kind: drift.KindOK, Message: "D = -1.0 pp (SE 2.0 pp), S = 0.40 of 9.08", D: -0.01, SETot: 0.02, S: 0.4, H: 9.08, RefRuns: 20, P: 0.31}
	raw, _ := json.Marshal(v)
	if err := st.SetVerdict(ctx, id, v.Kind, string(raw)); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, s, "/api/runs/"+strconv.FormatInt(id, 10))
	if code != http.StatusOK {
		t.Fatalf("GET /api/runs/%d = %d", id, code)
	}
	var got struct {
		Verdict string         `json:"verdict"`
		Drift   *drift.Verdict `json:"drift"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Drift == nil {
		t.Fatalf("decode: %v; drift %v in %s", err, got.Drift, body)
	}
	if d := got.Drift; got.Verdict != "ok" || d.Kind != "ok" || d.D != -0.01 || d.S != 0.4 || d.H != 9.08 || d.RefRuns != 20 || d.P != 0.31 {
		t.Errorf("drift = %+v (verdict %q), want the stored verdict's numbers", d, got.Verdict)
	}
}
