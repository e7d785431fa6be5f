package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/safefile"
	"github.com/evald/evald/internal/strictyaml"
)

// Defaults for what evald.yaml leaves out.
const (
	DefaultAddr        = "127.0.0.1:8080"
	DefaultSQLite      = "evald.db"
	DefaultConcurrency = 4
	DefaultTimeout     = 30 * time.Second
	DefaultRetries     = 4
	DefaultRenotify    = 6 * time.Hour
	// DefaultMaxResponseBytes caps the body read from a target per request.
	DefaultMaxResponseBytes = 4 << 20
	// DefaultMaxUsageTokens is the largest token count one response may
	// report (prompt or completion): above it the count is not believed.
	DefaultMaxUsageTokens = 10_000_000
)

// Parse reads the config file name (a slash path) from fsys. Relative paths
// in it (storage.sqlite, suites[].file) resolve against its folder, as
// slash paths inside fsys. The suites are not loaded; see ParseProject.
func Parse(fsys fs.FS, name string) (*Config, error) {
	var p evals.Problems
	cfg := parseConfig(fsFiles{fsys}, name, &p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// LoadFile reads a config from the file system without loading its suites.
// Relative paths in it resolve against the config file's folder.
func LoadFile(path string) (*Config, error) {
	var p evals.Problems
	cfg := parseConfig(osFiles{}, path, &p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// source abstracts where a config and its suites are read from.
type source interface {
	// read reads a regular file of at most max bytes (see safefile).
	read(name string, max int64) ([]byte, error)
	resolve(from, rel string) (string, error)
	// loadSuite loads a suite whose files are at most max bytes each.
	loadSuite(name string, max int64) (*evals.Suite, error)
}

type fsFiles struct{ fsys fs.FS }

func (f fsFiles) read(name string, max int64) ([]byte, error) {
	return safefile.FSRead(f.fsys, name, max)
}

func (f fsFiles) resolve(from, rel string) (string, error) {
	if path.IsAbs(rel) {
		return "", errors.New("must be relative to the config file")
	}
	p := path.Join(path.Dir(from), rel)
	if !fs.ValidPath(p) {
		return "", errors.New("leads outside the file system the config was loaded from")
	}
	return p, nil
}

func (f fsFiles) loadSuite(name string, _ int64) (*evals.Suite, error) {
	return evals.Parse(f.fsys, name)
}

type osFiles struct{}

func (osFiles) read(name string, max int64) ([]byte, error) { return safefile.Read(name, max) }

func (osFiles) resolve(from, rel string) (string, error) {
	rel = filepath.FromSlash(rel)
	if filepath.IsAbs(rel) {
		return rel, nil
	}
	return filepath.Join(filepath.Dir(from), rel), nil
}

func (osFiles) loadSuite(name string, max int64) (*evals.Suite, error) {
	return evals.LoadFileLimit(name, max)
}

var (
	topKeys     = []string{"storage", "server", "targets", "judge", "suites", "alerts", "governance", "telemetry"}
	targetKeys  = []string{"name", "base_url", "api_key_env", "model", "embedding_model", "params", "concurrency", "rps", "timeout", "retries", "price", "max_response_bytes", "max_usage_tokens", "follow_redirects", "provider", "deployment", "api_version"}
	paramKeys   = []string{"temperature", "top_p", "max_tokens", "seed", "response_format", "tools"}
	suiteRefKey = []string{"file", "targets", "schedule", "budget_usd_per_day", "max_file_bytes"}
	targetName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// parseConfig decodes and validates a config; problems go to p. The config
// is returned even when it has problems, so that Load can go on to report
// the suites' problems too.
func parseConfig(src source, name string, p *evals.Problems) *Config {
	cfg := &Config{File: name, Server: Server{Addr: DefaultAddr}, Alerts: Alerts{Renotify: DefaultRenotify}}
	sqlite, err := src.resolve(name, DefaultSQLite)
	if err == nil {
		cfg.Storage.SQLite = sqlite
	}
	data, err := src.read(name, evals.MaxYAMLBytes)
	if err != nil {
		p.Addf(name, 0, "", "", ErrFile, "cannot read: %s", readErr(err))
		return cfg
	}
	d := newDecoder(name, p)
	cfg.EnvLines = d.envLines
	root := d.Document(data)
	if root == nil {
		return cfg
	}
	f, ok := d.Fields(root, "", "a mapping of config sections", topKeys...)
	if !ok {
		return cfg
	}
	if n := f["storage"]; n != nil && !strictyaml.IsNull(n) {
		if sf, ok := d.Fields(n, "storage", "a mapping", "sqlite", "retain_samples"); ok {
			if sn := sf["sqlite"]; sn != nil || sf["retain_samples"] == nil {
				if s, sn, ok := d.required(sf, n, "storage", "sqlite"); ok {
					if rp, err := src.resolve(name, s); err != nil {
						d.FailGot(sn, "storage.sqlite", ErrInvalid, "%v", err)
					} else {
						cfg.Storage.SQLite = rp
					}
				}
			}
			if v := sf["retain_samples"]; v != nil && !strictyaml.IsNull(v) {
				if r, ok := d.days(v, "storage.retain_samples"); ok {
					cfg.Storage.RetainSamples = r
				}
			}
		}
	}
	if n := f["server"]; n != nil && !strictyaml.IsNull(n) {
		cfg.Server = d.server(n)
	}
	if n := f["targets"]; n == nil {
		d.Fail(root, "targets", ErrMissing, "required: at least one model endpoint")
	} else {
		cfg.Targets = d.targets(n)
	}
	var names []string
	for _, t := range cfg.Targets {
		if t.Name != "" {
			names = append(names, t.Name)
		}
	}
	if n := f["judge"]; n != nil && !strictyaml.IsNull(n) {
		if s, ok := d.Str(n, "judge"); ok {
			cfg.Judge = s
			d.known(n, "judge", s, names)
		}
	}
	if n := f["suites"]; n != nil && !strictyaml.IsNull(n) {
		cfg.Suites = d.suites(src, n, names)
	}
	if n := f["alerts"]; n != nil && !strictyaml.IsNull(n) {
		cfg.Alerts = d.alerts(n)
	}
	if n := f["telemetry"]; n != nil && !strictyaml.IsNull(n) {
		cfg.Telemetry = d.telemetry(n)
	}
	if n := f["governance"]; n != nil && !strictyaml.IsNull(n) {
		cfg.Governance = d.governance(n)
	}
	return cfg
}

// known checks that name is one of the targets.
func (d *decoder) known(n *yaml.Node, field, name string, targets []string) bool {
	if slices.Contains(targets, name) {
		return true
	}
	d.FailGot(n, field, ErrInvalid, "unknown target (targets: %s)", strings.Join(targets, ", "))
	return false
}

func (d *decoder) server(n *yaml.Node) Server {
	s := Server{Addr: DefaultAddr}
	f, ok := d.Fields(n, "server", "a mapping", "addr", "tokens_env", "public_url")
	if !ok {
		return s
	}
	if v := f["addr"]; v != nil {
		if a, ok := d.Str(v, "server.addr"); ok {
			if !validAddr(a) {
				d.FailGot(v, "server.addr", ErrInvalid, "must be host:port, like 127.0.0.1:8080 or :8080")
			}
			s.Addr = a
		}
	}
	if v := f["tokens_env"]; v != nil {
		s.TokensEnv = d.env(v, "server.tokens_env")
	}
	if v := f["public_url"]; v != nil {
		if u, ok := d.Str(v, "server.public_url"); ok {
			d.httpURL(v, "server.public_url", u)
			s.PublicURL = u
		}
	}
	return s
}

func validAddr(a string) bool {
	_, port, err := net.SplitHostPort(a)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// httpURL checks an http(s) URL; credentials belong in env vars, not here.
func (d *decoder) httpURL(n *yaml.Node, field, s string) bool {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https":
		d.FailGot(n, field, ErrInvalid, "must be an http:// or https:// URL")
	case u.User != nil:
		d.Fail(n, field, ErrInvalid, "must not hold credentials: put the key in an environment variable (api_key_env)")
	default:
		return true
	}
	return false
}

func (d *decoder) targets(n *yaml.Node) []Target {
	items, ok := d.List(n, "targets", "a list of targets")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.Fail(n, "targets", ErrMissing, "needs at least one target")
	}
	first := map[string]int{}
	out := make([]Target, 0, len(items))
	for i, item := range items {
		field := strictyaml.Index("targets", i)
		t, ok := d.target(item, field)
		if !ok {
			continue
		}
		if t.Name != "" {
			if ln, dup := first[t.Name]; dup {
				d.Fail(item, strictyaml.Key(field, "name"), ErrDuplicate, "duplicate target name %q (first on line %d)", t.Name, ln)
				continue
			}
			first[t.Name] = t.Line
		}
		out = append(out, t)
	}
	return out
}

func (d *decoder) target(n *yaml.Node, field string) (Target, bool) {
	t := Target{Concurrency: DefaultConcurrency, Timeout: DefaultTimeout, Retries: DefaultRetries,
		MaxResponseBytes: DefaultMaxResponseBytes, MaxUsageTokens: DefaultMaxUsageTokens, Line: d.Line(strictyaml.Deref(n))}
	f, ok := d.Fields(n, field, "a target {name, base_url, model, ...}", targetKeys...)
	if !ok {
		return t, false
	}
	if s, sn, ok := d.required(f, n, field, "name"); ok {
		if !targetName.MatchString(s) {
			d.FailGot(sn, strictyaml.Key(field, "name"), ErrInvalid, "must be letters, digits, '.', '_' or '-', starting with a letter or digit")
		}
		t.Name = s
	}
	if s, sn, ok := d.required(f, n, field, "base_url"); ok {
		d.httpURL(sn, strictyaml.Key(field, "base_url"), s)
		t.BaseURL = s
	}
	if v := f["api_key_env"]; v != nil && !strictyaml.IsNull(v) {
		t.APIKeyEnv = d.env(v, strictyaml.Key(field, "api_key_env"))
	}
	t.Model, _, _ = d.required(f, n, field, "model")
	if v := f["embedding_model"]; v != nil && !strictyaml.IsNull(v) {
		t.EmbeddingModel, _ = d.NonEmpty(v, strictyaml.Key(field, "embedding_model"))
	}
	if v := f["params"]; v != nil && !strictyaml.IsNull(v) {
		t.Params = d.params(v, strictyaml.Key(field, "params"))
	}
	if v := f["concurrency"]; v != nil {
		if c, ok := d.Integer(v, strictyaml.Key(field, "concurrency")); ok {
			if c < 1 {
				d.FailGot(v, strictyaml.Key(field, "concurrency"), ErrInvalid, "must be at least 1")
			}
			t.Concurrency = c
		}
	}
	if v := f["rps"]; v != nil {
		if r, ok := d.Number(v, strictyaml.Key(field, "rps")); ok {
			if r < 0 {
				d.FailGot(v, strictyaml.Key(field, "rps"), ErrInvalid, "must be at least 0 (0: unlimited)")
			}
			t.RPS = r
		}
	}
	if v := f["timeout"]; v != nil {
		if to, ok := d.duration(v, strictyaml.Key(field, "timeout")); ok {
			t.Timeout = to
		}
	}
	if v := f["retries"]; v != nil {
		if r, ok := d.Integer(v, strictyaml.Key(field, "retries")); ok {
			if r < 0 || r > 100 {
				d.FailGot(v, strictyaml.Key(field, "retries"), ErrInvalid, "must be in [0,100]")
			}
			t.Retries = r
		}
	}
	if v := f["max_response_bytes"]; v != nil {
		if b, ok := d.Integer(v, strictyaml.Key(field, "max_response_bytes")); ok {
			if b < 1024 || b > 1<<30 {
				d.FailGot(v, strictyaml.Key(field, "max_response_bytes"), ErrInvalid, "must be in [1024, 1073741824]")
			}
			t.MaxResponseBytes = int64(b)
		}
	}
	if v := f["max_usage_tokens"]; v != nil {
		if m, ok := d.Integer(v, strictyaml.Key(field, "max_usage_tokens")); ok {
			if m < 1 {
				d.FailGot(v, strictyaml.Key(field, "max_usage_tokens"), ErrInvalid, "must be at least 1")
			}
			t.MaxUsageTokens = m
		}
	}
	if v := f["follow_redirects"]; v != nil {
		if b, ok := d.Bool(v, strictyaml.Key(field, "follow_redirects")); ok {
			t.FollowRedirects = b
		}
	}
	if v := f["provider"]; v != nil && !strictyaml.IsNull(v) {
		if p, ok := d.Str(v, strictyaml.Key(field, "provider")); ok {
			if slices.Contains(Providers, p) {
				t.Provider = p
				if p == ProviderOpenAI {
					t.Provider = "" // the default, spelled out
				}
			} else {
				d.FailGot(v, strictyaml.Key(field, "provider"), ErrInvalid, "must be one of %s", strings.Join(Providers, ", "))
			}
		}
	}
	for _, k := range []string{"deployment", "api_version"} {
		v := f[k]
		if v == nil || strictyaml.IsNull(v) {
			continue
		}
		if t.Provider != ProviderAzure {
			d.Fail(v, strictyaml.Key(field, k), ErrInvalid, "goes with provider: azure")
			continue
		}
		if s, ok := d.NonEmpty(v, strictyaml.Key(field, k)); ok {
			if k == "deployment" {
				t.Deployment = s
			} else {
				t.APIVersion = s
			}
		}
	}
	if pn := f["params"]; t.Provider == ProviderAnthropic && pn != nil && pn.Kind == yaml.MappingNode {
		// Anthropic's Messages API has no seed, response_format or
		// OpenAI-style tools, and takes temperature in [0,1].
		pf := strictyaml.Key(field, "params")
		for i := 0; i+1 < len(pn.Content); i += 2 {
			k, v := pn.Content[i].Value, pn.Content[i+1]
			switch {
			case strictyaml.IsNull(v):
			case k == "seed" || k == "response_format" || k == "tools":
				d.Fail(v, strictyaml.Key(pf, k), ErrInvalid, "is not supported with provider: anthropic")
			case k == "temperature" && t.Params.Temperature != nil && *t.Params.Temperature > 1:
				d.FailGot(v, strictyaml.Key(pf, k), ErrInvalid, "must be in [0,1] with provider: anthropic")
			}
		}
	}
	if t.Provider == ProviderAzure {
		if t.Deployment == "" {
			t.Deployment = t.Model
		}
		if t.APIVersion == "" {
			t.APIVersion = DefaultAzureAPIVersion
		}
	}
	if v := f["price"]; v != nil && !strictyaml.IsNull(v) {
		if pf, ok := d.Fields(v, strictyaml.Key(field, "price"), "a mapping", "input_per_mtok", "output_per_mtok"); ok {
			usd := func(k string) float64 {
				pn := pf[k]
				if pn == nil {
					return 0
				}
				x, ok := d.Number(pn, strictyaml.Key(field, "price."+k))
				if ok && x < 0 {
					d.FailGot(pn, strictyaml.Key(field, "price."+k), ErrInvalid, "must be at least 0")
				}
				return x
			}
			t.Price = Price{InputPerMTok: usd("input_per_mtok"), OutputPerMTok: usd("output_per_mtok")}
		}
	}
	return t, true
}

func (d *decoder) params(n *yaml.Node, field string) Params {
	var p Params
	f, ok := d.Fields(n, field, "a mapping", paramKeys...)
	if !ok {
		return p
	}
	between := func(k string, lo, hi float64) *float64 {
		v := f[k]
		if v == nil || strictyaml.IsNull(v) {
			return nil
		}
		x, ok := d.Number(v, strictyaml.Key(field, k))
		if !ok {
			return nil
		}
		if x < lo || x > hi {
			d.FailGot(v, strictyaml.Key(field, k), ErrInvalid, "must be in [%g,%g]", lo, hi)
		}
		return &x
	}
	p.Temperature = between("temperature", 0, 2)
	p.TopP = between("top_p", 0, 1)
	if v := f["max_tokens"]; v != nil && !strictyaml.IsNull(v) {
		if x, ok := d.Integer(v, strictyaml.Key(field, "max_tokens")); ok {
			if x < 1 {
				d.FailGot(v, strictyaml.Key(field, "max_tokens"), ErrInvalid, "must be at least 1")
			}
			p.MaxTokens = &x
		}
	}
	if v := f["seed"]; v != nil && !strictyaml.IsNull(v) {
		if x, ok := d.Integer(v, strictyaml.Key(field, "seed")); ok {
			p.Seed = &x
		}
	}
	if v := f["response_format"]; v != nil && !strictyaml.IsNull(v) {
		p.ResponseFormat = d.responseFormat(v, strictyaml.Key(field, "response_format"))
	}
	if v := f["tools"]; v != nil && !strictyaml.IsNull(v) {
		p.Tools = d.tools(v, strictyaml.Key(field, "tools"))
	}
	return p
}

// responseFormat accepts "text", "json_object" or the OpenAI object form
// ({type: json_schema, json_schema: {name, schema}}). {type: text} and
// {type: json_object} are stored as the plain strings, so both spellings
// make the same target version.
func (d *decoder) responseFormat(n *yaml.Node, field string) any {
	const want = "must be text, json_object or {type: json_schema, json_schema: {name, schema}}"
	v, ok := d.value(n, field, 0)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case string:
		if x == "text" || x == "json_object" {
			return x
		}
	case map[string]any:
		typ, _ := x["type"].(string)
		switch {
		case (typ == "text" || typ == "json_object") && len(x) == 1:
			return typ
		case typ == "json_schema":
			js, _ := x["json_schema"].(map[string]any)
			if name, _ := js["name"].(string); name == "" {
				d.Fail(n, field+".json_schema.name", ErrMissing, "required")
				return nil
			}
			if _, isMap := js["schema"].(map[string]any); !isMap {
				d.Fail(n, field+".json_schema.schema", ErrMissing, "required: a JSON schema object")
				return nil
			}
			return x
		}
	}
	d.FailGot(n, field, ErrInvalid, want)
	return nil
}

// tools accepts a list of OpenAI function tools.
func (d *decoder) tools(n *yaml.Node, field string) any {
	items, ok := d.List(n, field, "a list of tools")
	if !ok {
		return nil
	}
	v, ok := d.value(n, field, 0)
	if !ok {
		return nil
	}
	list, _ := v.([]any)
	for i, t := range list {
		tf := strictyaml.Index(field, i)
		tool, isMap := t.(map[string]any)
		if !isMap {
			d.FailGot(items[i], tf, ErrType, "must be a tool {type: function, function: {name, ...}}")
			return nil
		}
		if typ, has := tool["type"]; has && typ != "function" {
			d.FailGot(items[i], tf+".type", ErrInvalid, "must be function")
			return nil
		}
		fn, _ := tool["function"].(map[string]any)
		if name, _ := fn["name"].(string); name == "" {
			d.Fail(items[i], tf+".function.name", ErrMissing, "required")
			return nil
		}
	}
	return list
}

func (d *decoder) suites(src source, n *yaml.Node, targets []string) []SuiteRef {
	items, ok := d.List(n, "suites", "a list of {file, targets, schedule}")
	if !ok {
		return nil
	}
	out := make([]SuiteRef, 0, len(items))
	for i, item := range items {
		field := strictyaml.Index("suites", i)
		r := SuiteRef{Line: d.Line(strictyaml.Deref(item))}
		f, ok := d.Fields(item, field, "a suite {file, targets, schedule, budget_usd_per_day}", suiteRefKey...)
		if !ok {
			continue
		}
		if s, sn, ok := d.required(f, item, field, "file"); ok {
			if rp, err := src.resolve(d.File, s); err != nil {
				d.FailGot(sn, strictyaml.Key(field, "file"), ErrInvalid, "%v", err)
			} else {
				r.File = rp
			}
		}
		if v := f["targets"]; v == nil || strictyaml.IsNull(v) {
			d.Fail(item, strictyaml.Key(field, "targets"), ErrMissing, "required: the targets to run the suite on (targets: %s)", strings.Join(targets, ", "))
		} else if list, ok := d.List(v, strictyaml.Key(field, "targets"), "a list of target names"); ok {
			if len(list) == 0 {
				d.Fail(v, strictyaml.Key(field, "targets"), ErrMissing, "needs at least one target")
			}
			for j, tn := range list {
				tf := strictyaml.Index(strictyaml.Key(field, "targets"), j)
				s, ok := d.Str(tn, tf)
				if !ok || !d.known(tn, tf, s, targets) {
					continue
				}
				if slices.Contains(r.Targets, s) {
					d.FailGot(tn, tf, ErrDuplicate, "target listed twice")
					continue
				}
				r.Targets = append(r.Targets, s)
			}
		}
		if v := f["schedule"]; v != nil && !strictyaml.IsNull(v) {
			if s, ok := d.Str(v, strictyaml.Key(field, "schedule")); ok {
				if err := checkSchedule(s); err != nil {
					d.FailGot(v, strictyaml.Key(field, "schedule"), ErrInvalid, "%v", err)
				}
				r.Schedule = s
			}
		}
		if v := f["max_file_bytes"]; v != nil {
			if b, ok := d.Integer(v, strictyaml.Key(field, "max_file_bytes")); ok {
				if b < 1 {
					d.FailGot(v, strictyaml.Key(field, "max_file_bytes"), ErrInvalid, "must be at least 1")
				}
				r.MaxFileBytes = int64(b)
			}
		}
		if v := f["budget_usd_per_day"]; v != nil && !strictyaml.IsNull(v) {
			if b, ok := d.Number(v, strictyaml.Key(field, "budget_usd_per_day")); ok {
				if b < 0 {
					d.FailGot(v, strictyaml.Key(field, "budget_usd_per_day"), ErrInvalid, "must be at least 0 (0: no budget)")
				}
				r.BudgetUSDPerDay = b
			}
		}
		out = append(out, r)
	}
	return out
}

// checkSchedule validates a robfig/cron spec: five fields, a descriptor
// (@hourly, @daily, ...) or @every DURATION.
func checkSchedule(spec string) (err error) {
	const want = "must be a cron spec like \"*/30 * * * *\", \"@hourly\" or \"@every 30m\""
	defer func() {
		if recover() != nil { // the cron parser panics on some malformed input
			err = errors.New(want)
		}
	}()
	if strings.TrimSpace(spec) == "" {
		return errors.New(want)
	}
	if every, ok := strings.CutPrefix(spec, "@every "); ok {
		dur, perr := time.ParseDuration(strings.TrimSpace(every))
		if perr != nil || dur < time.Second {
			return errors.New("@every needs a duration of at least 1s, like @every 30m")
		}
		return nil
	}
	if _, perr := cron.ParseStandard(spec); perr != nil {
		why, _, _ := strings.Cut(perr.Error(), ": [") // drop cron's echo of the spec
		return fmt.Errorf("%s: %s", want, why)
	}
	return nil
}

func (d *decoder) governance(n *yaml.Node) Governance {
	var g Governance
	f, ok := d.Fields(n, "governance", "a mapping", "audit_key_env", "require_distinct_signer")
	if !ok {
		return g
	}
	if v := f["audit_key_env"]; v != nil {
		g.AuditKeyEnv = d.env(v, "governance.audit_key_env")
	}
	if b := f["require_distinct_signer"]; b != nil {
		if b.Kind == yaml.ScalarNode && b.Tag == "!!bool" {
			g.RequireDistinctSigner = b.Value == "true" || b.Value == "True" || b.Value == "TRUE"
		} else {
			d.FailGot(b, "governance.require_distinct_signer", ErrInvalid, "must be true or false")
		}
	}
	return g
}

func (d *decoder) alerts(n *yaml.Node) Alerts {
	a := Alerts{Renotify: DefaultRenotify}
	f, ok := d.Fields(n, "alerts", "a mapping", "slack", "webhook", "pagerduty", "heartbeat", "renotify", "missed_after")
	if !ok {
		return a
	}
	if v := f["slack"]; v != nil && !strictyaml.IsNull(v) {
		if sf, ok := d.Fields(v, "alerts.slack", "a mapping", "webhook_url_env", "token_env", "channel"); ok {
			s := &SlackAlerts{}
			if x := sf["webhook_url_env"]; x != nil {
				s.WebhookURLEnv = d.env(x, "alerts.slack.webhook_url_env")
			}
			if x := sf["token_env"]; x != nil {
				s.TokenEnv = d.env(x, "alerts.slack.token_env")
			}
			if x := sf["channel"]; x != nil {
				s.Channel, _ = d.Str(x, "alerts.slack.channel")
			}
			switch {
			case s.WebhookURLEnv != "" && s.TokenEnv != "":
				d.Fail(v, "alerts.slack", ErrInvalid, "set webhook_url_env or token_env and channel, not both")
			case s.WebhookURLEnv != "" && s.Channel != "":
				d.Fail(sf["channel"], "alerts.slack.channel", ErrInvalid, "an incoming webhook posts to its own channel: channel goes with token_env")
			case s.WebhookURLEnv == "" && s.TokenEnv == "" && sf["webhook_url_env"] == nil && sf["token_env"] == nil:
				d.Fail(v, "alerts.slack", ErrMissing, "needs webhook_url_env, or token_env and channel")
			case s.TokenEnv != "" && s.Channel == "":
				d.Fail(v, "alerts.slack.channel", ErrMissing, "required with token_env")
			}
			a.Slack = s
		}
	}
	if v := f["webhook"]; v != nil && !strictyaml.IsNull(v) {
		if wf, ok := d.Fields(v, "alerts.webhook", "a mapping", "url_env", "secret_env"); ok {
			w := &WebhookAlerts{}
			if x := wf["url_env"]; x == nil {
				d.Fail(v, "alerts.webhook.url_env", ErrMissing, "required")
			} else {
				w.URLEnv = d.env(x, "alerts.webhook.url_env")
			}
			if x := wf["secret_env"]; x != nil {
				w.SecretEnv = d.env(x, "alerts.webhook.secret_env")
			}
			a.Webhook = w
		}
	}
	if v := f["pagerduty"]; v != nil && !strictyaml.IsNull(v) {
		a.PagerDuty = d.pagerDuty(v)
	}
	if v := f["heartbeat"]; v != nil && !strictyaml.IsNull(v) {
		if hf, ok := d.Fields(v, "alerts.heartbeat", "a mapping", "url_env", "every"); ok {
			h := &Heartbeat{Every: DefaultHeartbeatEvery}
			if x := hf["url_env"]; x == nil {
				d.Fail(v, "alerts.heartbeat.url_env", ErrMissing, "required")
			} else {
				h.URLEnv = d.env(x, "alerts.heartbeat.url_env")
			}
			if x := hf["every"]; x != nil && !strictyaml.IsNull(x) {
				if e, ok := d.duration(x, "alerts.heartbeat.every"); ok {
					if e < time.Second {
						d.FailGot(x, "alerts.heartbeat.every", ErrInvalid, "must be at least 1s")
					}
					h.Every = e
				}
			}
			a.Heartbeat = h
		}
	}
	if v := f["renotify"]; v != nil && !strictyaml.IsNull(v) {
		if r, ok := d.duration(v, "alerts.renotify"); ok {
			a.Renotify = r
		}
	}
	if v := f["missed_after"]; v != nil && !strictyaml.IsNull(v) {
		if r, ok := d.duration(v, "alerts.missed_after"); ok {
			a.MissedAfter, a.MissedAfterLine = r, d.Line(strictyaml.Deref(v))
		}
	}
	return a
}

func (d *decoder) pagerDuty(n *yaml.Node) *PagerDutyAlerts {
	pf, ok := d.Fields(n, "alerts.pagerduty", "a mapping", "routing_key_env", "url", "severity_map")
	if !ok {
		return nil
	}
	p := &PagerDutyAlerts{URL: DefaultPagerDutyURL, SeverityMap: maps.Clone(DefaultPagerDutySeverities)}
	if x := pf["routing_key_env"]; x == nil {
		d.Fail(n, "alerts.pagerduty.routing_key_env", ErrMissing, "required")
	} else {
		p.RoutingKeyEnv = d.env(x, "alerts.pagerduty.routing_key_env")
	}
	if x := pf["url"]; x != nil && !strictyaml.IsNull(x) {
		if u, ok := d.Str(x, "alerts.pagerduty.url"); ok && d.httpURL(x, "alerts.pagerduty.url", u) {
			p.URL = u
		}
	}
	if x := pf["severity_map"]; x != nil && !strictyaml.IsNull(x) {
		x = strictyaml.Deref(x)
		if x.Kind != yaml.MappingNode {
			d.FailGot(x, "alerts.pagerduty.severity_map", ErrInvalid, "must be a mapping like {page: critical, missed_run: error}")
			return p
		}
		for i := 0; i+1 < len(x.Content); i += 2 {
			k, v := x.Content[i], x.Content[i+1]
			field := "alerts.pagerduty.severity_map." + k.Value
			if k.Value != "page" && k.Value != "info" && !slices.Contains(AlertKinds, k.Value) {
				d.Fail(k, field, ErrInvalid, "must be page, info or an alert kind (%s)", strings.Join(AlertKinds, ", "))
				continue
			}
			sev, ok := d.Str(v, field)
			if !ok {
				continue
			}
			if !slices.Contains(PagerDutySeverities, sev) {
				d.FailGot(v, field, ErrInvalid, "must be one of %s", strings.Join(PagerDutySeverities, ", "))
				continue
			}
			p.SeverityMap[k.Value] = sev
		}
	}
	return p
}

func (d *decoder) telemetry(n *yaml.Node) Telemetry {
	var t Telemetry
	f, ok := d.Fields(n, "telemetry", "a mapping", "otlp")
	if !ok {
		return t
	}
	v := f["otlp"]
	if v == nil || strictyaml.IsNull(v) {
		return t
	}
	of, ok := d.Fields(v, "telemetry.otlp", "a mapping", "endpoint", "headers_env")
	if !ok {
		return t
	}
	o := &OTLP{}
	if e, en, ok := d.required(of, v, "telemetry.otlp", "endpoint"); ok && d.httpURL(en, "telemetry.otlp.endpoint", e) {
		o.Endpoint = e
	}
	if x := of["headers_env"]; x != nil {
		o.HeadersEnv = d.env(x, "telemetry.otlp.headers_env")
	}
	t.OTLP = o
	return t
}

// readErr shortens a read error: the path is printed already.
func readErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file"
	}
	return err.Error()
}
