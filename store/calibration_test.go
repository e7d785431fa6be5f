package store

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCalibrations(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	rate := 0.1
	first := Calibration{
		Suite: "faq", JudgeTarget: "grader", JudgeVersion: "v1", JudgeModel: "judge-1", JudgeFingerprint: "fp_a", SetHash: "h1",
		Trigger: CalibrationAfterRun, RunID: 7, At: t0, Items: 10, Agreements: 9, Disagreements: 1, Rate: &rate,
		MaxDisagreement: 0.2, Status: "ok", CostUSD: 0.042, Detail: `{"results":[]}`,
	}
	if _, err := s.LastCalibration(ctx, CalibrationQuery{Suite: "faq", JudgeTarget: "grader"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LastCalibration(none) = %v, want ErrNotFound", err)
	}
	id, err := s.SaveCalibration(ctx, first, AlertWrites{})
	if err != nil {
		t.Fatalf("SaveCalibration: %v", err)
	}
	first.ID = id
	got, err := s.LastCalibration(ctx, CalibrationQuery{Suite: "faq", JudgeTarget: "grader"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("LastCalibration (-saved +read):\n%s", diff)
	}

	// An inconclusive manual one with its alert writes, and nothing graded.
	nan := math.NaN()
	in := Incident{ID: "inc-c", Suite: "faq", Target: "grader", Kind: "judge_calibration_failed", OpenedAt: t0, Data: []byte(`{}`)}
	manual := Calibration{Suite: "faq", JudgeTarget: "grader", JudgeVersion: "v1", SetHash: "h1", Trigger: CalibrationManual,
		At: t0.Add(time.Hour), Items: 10, Missing: 10, Rate: &nan, MaxDisagreement: 0.2, Status: "inconclusive", CostUSD: math.Inf(1), Detail: `{}`}
	mid, err := s.SaveCalibration(ctx, manual, AlertWrites{Incidents: []Incident{in},
		Deliveries: []Delivery{{ID: "d-c", Sink: "log", IncidentID: "inc-c", Action: "open", Payload: []byte(`{}`), CreatedAt: t0}}})
	if err != nil {
		t.Fatalf("SaveCalibration: %v", err)
	}
	if _, err := s.OpenIncident(ctx, "faq", "grader", "judge_calibration_failed"); err != nil {
		t.Errorf("the calibration's incident was not written with it: %v", err)
	}
	for _, tc := range []struct {
		name string
		q    CalibrationQuery
		want int64
	}{
		{"any", CalibrationQuery{Suite: "faq", JudgeTarget: "grader"}, mid},
		{"after runs", CalibrationQuery{Suite: "faq", JudgeTarget: "grader", Trigger: CalibrationAfterRun}, id},
		{"conclusive", CalibrationQuery{Suite: "faq", JudgeTarget: "grader", SkipStatus: []string{"inconclusive"}}, id},
		{"neither", CalibrationQuery{Suite: "faq", JudgeTarget: "grader", SkipStatus: []string{"inconclusive", first.Status}}, 0},
	} {
		got, err := s.LastCalibration(ctx, tc.q)
		if tc.want == 0 {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("LastCalibration(%s) = %d, %v; want ErrNotFound", tc.name, got.ID, err)
			}
			continue
		}
		if err != nil || got.ID != tc.want {
			t.Errorf("LastCalibration(%s) = %d, %v; want %d", tc.name, got.ID, err, tc.want)
		}
	}
	if c, _ := s.LastCalibration(ctx, CalibrationQuery{Suite: "faq", JudgeTarget: "grader"}); c.Rate != nil || c.RunID != 0 || c.CostUSD != 0 {
		t.Errorf("manual calibration read back with rate %v, run %d and cost %v, want nil, 0 and 0", c.Rate, c.RunID, c.CostUSD)
	}
	if _, err := s.LastCalibration(ctx, CalibrationQuery{Suite: "faq", JudgeTarget: "other"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastCalibration(other judge) = %v, want ErrNotFound", err)
	}

	// A failing alert write takes the calibration with it.
	dup := AlertWrites{Deliveries: []Delivery{{ID: "d-c", Sink: "log", IncidentID: "inc-c", Action: "open", Payload: []byte(`{}`), CreatedAt: t0}}}
	if _, err := s.SaveCalibration(ctx, first, dup); err == nil {
		t.Fatalf("SaveCalibration with a duplicate delivery id succeeded, want an error")
	}
	list, err := s.Calibrations(ctx, "faq", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != mid || list[1].ID != id {
		t.Errorf("Calibrations = %d rows, want the manual one then the first (the failed write left none)", len(list))
	}
	if all, _ := s.Calibrations(ctx, "", 1); len(all) != 1 {
		t.Errorf("Calibrations(limit 1) = %d rows, want 1", len(all))
	}
}
