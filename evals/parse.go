package evals

import (
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/evald/evald/internal/safefile"
	"github.com/evald/evald/internal/strictyaml"
	"github.com/evald/evald/scoring"
)

// Parse loads the suite file name (a slash path) from fsys, with the files
// it refers to (file:// prompts and datasets, relative to its folder and
// inside fsys). Every problem is reported at once: the error joins
// *FieldError values.
func Parse(fsys fs.FS, name string) (*Suite, error) {
	return load(fsSource{fsys}, name, 0)
}

// LoadFile loads a suite from the file system. Relative file:// references
// resolve against the suite file's folder and may leave it
// (file://../prompts/x.txt); errors print paths the way path was given.
func LoadFile(path string) (*Suite, error) {
	return load(osSource{}, path, 0)
}

// LoadFileLimit is LoadFile with a size limit for each file the suite
// reads (0: DefaultMaxFileBytes).
func LoadFileLimit(path string, maxBytes int64) (*Suite, error) {
	return load(osSource{}, path, maxBytes)
}

// DefaultMaxFileBytes is the size limit of each file a suite reads (the
// suite file, prompts, datasets) unless evald.yaml sets
// suites[].max_file_bytes. Only regular files are read: never a pipe, a
// device or anything under /proc, /sys or /dev.
const DefaultMaxFileBytes = safefile.DefaultMaxBytes

// ParsePrompt loads a file that holds only prompt messages (a YAML or JSON
// list of {role, content}; content may be a file:// reference), such as the
// candidate prompt of `evald run --prompt`.
func ParsePrompt(fsys fs.FS, name string) ([]Message, error) {
	return loadPrompt(fsSource{fsys}, name)
}

// LoadPrompt is ParsePrompt on the file system, resolving like LoadFile.
func LoadPrompt(path string) ([]Message, error) {
	return loadPrompt(osSource{}, path)
}

var (
	suiteKeys = []string{"name", "description", "prompt", "repeats", "defaultTest", "tests", "thresholds", "drift", "judge", "judge_prompts", "calibration", "timeout",
		"tools", "tool_results", "max_tool_steps"}
	caseKeys   = []string{"id", "description", "vars", "assert", "turns"}
	assertKeys = []string{"type", "value", "threshold", "weight"}
	roles      = []string{"system", "developer", "user", "assistant"}
	// suiteName keeps names usable on a command line and in URLs.
	suiteName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// loader holds the state of loading one suite.
type loader struct {
	src source
	// maxBytes is the size limit of each file read (0: the default).
	maxBytes int64
	p        Problems
	file     string
	// judgePrompts are the suite's judge_prompts, set on every assertion.
	judgePrompts *scoring.JudgePrompts
	// tools are the suite's tool definitions, set on every assertion;
	// toolNames their names (nil: the suite declares no tools).
	tools     []any
	toolNames []string
	// sink receives each test case as it is read (emit); emitted counts them.
	sink    func(rawCase)
	emitted int
	// rowNamed are the CSV datasets read without an __id column.
	rowNamed []string
	// promptAt is where each message of the last prompt messages decoded
	// was written, for errors about its templates.
	promptAt []promptLoc
}

func (l *loader) decoder(file string) *decoder { return newDecoder(file, &l.p) }

// readRoot reads and parses a YAML (or JSON) file into its root node.
func (l *loader) readRoot(name string) (*yaml.Node, *decoder) {
	data, err := l.readYAML(name)
	if err != nil {
		l.p.Addf(name, 0, "", "", ErrFile, "cannot read: %s", readErr(err))
		return nil, l.decoder(name)
	}
	return l.parseRoot(name, data)
}

// parseRoot parses file contents into the root node.
func (l *loader) parseRoot(name string, data []byte) (*yaml.Node, *decoder) {
	d := l.decoder(name)
	return d.Document(data), d
}

func load(src source, name string, maxBytes int64) (*Suite, error) {
	l := &loader{src: src, file: name, maxBytes: maxBytes}
	s := l.suite()
	if err := l.p.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func loadPrompt(src source, name string) ([]Message, error) {
	l := &loader{src: src, file: name}
	root, d := l.readRoot(name)
	var msgs []Message
	if root != nil && strictyaml.Deref(root).Kind != yaml.SequenceNode {
		d.FailGot(root, "", ErrType, "must be a list of {role, content} messages")
	} else if root != nil {
		msgs = l.messages(d, root, "")
	}
	if err := l.p.Err(); err != nil {
		return nil, err
	}
	return msgs, nil
}

// suite decodes the suite file; problems go to l.p.
func (l *loader) suite() *Suite {
	root, d := l.readRoot(l.file)
	if root == nil {
		return nil
	}
	f, ok := d.Fields(root, "", "a mapping of suite settings", suiteKeys...)
	if !ok {
		return nil
	}
	s := &Suite{File: l.file, Repeats: 1}
	if n := f["name"]; n == nil {
		d.Fail(root, "name", ErrMissing, "required")
	} else if v, ok := d.NonEmpty(n, "name"); ok {
		if !suiteName.MatchString(v) {
			d.FailGot(n, "name", ErrInvalid, "must be letters, digits, '.', '_' or '-', starting with a letter or digit")
		}
		s.Name = v
	}
	if n := f["description"]; n != nil && !strictyaml.IsNull(n) {
		s.Description, _ = d.Str(n, "description")
	}
	before := l.p.Len()
	if n := f["prompt"]; n == nil {
		d.Fail(root, "prompt", ErrMissing, "required: the chat messages to send")
	} else {
		s.Prompt = l.messages(d, n, "prompt")
	}
	promptAt := l.promptAt
	if n := f["timeout"]; n != nil && !strictyaml.IsNull(n) {
		s.Timeout = duration(d, n, "timeout")
	}
	if n := f["repeats"]; n != nil {
		if v, ok := d.Integer(n, "repeats"); ok {
			if v < 1 {
				d.FailGot(n, "repeats", ErrInvalid, "must be at least 1")
			}
			s.Repeats = v
		}
	}
	var defaults rawCase
	if n := f["defaultTest"]; n != nil && !strictyaml.IsNull(n) {
		defaults = l.defaultTest(d, n)
	}
	// A broken prompt or defaultTest would make every case look wrong:
	// their vars are then not checked.
	checkVars := l.p.Len() == before
	// The judge prompts are compiled into each case's assertions, and
	// cases are resolved as they are read.
	if n := f["judge_prompts"]; n != nil && !strictyaml.IsNull(n) {
		l.judgePrompts = l.parseJudgePrompts(d, n)
	}
	if n := f["max_tool_steps"]; n != nil && !strictyaml.IsNull(n) {
		if v, ok := d.Integer(n, "max_tool_steps"); ok {
			if v < 1 || v > 100 {
				d.FailGot(n, "max_tool_steps", ErrInvalid, "must be between 1 and 100")
			}
			s.MaxToolSteps = v
		}
	}
	if n := f["tools"]; n != nil && !strictyaml.IsNull(n) {
		s.Tools = l.parseTools(d, n)
		s.ToolsLine = keyLine(d, root, "tools", n)
		l.tools, l.toolNames = s.Tools, s.ToolNames()
		if l.toolNames == nil {
			l.toolNames = []string{}
		}
	}
	if n := f["tool_results"]; n != nil && !strictyaml.IsNull(n) {
		s.ToolResults = l.parseToolResults(d, n, l.toolNames)
	}
	res := l.newResolver(s.Prompt, defaults, checkVars)
	res.promptAt = promptAt
	l.sink = res.add
	if n := f["tests"]; n == nil {
		d.Fail(root, "tests", ErrMissing, "required: a list of test cases or file:// datasets")
	} else {
		l.tests(d, n)
	}
	l.sink = nil
	res.finish()
	if n := f["thresholds"]; n != nil && !strictyaml.IsNull(n) {
		s.Thresholds = thresholds(d, n)
	}
	if n := f["drift"]; n != nil && !strictyaml.IsNull(n) {
		if df, ok := d.Fields(n, "drift", "a mapping", "min_effect"); ok {
			if m := df["min_effect"]; m != nil {
				if v, ok := d.Number(m, "drift.min_effect"); ok {
					if v <= 0 || v >= 1 {
						d.FailGot(m, "drift.min_effect", ErrInvalid, "must be in (0,1)")
					}
					s.MinEffect = &v
				}
			}
		}
	}
	if n := f["judge"]; n != nil && !strictyaml.IsNull(n) {
		s.Judge, _ = d.NonEmpty(n, "judge")
		s.JudgeLine = d.Line(n)
	}
	s.Cases = res.cases
	s.RowNamed = l.rowNamed
	if n := f["calibration"]; n != nil && !strictyaml.IsNull(n) {
		s.Calibration = l.calibration(d, n, s.Prompt, defaults, s.Cases, res.written, checkVars)
		if s.Calibration != nil {
			s.Calibration.Line = keyLine(d, root, "calibration", n)
		}
	}
	if l.p.Len() > 0 {
		return nil
	}
	var err error
	if s.PromptVersion, err = promptVersion(s.Prompt); err == nil {
		s.Version, err = s.version()
	}
	if err == nil && s.Calibration != nil {
		s.Calibration.Hash, err = calibrationHash(s.Calibration)
	}
	if err != nil {
		l.p.Addf(l.file, 0, "", "", ErrInvalid, "%v", err)
		return nil
	}
	return s
}

func thresholds(d *decoder, n *yaml.Node) Thresholds {
	var t Thresholds
	f, ok := d.Fields(n, "thresholds", "a mapping", "pass_rate", "mean_score")
	if !ok {
		return t
	}
	unit := func(k string) *float64 {
		m := f[k]
		if m == nil || strictyaml.IsNull(m) {
			return nil
		}
		v, ok := d.Number(m, "thresholds."+k)
		if !ok {
			return nil
		}
		if v < 0 || v > 1 {
			d.FailGot(m, "thresholds."+k, ErrInvalid, "must be in [0,1]")
		}
		return &v
	}
	t.PassRate = unit("pass_rate")
	t.MeanScore = unit("mean_score")
	return t
}

// messages decodes a prompt: a list of {role, content}, or a file://
// reference to a file holding such a list.
func (l *loader) messages(d *decoder, n *yaml.Node, field string) []Message {
	if dn := strictyaml.Deref(n); dn != nil && dn.Kind == yaml.ScalarNode && dn.ShortTag() == "!!str" {
		ref, ok := fileRef(dn.Value)
		if !ok {
			d.FailGot(n, field, ErrType, "must be a list of {role, content} messages or a file:// reference to one")
			return nil
		}
		name, err := l.src.resolve(d.File, ref)
		if err != nil {
			d.FailGot(n, field, ErrFile, "%v", err)
			return nil
		}
		data, err := l.readYAML(name)
		if err != nil {
			d.Fail(n, field, ErrFile, "cannot read %s: %s", name, readErr(err))
			return nil
		}
		root, pd := l.parseRoot(name, data)
		if root == nil {
			return nil
		}
		if rn := strictyaml.Deref(root); rn.Kind == yaml.ScalarNode {
			pd.FailGot(rn, "", ErrType, "must be a list of {role, content} messages")
			return nil
		}
		return l.messages(pd, root, "")
	}
	l.promptAt = nil
	items, ok := d.List(n, field, "a list of {role, content} messages")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.Fail(n, field, ErrMissing, "needs at least one message")
	}
	msgs := make([]Message, 0, len(items))
	for i, item := range items {
		fi := strictyaml.Index(field, i)
		f, ok := d.Fields(item, fi, "a {role, content} message", "role", "content")
		if !ok {
			continue
		}
		var m Message
		at := promptLoc{file: d.File, field: strictyaml.Key(fi, "content"), line: d.Line(item)}
		if r := f["role"]; r == nil {
			d.Fail(item, strictyaml.Key(fi, "role"), ErrMissing, "required (one of %s)", strings.Join(roles, ", "))
		} else if v, ok := d.Str(r, strictyaml.Key(fi, "role")); ok {
			if !slices.Contains(roles, v) {
				d.FailGot(r, strictyaml.Key(fi, "role"), ErrInvalid, "must be one of %s", strings.Join(roles, ", "))
			}
			m.Role = v
		}
		if c := f["content"]; c == nil {
			d.Fail(item, strictyaml.Key(fi, "content"), ErrMissing, "required")
		} else if v, ok := d.Str(c, strictyaml.Key(fi, "content")); ok {
			m.Content = v
			at.line, at.block = d.Line(c), c.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
			if ref, isRef := fileRef(v); isRef {
				m.Content, ok = l.textFile(d, c, strictyaml.Key(fi, "content"), ref)
				if name, err := l.src.resolve(d.File, ref); err == nil {
					at = promptLoc{file: name, field: at.field, line: 1, text: true}
				}
			}
			if ok && strings.TrimSpace(m.Content) == "" {
				d.Fail(c, strictyaml.Key(fi, "content"), ErrMissing, "must not be empty")
			}
			if bad := badTemplate(m.Content); ok && bad != "" {
				d.Fail(c, strictyaml.Key(fi, "content"), ErrTemplate, onlyNames, bad)
			}
		}
		msgs = append(msgs, m)
		l.promptAt = append(l.promptAt, at)
	}
	return msgs
}

// textFile reads a file:// prompt text. Line endings are normalised to \n
// and trailing newlines dropped, so a checkout on Windows or an editor's
// final newline does not change the prompt version.
func (l *loader) textFile(d *decoder, n *yaml.Node, field, ref string) (string, bool) {
	name, err := l.src.resolve(d.File, ref)
	if err != nil {
		d.FailGot(n, field, ErrFile, "%v", err)
		return "", false
	}
	data, err := l.src.read(name, l.maxBytes)
	if err != nil {
		d.Fail(n, field, ErrFile, "cannot read %s: %s", name, readErr(err))
		return "", false
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	return strings.TrimRight(text, "\n"), true
}

// badTemplate returns the first {{...}} in v's strings that is not a plain
// var name, or "".
func badTemplate(v any) string {
	switch x := v.(type) {
	case string:
		for _, m := range templateExpr.FindAllStringSubmatch(x, -1) {
			if !varName.MatchString(strings.TrimSpace(m[1])) {
				return strictyaml.Clip(m[0])
			}
		}
		if m := templateTag.FindString(x); m != "" {
			return strictyaml.Clip(m)
		}
	case []any:
		for _, e := range x {
			if b := badTemplate(e); b != "" {
				return b
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if b := badTemplate(x[k]); b != "" {
				return b
			}
		}
	}
	return ""
}

const onlyNames = "unsupported template %s: only {{name}} is supported"

// rawAssert is an assertion as written, before templating and compiling.
type rawAssert struct {
	spec  scoring.Spec
	file  string
	line  int
	field string
	// lines holds the line of each key (type, value, threshold, weight).
	lines map[string]int
	// literal assertions are generated from data (an OpenAI-evals ideal)
	// and are not templates.
	literal bool
	// shared marks defaultTest assertions: one definition, many cases.
	shared bool
}

// rawCase is a test case as written.
type rawCase struct {
	id      string
	hasID   bool
	idLine  int
	desc    string
	vars    map[string]any
	asserts []rawAssert
	file    string
	line    int
	// field is the path of the case in its file ("tests[2]"; "" for a JSONL
	// line or a CSV row), varsLine the line of its vars.
	field    string
	varsLine int
	// hint is added to missing-var errors of cases whose vars are implied
	// (a CSV row's columns, an OpenAI sample's input and ideal).
	hint string
	// rowID: id is a CSV row's file and line (no __id column).
	rowID bool
	// idKey is the key that holds the id when it is not "id" (a CSV's __id).
	idKey string
	// noVarsKey: the case's vars are not written under a vars key.
	noVarsKey bool
	// turns are the case's scripted conversation (nil: a one-turn case).
	turns []rawTurn
}

func (c rawCase) source() string { return c.file + ":" + strconv.Itoa(c.line) }

func (l *loader) defaultTest(d *decoder, n *yaml.Node) rawCase {
	c := rawCase{file: d.File, line: d.Line(n), field: "defaultTest"}
	f, ok := d.Fields(n, "defaultTest", "a mapping", "vars", "assert")
	if !ok {
		return c
	}
	if v := f["vars"]; v != nil {
		c.vars = varsOf(d, v, "defaultTest.vars")
	}
	if a := f["assert"]; a != nil {
		c.asserts = asserts(d, a, "defaultTest.assert")
		for i := range c.asserts {
			c.asserts[i].shared = true
		}
	}
	return c
}

// varsOf decodes a vars mapping.
func varsOf(d *decoder, n *yaml.Node, field string) map[string]any {
	if strictyaml.IsNull(n) {
		return nil
	}
	if dn := strictyaml.Deref(n); dn.Kind != yaml.MappingNode {
		d.FailGot(n, field, ErrType, "must be a mapping of var names to values")
		return nil
	}
	v, ok := d.value(n, field)
	if !ok {
		return nil
	}
	m, _ := v.(map[string]any)
	return m
}

// asserts decodes a list of assertions.
func asserts(d *decoder, n *yaml.Node, field string) []rawAssert {
	if strictyaml.IsNull(n) {
		return nil
	}
	items, ok := d.List(n, field, "a list of assertions")
	if !ok {
		return nil
	}
	out := make([]rawAssert, 0, len(items))
	for i, item := range items {
		if a, ok := assertion(d, item, strictyaml.Index(field, i)); ok {
			out = append(out, a)
		}
	}
	return out
}

func assertion(d *decoder, n *yaml.Node, field string) (rawAssert, bool) {
	a := rawAssert{file: d.File, line: d.Line(n), field: field, lines: map[string]int{}, spec: scoring.Spec{Weight: 1}}
	f, ok := d.Fields(n, field, "an assertion {type, value, threshold, weight}", assertKeys...)
	if !ok {
		return a, false
	}
	for k, v := range f {
		a.lines[k] = d.Line(v)
	}
	ok = true
	if t := f["type"]; t == nil {
		d.Fail(n, strictyaml.Key(field, "type"), ErrMissing, "required")
		ok = false
	} else if v, tok := d.NonEmpty(t, strictyaml.Key(field, "type")); tok {
		a.spec.Type = v
	} else {
		ok = false
	}
	if v := f["value"]; v != nil {
		val, vok := d.value(v, strictyaml.Key(field, "value"))
		if vok {
			a.spec.Value = jsonNumbers(val)
			if bad := badTemplate(val); bad != "" {
				d.Fail(v, strictyaml.Key(field, "value"), ErrTemplate, onlyNames, bad)
			}
		}
		ok = ok && vok
	}
	if t := f["threshold"]; t != nil && !strictyaml.IsNull(t) {
		v, tok := d.Number(t, strictyaml.Key(field, "threshold"))
		if tok {
			a.spec.Threshold = &v
		}
		ok = ok && tok
	}
	if w := f["weight"]; w != nil {
		v, wok := d.Number(w, strictyaml.Key(field, "weight"))
		if wok && v < 0 {
			d.FailGot(w, strictyaml.Key(field, "weight"), ErrInvalid, "must be at least 0")
			wok = false
		}
		if wok {
			a.spec.Weight = v
		}
		ok = ok && wok
	}
	return a, ok
}

// jsonNumbers turns the int64s of a decoded value into float64s: scoring
// sees assertion values as encoding/json would decode them.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonNumbers(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonNumbers(e)
		}
		return out
	}
	return v
}

// duration reads a positive duration such as 10m.
func duration(d *decoder, n *yaml.Node, field string) time.Duration {
	if v, ok := d.Str(n, field); ok {
		t, err := time.ParseDuration(v)
		if err == nil && t > 0 {
			return t
		}
		d.FailGot(n, field, ErrInvalid, "must be a positive duration like 30s or 10m")
	}
	return 0
}
