package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/safefile"
	"github.com/evald/evald/internal/strictyaml"
)

// Project is a config with its suites and its sign-off record loaded.
type Project struct {
	Config *Config
	// Suites are aligned with Config.Suites: Suites[i] is the suite of
	// Config.Suites[i] (a file named twice is loaded once and shared).
	Suites []*evals.Suite
	// Record is the sign-off record (governance.RecordFile in the config's
	// folder), empty when the file does not exist; nil in a project built
	// by hand, which has no sign-offs.
	Record *governance.Record
	// RecordFile is the record's path ("" when the project has no folder:
	// its sign-offs are kept in memory only).
	RecordFile string
}

// Load reads the config at path and every suite it names, and reports the
// problems of all files at once (an errors.Join of *FieldError).
func Load(path string) (*Project, error) {
	return loadProject(osFiles{}, path)
}

// ParseProject is Load on an fs.FS (name is a slash path inside it).
func ParseProject(fsys fs.FS, name string) (*Project, error) {
	return loadProject(fsFiles{fsys}, name)
}

func loadProject(src source, name string) (*Project, error) {
	var p evals.Problems
	cfg := parseConfig(src, name, &p)
	var targets []string
	for _, t := range cfg.Targets {
		targets = append(targets, t.Name)
	}
	var errs []error
	proj := &Project{Config: cfg, Suites: make([]*evals.Suite, len(cfg.Suites))}
	loaded := map[string]*evals.Suite{}
	failed := map[string]bool{}
	for i, ref := range cfg.Suites {
		if ref.File == "" || failed[ref.File] {
			continue
		}
		if s, ok := loaded[ref.File]; ok {
			proj.Suites[i] = s
			continue
		}
		if _, err := src.read(ref.File, evals.MaxYAMLBytes); err != nil && !errors.Is(err, safefile.ErrTooLarge) {
			p.Addf(name, ref.Line, strictyaml.Index("suites", i)+".file", "", ErrFile, "cannot read %s: %s", ref.File, readErr(err))
			failed[ref.File] = true
			continue
		}
		s, err := src.loadSuite(ref.File, ref.MaxFileBytes)
		if err != nil {
			errs = append(errs, err)
			failed[ref.File] = true
			continue
		}
		loaded[ref.File] = s
		proj.Suites[i] = s
		if s.Judge != "" && !slices.Contains(targets, s.Judge) {
			errs = append(errs, &FieldError{File: s.File, Line: s.JudgeLine, Field: "judge",
				Err: evals.Because(ErrInvalid, "unknown target %q (targets in %s: %s)", s.Judge, name, strings.Join(targets, ", "))})
		}
		if s.Judge == "" && cfg.Judge == "" {
			if c, typ, ok := s.FirstGraded(); ok {
				file, line := sourceLine(c.Source, s.File)
				errs = append(errs, &FieldError{File: file, Line: line, Field: "assert",
					Err: evals.Because(ErrMissing, "%s (case %s) needs a judge: set judge: to a target in the suite or in %s", typ, c.ID, name)})
			} else if s.Calibration != nil {
				errs = append(errs, &FieldError{File: s.File, Line: s.Calibration.Line, Field: "calibration",
					Err: evals.Because(ErrMissing, "grading the calibration items needs a judge: set judge: to a target in the suite or in %s", name)})
			}
		}
	}
	checkSuiteNames(&p, name, cfg, proj.Suites)
	if rp, err := src.resolve(name, governance.RecordFile); err == nil {
		proj.RecordFile = rp
		rec, err := readRecord(src, rp)
		if err != nil {
			errs = append(errs, err)
		}
		proj.Record = rec
	}
	if err := errors.Join(append([]error{p.Err()}, errs...)...); err != nil {
		return nil, err
	}
	return proj, nil
}

// readRecord reads and verifies the sign-off record at path; a missing
// file is an empty record.
func readRecord(src source, path string) (*governance.Record, error) {
	b, err := src.read(path, governance.MaxRecordBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return &governance.Record{File: path}, nil
	}
	if err != nil {
		return nil, &governance.RecordError{File: path, Err: fmt.Errorf("cannot read: %s", readErr(err))}
	}
	return governance.ParseRecord(b, path)
}

// checkSuiteNames refuses two files with one suite name, and a suite
// scheduled twice on one target.
func checkSuiteNames(p *evals.Problems, name string, cfg *Config, suites []*evals.Suite) {
	type owner struct {
		file string
		i    int
	}
	byName := map[string]owner{}
	onTarget := map[[2]string]int{}
	for i, s := range suites {
		if s == nil {
			continue
		}
		ref := cfg.Suites[i]
		field := strictyaml.Index("suites", i)
		if o, seen := byName[s.Name]; seen && o.file != s.File {
			p.Addf(name, ref.Line, field+".file", "", ErrDuplicate, "suite name %q is also the name of %s (suites[%d]): suite names must be unique", s.Name, o.file, o.i)
			continue
		} else if !seen {
			byName[s.Name] = owner{s.File, i}
		}
		for _, t := range ref.Targets {
			k := [2]string{s.Name, t}
			if j, dup := onTarget[k]; dup {
				p.Addf(name, ref.Line, field+".targets", "", ErrDuplicate, "suite %q already runs on target %q (suites[%d])", s.Name, t, j)
				continue
			}
			onTarget[k] = i
		}
	}
}

// Version is the sha256 (hex) of what changes the target's behaviour on our
// side: the base URL (without trailing slashes), the model and the sampling
// parameters (temperature, top_p, max_tokens, seed, response_format,
// tools), and the embedding model when one is set. The API key and its variable, the concurrency, rate, timeout,
// retries and price are not part of it.
func (t Target) Version() string {
	v := map[string]any{
		"base_url":        strings.TrimRight(t.BaseURL, "/"),
		"model":           t.Model,
		"temperature":     nil,
		"top_p":           nil,
		"max_tokens":      nil,
		"seed":            nil,
		"response_format": t.Params.ResponseFormat,
		"tools":           t.Params.Tools,
	}
	if p := t.Params.Temperature; p != nil {
		v["temperature"] = *p
	}
	if p := t.Params.TopP; p != nil {
		v["top_p"] = *p
	}
	if p := t.Params.MaxTokens; p != nil {
		v["max_tokens"] = *p
	}
	if p := t.Params.Seed; p != nil {
		v["seed"] = *p
	}
	// Only when set, so that the versions of targets without it stay.
	if t.EmbeddingModel != "" {
		v["embedding_model"] = t.EmbeddingModel
	}
	// The platform is part of the identity: the same model on Azure is
	// another target version. OpenAI-compatible targets keep theirs.
	if t.Provider != "" && t.Provider != ProviderOpenAI {
		v["provider"], v["deployment"], v["api_version"] = t.Provider, t.Deployment, t.APIVersion
	}
	b, err := evals.CanonicalJSON(v)
	if err != nil {
		// Only a hand-built Target with an unencodable value gets here;
		// loaded configs hold plain JSON values.
		b = []byte(err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// sourceLine splits a case's Source ("suites/faq.yaml:14") into its file
// and line, falling back on the suite file.
func sourceLine(source, file string) (string, int) {
	i := strings.LastIndexByte(source, ':')
	if i < 0 {
		return file, 0
	}
	line, err := strconv.Atoi(source[i+1:])
	if err != nil {
		return file, 0
	}
	return source[:i], line
}

// SignoffDecision is how suite's files stand against its latest entry in
// the project's record, as evald run judges them (no entry: Unsigned).
func (p *Project) SignoffDecision(suite *evals.Suite) governance.Decision {
	var signed *governance.Set
	if e := p.Record.Latest(suite.Name); e != nil {
		signed = &e.Set
	}
	return governance.Decide(signed, p.GovernedSet(suite))
}

// GovernedSet returns the governed set of suite as its files state it,
// with its judge: the suite's `judge:`, else the config's, with that
// target's model. A nil project gives no judge.
func (p *Project) GovernedSet(suite *evals.Suite) governance.Set {
	var judge *governance.JudgeRef
	name := suite.Judge
	if name == "" && p != nil && p.Config != nil {
		name = p.Config.Judge
	}
	if name != "" {
		judge = &governance.JudgeRef{Target: name}
		if p != nil && p.Config != nil {
			for _, t := range p.Config.Targets {
				if t.Name == name {
					judge.Model = t.Model
				}
			}
		}
	}
	return governance.FromSuite(suite, judge)
}
