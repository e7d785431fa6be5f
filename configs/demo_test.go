package configs

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDemo(t *testing.T) {
	proj, err := Demo("http://127.0.0.1:9999/v1", "http://127.0.0.1:9998/v1")
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	cfg := proj.Config
	if got, want := cfg.File, ""; got != want {
		t.Errorf("Config.File = %q, want %q", got, want)
	}
	want := []Target{{
		Name: DemoTarget, BaseURL: "http://127.0.0.1:9999/v1", Model: "sim-1",
		Params:      Params{Temperature: ptr(0.7), ResponseFormat: "json_object"},
		Concurrency: 8, Timeout: 10 * time.Second, Retries: 2,
		Price:            Price{InputPerMTok: 0.15, OutputPerMTok: 0.60},
		MaxResponseBytes: DefaultMaxResponseBytes, MaxUsageTokens: DefaultMaxUsageTokens,
	}, {
		// No sampling parameters: the daemon asks a judge for temperature
		// 0 and its default seed.
		Name: DemoJudge, BaseURL: "http://127.0.0.1:9998/v1", Model: "sim-judge-1",
		Concurrency: DefaultConcurrency, Timeout: 10 * time.Second, Retries: 2,
		Price:            Price{InputPerMTok: 2.50, OutputPerMTok: 10.00},
		MaxResponseBytes: DefaultMaxResponseBytes, MaxUsageTokens: DefaultMaxUsageTokens,
	}, {
		// Demo (not DemoWith) points the replica at the provider's URL.
		Name: DemoReplica, BaseURL: "http://127.0.0.1:9999/v1", Model: "sim-1",
		Params:      Params{Temperature: ptr(0.7), ResponseFormat: "json_object"},
		Concurrency: 8, Timeout: 10 * time.Second, Retries: 2,
		Price:            Price{InputPerMTok: 0.15, OutputPerMTok: 0.60},
		MaxResponseBytes: DefaultMaxResponseBytes, MaxUsageTokens: DefaultMaxUsageTokens,
	}}
	if diff := cmp.Diff(want, cfg.Targets, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Line" }, cmp.Ignore())); diff != "" {
		t.Errorf("demo targets mismatch (-want +got):\n%s", diff)
	}
	if got, want := cfg.Judge, DemoJudge; got != want {
		t.Errorf("Config.Judge = %q, want %q", got, want)
	}

	var got []string
	cases := map[string]int{}
	for i, s := range proj.Suites {
		ref := cfg.Suites[i]
		got = append(got, s.Name+" "+ref.Schedule)
		cases[s.Name] = len(s.Cases)
		bar := 0.8
		if s.Name == "faq-replica" {
			bar = 0.4 // its simulator answers noisily, for the greedy switch to show
		}
		if s.Thresholds.PassRate == nil || *s.Thresholds.PassRate != bar || s.Thresholds.MeanScore == nil || *s.Thresholds.MeanScore != bar {
			t.Errorf("suite %s thresholds = %+v, want pass_rate and mean_score %g", s.Name, s.Thresholds, bar)
		}
		if err := checkSchedule(ref.Schedule); err != nil {
			t.Errorf("suite %s schedule: %v", s.Name, err)
		}
	}
	if diff := cmp.Diff([]string{"faq @every 5s", "orders-json @every 7s", "tone @every 11s", "support-quality @every 13s", "support-agent @every 9s", "faq-replica @every 1s"}, got); diff != "" {
		t.Errorf("demo suites mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"faq": 20, "orders-json": 10, "tone": 6, "support-quality": 5, "support-agent": 10, "faq-replica": 15}, cases); diff != "" {
		t.Errorf("demo case counts mismatch (-want +got):\n%s", diff)
	}

	// One suite shows the judge: every case graded by it, and a
	// calibration set to grade again when the judge changes.
	for _, s := range proj.Suites {
		c, _, graded := s.FirstGraded()
		if s.Name != "support-quality" {
			if graded {
				t.Errorf("suite %s: case %s is model-graded; only support-quality should be", s.Name, c.ID)
			}
			continue
		}
		for _, c := range s.Cases {
			if len(c.Asserts) == 0 || c.Asserts[0].Spec().Type != "llm-rubric" {
				t.Errorf("support-quality case %s: asserts %v, want llm-rubric", c.ID, c.Asserts)
			}
		}
		if s.Calibration == nil || len(s.Calibration.Items) != 5 {
			t.Errorf("support-quality calibration = %+v, want 5 items", s.Calibration)
		}
	}

	// Demo returns a fresh project each time: changing one leaves the next alone.
	proj.Config.Targets[0].Model = "changed"
	again, err := Demo("http://127.0.0.1:9999/v1", "http://127.0.0.1:9998/v1")
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	if got, want := again.Config.Targets[0].Model, "sim-1"; got != want {
		t.Errorf("second Demo model = %q, want %q", got, want)
	}
	if _, err := Demo("127.0.0.1:9999", "http://127.0.0.1:9998/v1"); err == nil {
		t.Errorf("Demo(target URL without scheme) = nil error, want one")
	}
	if _, err := Demo("http://127.0.0.1:9999/v1", ""); err == nil {
		t.Errorf("Demo(no judge URL) = nil error, want one")
	}
}

// TestDemoFilesAreAnExample: the demo folder in the repo loads as a user's
// project would, with the placeholder base URL of `evald sim` for both the
// target and its judge (one simulator answers and grades).
func TestDemoFilesAreAnExample(t *testing.T) {
	proj, err := Load("demo/evald.yaml")
	if err != nil {
		t.Fatalf("Load(demo/evald.yaml): %v", err)
	}
	for _, tg := range proj.Config.Targets {
		if got, want := tg.BaseURL, "http://127.0.0.1:8090/v1"; got != want {
			t.Errorf("target %s base_url = %q, want %q (where evald sim listens)", tg.Name, got, want)
		}
	}
	if got, want := proj.Config.Suites[0].File, "demo/suites/faq.yaml"; got != want {
		t.Errorf("Suites[0].File = %q, want %q", got, want)
	}
	demo, err := Demo("http://127.0.0.1:8090/v1", "http://127.0.0.1:8090/v1")
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	for i, s := range proj.Suites {
		if got, want := s.Version, demo.Suites[i].Version; got != want {
			t.Errorf("suite %s: version on disk %s, embedded %s; want equal", s.Name, got, want)
		}
	}
	for i, tg := range proj.Config.Targets {
		if got, want := tg.Version(), demo.Config.Targets[i].Version(); got != want {
			t.Errorf("target %s version on disk %s, embedded %s; want equal", tg.Name, got, want)
		}
	}
}
