package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evald/evald/sim"
)

// calibrationProject writes a config whose suite faq has a calibration set
// graded by the judge at judgeURL; expectWarranty is the expected verdict
// of the item the simulator passes.
func calibrationProject(t *testing.T, judgeURL, expectWarranty string) string {
	t.Helper()
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	dir := filepath.Dir(cfg)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(b), "suites:\n", `  - {name: grader, base_url: "`+judgeURL+`", model: sim-judge, retries: 0}
judge: grader
suites:
`, 1)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	suite := filepath.Join(dir, "suites/faq.yaml")
	b, err = os.ReadFile(suite)
	if err != nil {
		t.Fatal(err)
	}
	cal := `calibration:
  items:
    - vars: {question: "Is there a warranty?"}
      assert: [{type: llm-rubric, value: warranty coverage}]
      output: "Two years of warranty coverage."
      expect: ` + expectWarranty + `
    - vars: {question: "Is there a warranty?"}
      assert: [{type: llm-rubric, value: warranty coverage terms}]
      output: "We do not sell that."
      expect: fail
`
	if err := os.WriteFile(suite, append(b, cal...), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestCalibrateCommand(t *testing.T) {
	judge := simServer(t, sim.Options{WrongRate: -1})
	t.Run("ok", func(t *testing.T) {
		cfg := calibrationProject(t, judge, "pass")
		code, out, errOut := evald(t, "calibrate", "--config", cfg, "faq")
		if code != exitOK {
			t.Fatalf("calibrate = exit %d, stderr %q, stdout %q", code, errOut, out)
		}
		for _, want := range []string{"faq: judge grader (model sim-1", "OK: 2 items, 2 agree, 0 disagree, 0 missing; disagreement 0.0%, limit 20.0%", "stored as calibration 1"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		// Flags after the suite, and a second calibration is stored too.
		if code, out, _ := evald(t, "calibrate", "faq", "--config", cfg); code != exitOK || !strings.Contains(out, "stored as calibration 2") {
			t.Errorf("second calibrate = exit %d:\n%s", code, out)
		}
	})
	t.Run("failed is 1", func(t *testing.T) {
		cfg := calibrationProject(t, judge, "fail")
		code, out, _ := evald(t, "calibrate", "--config", cfg, "faq")
		if code != exitFailed {
			t.Fatalf("calibrate = exit %d, want %d:\n%s", code, exitFailed, out)
		}
		if !strings.Contains(out, "FAILED: 2 items, 1 agree, 1 disagree") || !strings.Contains(out, "item 0: expected fail, got pass") {
			t.Errorf("output = %q, want the failed status and the disagreeing item", out)
		}
	})
	t.Run("judge down is 4", func(t *testing.T) {
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		defer down.Close()
		cfg := calibrationProject(t, down.URL+"/v1", "pass")
		code, out, _ := evald(t, "calibrate", "--config", cfg, "faq")
		if code != exitNoResult || !strings.Contains(out, "INCONCLUSIVE: 2 items, 0 agree, 0 disagree, 2 missing; disagreement -") {
			t.Errorf("calibrate with the judge down = exit %d, want %d:\n%s", code, exitNoResult, out)
		}
	})
	t.Run("usage errors are 2", func(t *testing.T) {
		cfg := calibrationProject(t, judge, "pass")
		plain := project(t, "http://127.0.0.1:1/v1", "0.9")
		for _, args := range [][]string{
			{"calibrate", "--config", cfg},
			{"calibrate", "--config", cfg, "faq", "other"},
			{"calibrate", "--config", cfg, "nosuch"},
			{"calibrate", "--config", plain, "faq"},
			{"calibrate", "--bogus"},
		} {
			if code, _, errOut := evald(t, args...); code != exitUsage || errOut == "" {
				t.Errorf("evald %v = exit %d (stderr %q), want %d with a message", args, code, errOut, exitUsage)
			}
		}
		if _, _, errOut := evald(t, "calibrate", "--config", plain, "faq"); !strings.Contains(errOut, "has no calibration set") {
			t.Errorf("calibrate of a suite without a set: stderr %q", errOut)
		}
	})
}

func TestOneLine(t *testing.T) {
	if got, want := oneLine("a\nb\x1b[31m  c", 100), "a b [31m c"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
	if got, want := oneLine("abcdef", 4), "abc…"; got != want {
		t.Errorf("oneLine(cut) = %q, want %q", got, want)
	}
}
