package server

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/evald/evald/store"
)

func TestAPICalibrations(t *testing.T) {
	s, st := newServer(t, &fakeDaemon{})
	ctx := context.Background()
	rate := 0.5
	for _, suite := range []string{"faq", "orders"} {
		if _, err := st.SaveCalibration(ctx, store.Calibration{Suite: suite, JudgeTarget: "grader", JudgeVersion: "v", SetHash: "h",
			Trigger: store.CalibrationAfterRun, RunID: 1, At: time.Now(), Items: 2, Agreements: 1, Disagreements: 1, Rate: &rate,
			MaxDisagreement: 0.2, Status: "failed", CostUSD: 0.25, Detail: `{"results":[{"reason":"<b>x</b>"}]}`}, store.AlertWrites{}); err != nil {
			t.Fatal(err)
		}
	}
	code, body := get(t, s, "/api/calibrations?suite=faq")
	var out []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("GET /api/calibrations = %d %s", code, body)
	}
	if len(out) != 1 || out[0]["suite"] != "faq" || out[0]["status"] != "failed" || out[0]["rate"] != 0.5 || out[0]["cost_usd"] != 0.25 || out[0]["detail"] == nil {
		t.Errorf("calibrations = %v, want faq's failed one with its cost and detail", out)
	}
	if code, _ := get(t, s, "/api/calibrations?limit=0"); code != 400 {
		t.Errorf("limit=0 = %d, want 400", code)
	}
	if code, body := get(t, s, "/api/calibrations"); code != 200 || json.Unmarshal([]byte(body), &out) != nil || len(out) != 2 {
		t.Errorf("all calibrations = %d, %d rows, want 2", code, len(out))
	}
}
