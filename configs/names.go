package configs

import (
	"errors"
	"fmt"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/strictyaml"
)

// ErrUnknownName is wrapped by a NameError: a suite or target the config
// lacks.
var ErrUnknownName = errors.New("unknown name")

// NameError is a suite or target name the config lacks, with the names it
// has: it prints as `no suite named "fqa" in evald.yaml (did you mean
// faq?)`. Every command and the API resolve names through Project.Suite
// and Project.Target, so a typo reads the same everywhere.
type NameError struct {
	Kind  string // "suite" or "target"
	Name  string
	File  string // the config ("" for a project built by hand)
	Known []string
}

func (e *NameError) Error() string {
	in := e.File
	if in == "" {
		in = "the configuration"
	}
	hint := ""
	if len(e.Known) > 0 {
		hint = strictyaml.Suggest(e.Name, e.Known)
	}
	return fmt.Sprintf("no %s named %q in %s%s", e.Kind, e.Name, in, hint)
}

// Is makes a NameError match ErrUnknownName.
func (e *NameError) Is(target error) bool { return target == ErrUnknownName }

// UnknownName returns the NameError of name among known, for names that
// are checked against more than the config (the store's suites, say).
func UnknownName(kind, name, file string, known []string) error {
	return &NameError{Kind: kind, Name: name, File: file, Known: known}
}

// SuiteNames are the names of the config's suites, in config order.
func (p *Project) SuiteNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, s := range p.Suites {
		if s != nil && !seen[s.Name] {
			seen[s.Name] = true
			names = append(names, s.Name)
		}
	}
	return names
}

// TargetNames are the names of the config's targets, in config order.
func (p *Project) TargetNames() []string {
	names := make([]string, len(p.Config.Targets))
	for i, t := range p.Config.Targets {
		names[i] = t.Name
	}
	return names
}

// Suite returns the suite called name, or a *NameError with a did-you-mean.
func (p *Project) Suite(name string) (*evals.Suite, error) {
	for _, s := range p.Suites {
		if s != nil && s.Name == name {
			return s, nil
		}
	}
	return nil, UnknownName("suite", name, p.Config.File, p.SuiteNames())
}

// Target returns the target called name, or a *NameError with a
// did-you-mean.
func (p *Project) Target(name string) (Target, error) {
	for _, t := range p.Config.Targets {
		if t.Name == name {
			return t, nil
		}
	}
	return Target{}, UnknownName("target", name, p.Config.File, p.TargetNames())
}
