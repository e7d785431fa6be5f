package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/evals"
)

func files(pairs ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := 0; i+1 < len(pairs); i += 2 {
		fsys[pairs[i]] = &fstest.MapFile{Data: []byte(pairs[i+1])}
	}
	return fsys
}

func ptr[T any](v T) *T { return &v }

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// designConfig is the example of DESIGN.md, with both Slack forms' keys
// spelt out once.
const designConfig = `storage:
  sqlite: evald.db
server:
  addr: 127.0.0.1:8080
  tokens_env: EVALD_API_TOKENS        # "alice=tok1,bob=tok2": who may change state over HTTP
targets:
  - name: prod
    base_url: https://api.openai.com/v1   # any OpenAI-compatible endpoint
    api_key_env: OPENAI_API_KEY           # optional for local endpoints
    model: gpt-4o-mini
    params: {temperature: 0, max_tokens: 256, seed: 7}
    concurrency: 8                        # shared by every suite that uses this target
    rps: 20
    timeout: 30s
    retries: 4
    price: {input_per_mtok: 0.15, output_per_mtok: 0.60}
judge: prod                               # the target that grades llm-rubric & co.
suites:
  - file: suites/faq.yaml
    targets: [prod]
    schedule: "@every 30m"                # any robfig/cron spec
    budget_usd_per_day: 5
alerts:
  slack: {webhook_url_env: SLACK_WEBHOOK_URL}   # or {token_env: SLACK_BOT_TOKEN, channel: "#llm-alerts"}
  webhook: {url_env: EVALD_WEBHOOK_URL, secret_env: EVALD_WEBHOOK_SECRET}
  renotify: 6h
`

func TestParse(t *testing.T) {
	cfg, err := Parse(files("proj/evald.yaml", designConfig), "proj/evald.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Config{
		File:    "proj/evald.yaml",
		Storage: Storage{SQLite: "proj/evald.db"},
		Server:  Server{Addr: "127.0.0.1:8080", TokensEnv: "EVALD_API_TOKENS"},
		Targets: []Target{{
			Name:        "prod",
			BaseURL:     "https://api.openai.com/v1",
			APIKeyEnv:   "OPENAI_API_KEY",
			Model:       "gpt-4o-mini",
			Params:      Params{Temperature: ptr(0.0), MaxTokens: ptr(256), Seed: ptr(7)},
			Concurrency: 8,
			RPS:         20,
			Timeout:     30 * time.Second,
			Retries:     4,
			Price:       Price{InputPerMTok: 0.15, OutputPerMTok: 0.60},
			Line:        7,

			MaxResponseBytes: DefaultMaxResponseBytes,
			MaxUsageTokens:   DefaultMaxUsageTokens,
		}},
		Judge: "prod",
		Suites: []SuiteRef{{
			File:            "proj/suites/faq.yaml",
			Targets:         []string{"prod"},
			Schedule:        "@every 30m",
			BudgetUSDPerDay: 5,
			Line:            19,
		}},
		Alerts: Alerts{
			Slack:    &SlackAlerts{WebhookURLEnv: "SLACK_WEBHOOK_URL"},
			Webhook:  &WebhookAlerts{URLEnv: "EVALD_WEBHOOK_URL", SecretEnv: "EVALD_WEBHOOK_SECRET"},
			Renotify: 6 * time.Hour,
		},
		EnvLines: map[string]int{"server.tokens_env": 5, "targets[0].api_key_env": 9,
			"alerts.slack.webhook_url_env": 24, "alerts.webhook.url_env": 25, "alerts.webhook.secret_env": 25},
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse(files("evald.yaml", `
targets:
  - name: local
    base_url: http://localhost:11434/v1
    model: llama3
    params:
      response_format: {type: json_object}
      tools:
        - type: function
          function: {name: lookup, parameters: {type: object}}
alerts:
  slack: {token_env: SLACK_BOT_TOKEN, channel: "#llm-alerts"}
`), "evald.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Config{
		File:    "evald.yaml",
		Storage: Storage{SQLite: DefaultSQLite},
		Server:  Server{Addr: DefaultAddr},
		Targets: []Target{{
			Name: "local", BaseURL: "http://localhost:11434/v1", Model: "llama3",
			Params: Params{
				// {type: json_object} is stored as the string form.
				ResponseFormat: "json_object",
				Tools: []any{map[string]any{"type": "function", "function": map[string]any{
					"name": "lookup", "parameters": map[string]any{"type": "object"}}}},
			},
			Concurrency: DefaultConcurrency, Timeout: DefaultTimeout, Retries: DefaultRetries, Line: 3,
			MaxResponseBytes: DefaultMaxResponseBytes, MaxUsageTokens: DefaultMaxUsageTokens,
		}},
		Alerts:   Alerts{Slack: &SlackAlerts{TokenEnv: "SLACK_BOT_TOKEN", Channel: "#llm-alerts"}, Renotify: DefaultRenotify},
		EnvLines: map[string]int{"alerts.slack.token_env": 12},
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func TestSchedules(t *testing.T) {
	for _, tt := range []struct {
		spec string
		ok   bool
	}{
		{"@every 90s", true},
		{"@every 30m", true},
		{"@hourly", true},
		{"0 */2 * * *", true},
		{"*/5 * * * *", true},
		{"CRON_TZ=UTC 0 9 * * 1-5", true},
		{"@every 500ms", false},
		{"@every -5s", false},
		{"@every often", false},
		{"@sometimes", false},
		{"0 */2 * *", false},
		{"61 * * * *", false},
		{"TZ=UTC", false}, // robfig/cron panics on this one
		{"", false},
	} {
		t.Run(tt.spec, func(t *testing.T) {
			err := checkSchedule(tt.spec)
			if got := err == nil; got != tt.ok {
				t.Errorf("checkSchedule(%q) = %v, want ok %v", tt.spec, err, tt.ok)
			}
		})
	}
}

// TestTargetVersion: the target version moves when, and only when, what
// changes the model's behaviour on our side changes.
func TestTargetVersion(t *testing.T) {
	const base = `targets:
  - name: prod
    base_url: https://api.example.com/v1
    api_key_env: OPENAI_API_KEY
    model: gpt-4o-mini
    params: {temperature: 0.5, top_p: 1, max_tokens: 256, seed: 7, response_format: text}
    concurrency: 8
    rps: 20
    timeout: 30s
    retries: 4
    price: {input_per_mtok: 0.15, output_per_mtok: 0.60}
`
	version := func(t *testing.T, config string) string {
		t.Helper()
		cfg, err := Parse(files("evald.yaml", config), "evald.yaml")
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		return cfg.Targets[0].Version()
	}
	want := version(t, base)
	if len(want) != 64 {
		t.Fatalf("Version() = %q, want 64 hex digits", want)
	}
	for _, tt := range []struct {
		name, old, new string
		moves          bool
	}{
		{"name", "name: prod", "name: production", false},
		{"api key env", "OPENAI_API_KEY", "OTHER_KEY", false},
		{"concurrency", "concurrency: 8", "concurrency: 2", false},
		{"rps", "rps: 20", "rps: 1", false},
		{"timeout", "timeout: 30s", "timeout: 1m", false},
		{"retries", "retries: 4", "retries: 0", false},
		{"price", "output_per_mtok: 0.60", "output_per_mtok: 1.20", false},
		{"trailing slash", "/v1\n", "/v1/\n", false},
		{"1.0 is 1", "top_p: 1", "top_p: 1.0", false},
		{"param order", "{temperature: 0.5, top_p: 1,", "{top_p: 1, temperature: 0.5,", false},
		{"base url", "api.example.com", "api2.example.com", true},
		{"model", "gpt-4o-mini", "gpt-4o", true},
		{"temperature", "temperature: 0.5", "temperature: 0", true},
		{"top_p", "top_p: 1", "top_p: 0.9", true},
		{"max tokens", "max_tokens: 256", "max_tokens: 512", true},
		{"seed", "seed: 7", "seed: 8", true},
		{"seed unset", "seed: 7, ", "", true},
		{"response format", "response_format: text", "response_format: json_object", true},
		{"tools", "response_format: text", "response_format: text, tools: [{function: {name: f}}]", true},
		{"embedding model", "model: gpt-4o-mini\n", "model: gpt-4o-mini\n    embedding_model: text-embedding-3-large\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.old) {
				t.Fatalf("base config has no %q", tt.old)
			}
			got := version(t, strings.Replace(base, tt.old, tt.new, 1))
			if moved := got != want; moved != tt.moves {
				t.Errorf("version moved = %v, want %v", moved, tt.moves)
			}
		})
	}
}

// TestEmbeddingModel: embedding_model is read, and a target without one
// keeps the version it had before the key existed.
func TestEmbeddingModel(t *testing.T) {
	cfg, err := Parse(files("evald.yaml", `targets:
  - {name: a, base_url: "http://127.0.0.1:1/v1", model: m, embedding_model: text-embedding-3-large}
  - {name: b, base_url: "http://127.0.0.1:1/v1", model: m}
`), "evald.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := cfg.Targets[0].EmbeddingModel, "text-embedding-3-large"; got != want {
		t.Errorf("EmbeddingModel = %q, want %q", got, want)
	}
	if got := cfg.Targets[1].EmbeddingModel; got != "" {
		t.Errorf("EmbeddingModel without the key = %q, want empty", got)
	}
	// Pinned: the version of a target without embedding_model, as it was.
	if got, want := cfg.Targets[1].Version(), "d82cac6d239d77f9af5025c5a31da8b7143aaad50fb80a93e6fb0bd415d43858"; got != want {
		t.Errorf("Version() = %s, want %s", got, want)
	}
}

func TestTargetVersionNeverHoldsTheKey(t *testing.T) {
	tg := Target{Name: "prod", BaseURL: "https://x/v1", APIKeyEnv: "OPENAI_API_KEY", Model: "m"}
	other := tg
	other.APIKeyEnv = ""
	if got, want := tg.Version(), other.Version(); got != want {
		t.Errorf("Version() with api_key_env = %s, without = %s; want equal", got, want)
	}
}

// A secret pasted where a variable's name belongs must not be echoed by the
// error, which may reach a log, a CI transcript or, on reload, an alert.
func TestEnvFieldNeverEchoesItsValue(t *testing.T) {
	const pasted = "sk-proj-PASTED-123456"
	for _, field := range []string{
		"server: {tokens_env: %q}\ntargets: [{name: t, base_url: 'http://127.0.0.1/v1', model: m}]\n",
		"targets: [{name: t, base_url: 'http://127.0.0.1/v1', model: m, api_key_env: %q}]\n",
		"targets: [{name: t, base_url: 'http://127.0.0.1/v1', model: m}]\nalerts: {slack: {webhook_url_env: %q}}\n",
		"targets: [{name: t, base_url: 'http://127.0.0.1/v1', model: m}]\nalerts: {webhook: {url_env: U, secret_env: %q}}\n",
		"targets: [{name: t, base_url: 'http://127.0.0.1/v1', model: m}]\nalerts: {pagerduty: {routing_key_env: %q}}\n",
	} {
		_, err := Parse(files("evald.yaml", fmt.Sprintf(field, pasted)), "evald.yaml")
		if err == nil || !strings.Contains(err.Error(), "must name an environment variable") {
			t.Errorf("Parse(%q) = %v, want the env-name error", field, err)
			continue
		}
		if strings.Contains(err.Error(), "PASTED") {
			t.Errorf("Parse(%q) error echoes the value: %v", field, err)
		}
	}
}

// writeTree writes name/content pairs under dir.
func writeTree(t *testing.T, dir string, pairs ...string) {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		p := filepath.Join(dir, filepath.FromSlash(pairs[i]))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(pairs[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const okSuite = "name: %s\nprompt: [{role: user, content: '{{q}}'}]\ntests: [{vars: {q: hi}, assert: [{type: contains, value: hi}]}]\n"

func suiteYAML(name string) string { return strings.Replace(okSuite, "%s", name, 1) }

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir,
		"proj/evald.yaml", `storage: {sqlite: data/evald.db}
targets:
  - {name: prod, base_url: "http://127.0.0.1:8090/v1", model: m}
  - {name: staging, base_url: "http://127.0.0.1:8091/v1", model: m}
suites:
  - {file: suites/faq.yaml, targets: [prod]}
  - {file: ../shared/tone.yaml, targets: [prod, staging], schedule: "@hourly"}
  - {file: suites/faq.yaml, targets: [staging], schedule: "@daily"}
`,
		"proj/suites/faq.yaml", suiteYAML("faq"),
		"shared/tone.yaml", suiteYAML("tone"),
	)
	t.Chdir(dir)
	proj, err := Load("proj/evald.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var got []string
	for i, s := range proj.Suites {
		got = append(got, proj.Config.Suites[i].File+" "+s.Name+" "+s.File)
	}
	want := []string{
		"proj/suites/faq.yaml faq proj/suites/faq.yaml",
		"shared/tone.yaml tone shared/tone.yaml",
		"proj/suites/faq.yaml faq proj/suites/faq.yaml",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suites mismatch (-want +got):\n%s", diff)
	}
	if got, want := proj.Config.Storage.SQLite, filepath.Join("proj", "data", "evald.db"); got != want {
		t.Errorf("Storage.SQLite = %q, want %q", got, want)
	}
	if proj.Suites[0] != proj.Suites[2] {
		t.Errorf("a suite file named twice was loaded twice")
	}
}

// TestLoadReportsEveryFile: problems of the config and of every suite come
// back together, each naming its own file.
func TestLoadReportsEveryFile(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir,
		"evald.yaml", `targets:
  - {name: prod, base_url: "http://x/v1", model: m, timeout: 30}
suites:
  - {file: suites/a.yaml, targets: [prod]}
  - {file: suites/b.yaml, targets: [prod]}
  - {file: suites/a2.yaml, targets: [prod]}
  - {file: suites/missing.yaml, targets: [prod]}
  - {file: suites/judged.yaml, targets: [prod]}
`,
		"suites/a.yaml", suiteYAML("a"),
		"suites/b.yaml", "name: b\nprompt: [{role: user, content: '{{q}}'}]\ntests: [{vars: {x: 1}}]\n",
		"suites/a2.yaml", suiteYAML("a"),
		"suites/judged.yaml", suiteYAML("judged")+"judge: grader\n",
	)
	t.Chdir(dir)
	_, err := Load("evald.yaml")
	want := strings.Join([]string{
		`evald.yaml:2: targets[0].timeout: must be a duration like 30s or 2m (got 30)`,
		`evald.yaml:6: suites[2].file: suite name "a" is also the name of suites/a.yaml (suites[0]): suite names must be unique`,
		`evald.yaml:7: suites[3].file: cannot read suites/missing.yaml: no such file`,
		`suites/b.yaml:3: tests[0].vars: missing var "q" for prompt[0].content (case c-` + caseHash(t, map[string]any{"x": int64(1)}) + `)`,
		`suites/judged.yaml:4: judge: unknown target "grader" (targets in evald.yaml: prod)`,
	}, "\n")
	if got := errString(err); got != want {
		t.Errorf("Load error:\n%s\nwant:\n%s", got, want)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.File != "evald.yaml" {
		t.Errorf("errors.As(err, *FieldError) = %v, want the config's first problem", fe)
	}
	for _, kind := range []error{ErrInvalid, ErrDuplicate, ErrFile, evals.ErrMissingVar} {
		if !errors.Is(err, kind) {
			t.Errorf("errors.Is(err, %v) = false, want true", kind)
		}
	}
}

func caseHash(t *testing.T, vars map[string]any) string {
	t.Helper()
	b, err := evals.CanonicalJSON(vars)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

func TestParsePagerDuty(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       *PagerDutyAlerts
	}{
		{"defaults", "{routing_key_env: PD_KEY}", &PagerDutyAlerts{RoutingKeyEnv: "PD_KEY", URL: DefaultPagerDutyURL, SeverityMap: map[string]string{"page": "critical"}}},
		{"merged map", "{routing_key_env: PD_KEY, url: 'http://127.0.0.1:9/v2/enqueue', severity_map: {missed_run: error, info: info}}",
			&PagerDutyAlerts{RoutingKeyEnv: "PD_KEY", URL: "http://127.0.0.1:9/v2/enqueue", SeverityMap: map[string]string{"page": "critical", "missed_run": "error", "info": "info"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse(files("evald.yaml", "targets: [{name: t, base_url: 'http://127.0.0.1/v1', model: m}]\nalerts: {pagerduty: "+tc.yaml+"}\n"), "evald.yaml")
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			if diff := cmp.Diff(tc.want, cfg.Alerts.PagerDuty); diff != "" {
				t.Errorf("Alerts.PagerDuty (-want +got):\n%s", diff)
			}
			if got, want := cfg.EnvLines["alerts.pagerduty.routing_key_env"], 2; got != want {
				t.Errorf("line of routing_key_env = %d, want %d", got, want)
			}
		})
	}
	if DefaultPagerDutySeverities["page"] != "critical" || len(DefaultPagerDutySeverities) != 1 {
		t.Errorf("DefaultPagerDutySeverities = %v: a parse wrote into it", DefaultPagerDutySeverities)
	}
}

func TestRetainSamples(t *testing.T) {
	for _, tc := range []struct {
		storage string
		want    time.Duration
	}{
		{"", 0},
		{"storage: {retain_samples: 90d}\n", 90 * 24 * time.Hour},
		{"storage: {sqlite: x.db, retain_samples: 36h}\n", 36 * time.Hour},
	} {
		cfg, err := Parse(files("proj/evald.yaml", tc.storage+"targets: [{name: prod, base_url: \"http://127.0.0.1:8090/v1\", model: m}]\n"), "proj/evald.yaml")
		if err != nil {
			t.Fatalf("Parse(%q) = %v", tc.storage, err)
		}
		if got := cfg.Storage.RetainSamples; got != tc.want {
			t.Errorf("Parse(%q).Storage.RetainSamples = %v, want %v", tc.storage, got, tc.want)
		}
	}
}

// The platform is part of a target's identity: the same model on Azure is
// another target version, and the versions of OpenAI targets stay as they
// were.
func TestTargetVersionHasPlatform(t *testing.T) {
	oa := Target{Name: "t", BaseURL: "https://x.example/v1", Model: "gpt-4o-mini"}
	spelled := oa
	spelled.Provider = ""
	az := oa
	az.Provider, az.Deployment, az.APIVersion = ProviderAzure, "gpt-4o-mini", DefaultAzureAPIVersion
	az2 := az
	az2.APIVersion = "2025-01-01-preview"
	if oa.Version() != spelled.Version() {
		t.Error("provider openai spelled out changed the version")
	}
	if oa.Version() == az.Version() {
		t.Error("the same model on Azure has the OpenAI target's version")
	}
	if az.Version() == az2.Version() {
		t.Error("another api-version has the same target version")
	}
	an := oa
	an.Provider = ProviderAnthropic
	if an.Version() == oa.Version() || an.Version() == az.Version() {
		t.Error("the same model name on Anthropic has another platform's target version")
	}
}
