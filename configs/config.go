package configs

import (
	"time"
)

// Config is a loaded, validated evald.yaml.
type Config struct {
	// File is the path the config was loaded from ("" for the embedded demo).
	File    string
	Storage Storage
	Server  Server
	Targets []Target
	// Judge names the target that grades model-graded assertions.
	Judge  string
	Suites []SuiteRef
	Alerts Alerts
	// Governance holds the rules of the audit chain and of sign-offs.
	Governance Governance
	// Telemetry configures the export of runs as OpenTelemetry traces.
	Telemetry Telemetry
	// EnvLines is the line of each field that names an environment
	// variable, by field path ("targets[0].api_key_env"), for the problems
	// of unset variables (see EnvRefs). Configs built by hand leave it nil
	// and their problems name no line.
	EnvLines map[string]int
}

// Storage says where the SQLite database lives (resolved against the
// config's folder) and how long samples are kept.
type Storage struct {
	SQLite string
	// RetainSamples is how long a run's samples and assertion results are
	// kept (0: forever); the run itself, its verdict and the drift state
	// stay. storage.retain_samples, e.g. "90d".
	RetainSamples time.Duration
}

// Server configures the HTTP server of `evald serve`.
type Server struct {
	Addr      string // default 127.0.0.1:8080
	TokensEnv string // env var holding "alice=tok1,bob=tok2"
	PublicURL string
}

// Target is an OpenAI-compatible endpoint and the model settings used on it.
type Target struct {
	Name      string
	BaseURL   string
	APIKeyEnv string // optional; the key itself is read from the environment at run time
	Model     string
	// EmbeddingModel is the model asked for embeddings when the target is
	// a judge (similar, answer-relevance); "" means the runner's default.
	EmbeddingModel string
	Params         Params
	// Concurrency is the number of requests in flight, shared by all suites on this target (default 4).
	Concurrency int
	// RPS caps requests per second across all suites on this target (0: unlimited).
	RPS     float64
	Timeout time.Duration // per request, default 30s
	Retries int           // default 4
	Price   Price
	// MaxResponseBytes caps the body read per request (default 4 MiB):
	// a longer answer is a bad_response (too_large), never read further.
	MaxResponseBytes int64
	// MaxUsageTokens is the largest token count a response may report
	// (default 10 million); above it, or negative, the response is a
	// bad_response.
	MaxUsageTokens int
	// FollowRedirects lets requests follow an endpoint's redirects; the
	// key is never sent on to another scheme, host or port.
	FollowRedirects bool
	// Provider is the target's API (platform): "" for ProviderOpenAI (any
	// OpenAI-compatible endpoint, the default) or ProviderAzure (Azure
	// OpenAI: the key goes in the api-key header, requests to
	// BASE/openai/deployments/DEPLOYMENT/...?api-version=APIVERSION) or
	// ProviderAnthropic (Anthropic's Messages API). It is part of the
	// target's version.
	Provider string
	// Deployment is an Azure target's deployment (default: Model).
	Deployment string
	// APIVersion is an Azure target's api-version (default
	// DefaultAzureAPIVersion).
	APIVersion string
	// Line is where the target is defined in the config, for error messages.
	Line int
}

// Target providers.
const (
	ProviderOpenAI = "openai"
	ProviderAzure  = "azure"
	// ProviderAnthropic is Anthropic's Messages API (requests to
	// BASE/v1/messages through Anthropic's Go SDK).
	ProviderAnthropic = "anthropic"
)

// Providers lists the values targets[].provider takes.
var Providers = []string{ProviderOpenAI, ProviderAzure, ProviderAnthropic}

// DefaultAnthropicBaseURL is an Anthropic target's base_url when it sets
// none.
const DefaultAnthropicBaseURL = "https://api.anthropic.com"

// DefaultAnthropicMaxTokens is the max_tokens sent to Anthropic's Messages
// API, which requires one, when the target's params set none.
const DefaultAnthropicMaxTokens = 1024

// DefaultAzureAPIVersion is the Azure OpenAI api-version sent when a
// target sets none.
const DefaultAzureAPIVersion = "2024-10-21"

// Params are the sampling parameters sent with every request.
type Params struct {
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	MaxTokens   *int     `json:"max_tokens,omitempty"`
	Seed        *int     `json:"seed,omitempty"`
	// ResponseFormat is "text", "json_object", or a json_schema object.
	ResponseFormat any `json:"response_format,omitempty"`
	Tools          any `json:"tools,omitempty"`
}

// Price converts token usage to USD.
type Price struct {
	InputPerMTok  float64
	OutputPerMTok float64
}

// SuiteRef schedules one suite file on targets.
type SuiteRef struct {
	File            string // resolved against the config's folder
	Targets         []string
	Schedule        string // robfig/cron spec
	BudgetUSDPerDay float64
	// MaxFileBytes limits each file the suite reads (its file, prompts,
	// datasets); 0 means evals.DefaultMaxFileBytes (64 MiB). A file parsed
	// as one YAML document is held to evals.MaxYAMLBytes whatever this says.
	MaxFileBytes int64
	Line         int
}

// Alerts configures alert delivery.
type Alerts struct {
	Slack     *SlackAlerts
	Webhook   *WebhookAlerts
	PagerDuty *PagerDutyAlerts
	// Heartbeat pings a dead-man's switch while the scheduler is healthy.
	Heartbeat *Heartbeat
	Renotify  time.Duration
	// MissedAfter is the grace after each scheduled firing: a missed_run
	// incident opens when the firing's run has not completed this long
	// after it; 0 means each pair's default: the interval from the firing
	// to the schedule's next one plus its usual run duration.
	MissedAfter time.Duration
	// MissedAfterLine is the line of missed_after in the file (0: unset).
	MissedAfterLine int
}

// SlackAlerts is either an incoming webhook or a bot token and channel.
type SlackAlerts struct {
	WebhookURLEnv string
	TokenEnv      string
	Channel       string
}

// WebhookAlerts is a generic signed JSON webhook.
type WebhookAlerts struct {
	URLEnv    string
	SecretEnv string
}

// PagerDutyAlerts sends incidents to PagerDuty's Events API v2.
type PagerDutyAlerts struct {
	// RoutingKeyEnv names the variable holding the integration's routing
	// key.
	RoutingKeyEnv string
	// URL is the Events API v2 endpoint (default DefaultPagerDutyURL).
	URL string
	// SeverityMap maps an alert kind ("missed_run") or an evald severity
	// ("page", "info") to a PagerDuty severity (critical, error, warning,
	// info); a kind's entry wins over its severity's. Incidents that map
	// to nothing are not sent. Parse merges the file's entries over
	// DefaultPagerDutySeverities.
	SeverityMap map[string]string
}

// Heartbeat pings an outside dead-man's switch (healthchecks.io, Dead
// Man's Snitch, Cronitor, ...) every Every while the scheduler is healthy,
// so that the switch pages when the whole daemon is gone or stuck.
type Heartbeat struct {
	// URLEnv names the variable holding the URL to GET (a secret: such
	// URLs are their own credential).
	URLEnv string
	// Every is the ping interval (default DefaultHeartbeatEvery).
	Every time.Duration
}

// DefaultHeartbeatEvery is the heartbeat's default interval.
const DefaultHeartbeatEvery = time.Minute

// DefaultPagerDutyURL is PagerDuty's Events API v2 endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// DefaultPagerDutySeverities pages PagerDuty for evald's pages only.
var DefaultPagerDutySeverities = map[string]string{"page": "critical"}

// PagerDutySeverities are the severities PagerDuty's Events API v2 knows.
var PagerDutySeverities = []string{"critical", "error", "warning", "info"}

// AlertKinds lists the alert kinds a severity_map may name (the alerts
// package's Kinds; a test keeps the two lists equal).
var AlertKinds = []string{"regression", "scorer_changed", "threshold_failure", "could_not_measure", "identity_changed", "behaviour_changed",
	"threshold_change_pending", "budget_exhausted", "config_reload_failed", "judge_calibration_failed", "audit_appended", "missed_run"}

// Telemetry configures OpenTelemetry export.
type Telemetry struct {
	OTLP *OTLP // nil: no export
}

// OTLP exports a span per run, with a child per sample, to an
// OpenTelemetry collector over OTLP/HTTP (protobuf). Export is fail-open:
// runs never wait on or fail because of the collector.
type OTLP struct {
	// Endpoint is the collector's base URL ("http://127.0.0.1:4318"); a
	// URL without a path gets the traces path /v1/traces.
	Endpoint string
	// HeadersEnv names the variable holding headers for every export
	// ("key=value,key2=value2", as OTEL_EXPORTER_OTLP_HEADERS; often an API
	// key), "" none.
	HeadersEnv string
}

// Governance configures the governance records.
type Governance struct {
	// AuditKeyEnv names the variable holding the audit chain's HMAC key;
	// "" keeps the chain plain (sha256).
	AuditKeyEnv string
	// RequireDistinctSigner refuses a sign-off by the name that made the
	// change, when the change arrives with a name (an API token's, or the
	// git author of the suite file's last commit).
	RequireDistinctSigner bool
}
