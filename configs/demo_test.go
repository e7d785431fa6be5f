package configs

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDemo(t *testing.T) {
	proj, err := Demo("http://127.0.0.1:9999/v1")
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	cfg := proj.Config
	if got, want := cfg.File, ""; got != want {
		t.Errorf("Config.File = %q, want %q", got, want)
	}
	if got, want := len(cfg.Targets), 1; got != want {
		t.Fatalf("%d targets, want %d", got, want)
	}
	tg := cfg.Targets[0]
	want := Target{
		Name: "prod", BaseURL: "http://127.0.0.1:9999/v1", Model: "sim-1",
		Params:      Params{Temperature: ptr(0.7), ResponseFormat: "json_object"},
		Concurrency: 8, Timeout: 10 * time.Second, Retries: 2,
		Price: Price{InputPerMTok: 0.15, OutputPerMTok: 0.60},
	}
	if diff := cmp.Diff(want, tg, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Line" }, cmp.Ignore())); diff != "" {
		t.Errorf("demo target mismatch (-want +got):\n%s", diff)
	}

	var got []string
	cases := map[string]int{}
	for i, s := range proj.Suites {
		ref := cfg.Suites[i]
		got = append(got, s.Name+" "+ref.Schedule)
		cases[s.Name] = len(s.Cases)
		if s.Thresholds.PassRate == nil || *s.Thresholds.PassRate != 0.8 || s.Thresholds.MeanScore == nil || *s.Thresholds.MeanScore != 0.8 {
			t.Errorf("suite %s thresholds = %+v, want pass_rate and mean_score 0.8", s.Name, s.Thresholds)
		}
		if err := checkSchedule(ref.Schedule); err != nil {
			t.Errorf("suite %s schedule: %v", s.Name, err)
		}
	}
	if diff := cmp.Diff([]string{"faq @every 5s", "orders-json @every 7s", "tone @every 11s"}, got); diff != "" {
		t.Errorf("demo suites mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"faq": 20, "orders-json": 10, "tone": 6}, cases); diff != "" {
		t.Errorf("demo case counts mismatch (-want +got):\n%s", diff)
	}

	// Demo returns a fresh project each time: changing one leaves the next alone.
	proj.Config.Targets[0].Model = "changed"
	again, err := Demo("http://127.0.0.1:9999/v1")
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	if got, want := again.Config.Targets[0].Model, "sim-1"; got != want {
		t.Errorf("second Demo model = %q, want %q", got, want)
	}
	if _, err := Demo("127.0.0.1:9999"); err == nil {
		t.Errorf("Demo(no scheme) = nil error, want one")
	}
}

// TestDemoFilesAreAnExample: the demo folder in the repo loads as a user's
// project would, with the placeholder base URL of `evald sim`.
func TestDemoFilesAreAnExample(t *testing.T) {
	proj, err := Load("demo/evald.yaml")
	if err != nil {
		t.Fatalf("Load(demo/evald.yaml): %v", err)
	}
	if got, want := proj.Config.Targets[0].BaseURL, "http://127.0.0.1:8090/v1"; got != want {
		t.Errorf("base_url = %q, want %q (where evald sim listens)", got, want)
	}
	if got, want := proj.Config.Suites[0].File, "demo/suites/faq.yaml"; got != want {
		t.Errorf("Suites[0].File = %q, want %q", got, want)
	}
	demo, err := Demo("http://127.0.0.1:8090/v1")
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	for i, s := range proj.Suites {
		if got, want := s.Version, demo.Suites[i].Version; got != want {
			t.Errorf("suite %s: version on disk %s, embedded %s; want equal", s.Name, got, want)
		}
	}
	if got, want := proj.Config.Targets[0].Version(), demo.Config.Targets[0].Version(); got != want {
		t.Errorf("target version on disk %s, embedded %s; want equal", got, want)
	}
}
