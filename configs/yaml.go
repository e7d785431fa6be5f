package configs

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/evald/evald/evals"
	"github.com/evald/evald/internal/strictyaml"
)

// decoder walks the yaml.Nodes of evald.yaml against the schema, recording
// every problem with its line (see strictyaml). What is particular to the
// config is here: durations, environment variable names, required strings
// and the JSON values of response_format and tools.
type decoder struct {
	*strictyaml.Decoder
	// envLines records where each environment variable is named, for the
	// problems of unset variables (Config.Unset).
	envLines map[string]int
}

func newDecoder(file string, p *evals.Problems) *decoder {
	d := strictyaml.New(file, p)
	d.Show = shown
	d.Hint = hint
	return &decoder{Decoder: d, envLines: map[string]int{}}
}

// shown is strictyaml.Shown except that scalars other than strings show as
// written and in full (a null as null, ~ or nothing).
func shown(n *yaml.Node) string {
	n = strictyaml.Deref(n)
	if n != nil && n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode && n.ShortTag() != "!!str" {
		return n.Value
	}
	return strictyaml.Shown(n)
}

// hint points a sampling parameter set on a target to params.
func hint(name string, known []string) string {
	if slices.Equal(known, targetKeys) && slices.Contains(paramKeys, name) {
		return " (sampling parameters go under params)"
	}
	return strictyaml.Suggest(name, known)
}

// required reads a non-empty string that must be present.
func (d *decoder) required(f map[string]*yaml.Node, parent *yaml.Node, field, k string) (string, *yaml.Node, bool) {
	n := f[k]
	if n == nil || strictyaml.IsNull(n) {
		if n == nil {
			n = parent
		}
		d.Fail(n, strictyaml.Key(field, k), ErrMissing, "required")
		return "", n, false
	}
	s, ok := d.NonEmpty(n, strictyaml.Key(field, k))
	return s, n, ok
}

// duration reads a Go duration ("30s", "1h30m") that must be positive.
func (d *decoder) duration(n *yaml.Node, field string) (time.Duration, bool) {
	n = strictyaml.Deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if v, err := time.ParseDuration(n.Value); err == nil {
			if v <= 0 {
				d.FailGot(n, field, ErrInvalid, "must be positive")
				return 0, false
			}
			return v, true
		}
	}
	d.FailGot(n, field, ErrInvalid, "must be a duration like 30s or 2m")
	return 0, false
}

// days reads a positive duration that may count days ("90d", "36h").
func (d *decoder) days(n *yaml.Node, field string) (time.Duration, bool) {
	n = strictyaml.Deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		v, err := time.ParseDuration(n.Value)
		if num, ok := strings.CutSuffix(n.Value, "d"); ok {
			var days uint64
			days, err = strconv.ParseUint(num, 10, 16)
			v = time.Duration(days) * 24 * time.Hour
		}
		if err == nil {
			if v <= 0 {
				d.FailGot(n, field, ErrInvalid, "must be positive")
				return 0, false
			}
			return v, true
		}
	}
	d.FailGot(n, field, ErrInvalid, "must be a number of days like 90d, or a duration like 36h")
	return 0, false
}

var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// env reads the name of an environment variable (never its value).
func (d *decoder) env(n *yaml.Node, field string) string {
	s, ok := d.Str(n, field)
	if !ok {
		return ""
	}
	d.envLines[field] = d.Line(strictyaml.Deref(n))
	if envName.MatchString(s) {
		return s
	}
	// The value is never echoed: what was written here instead of a name
	// is often the secret itself.
	if name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "$"), "{"), "}"); strings.HasPrefix(s, "$") && envName.MatchString(name) {
		d.Fail(n, field, ErrInvalid, "must name an environment variable without the $: %s", name)
	} else {
		d.Fail(n, field, ErrInvalid, "must name an environment variable (letters, digits and _), like OPENAI_API_KEY, not hold a value: the value stays in the environment")
	}
	return s
}

// value converts a node to plain Go values as encoding/json would decode
// them: string, bool, nil, float64, []any and map[string]any. Unlike the
// rest of the file it takes no merge keys, and it refuses nesting deeper
// than 100.
func (d *decoder) value(n *yaml.Node, field string, depth int) (any, bool) {
	n = strictyaml.Deref(n)
	if !d.Spend(n, field, 1) {
		return nil, false
	}
	if depth > 100 {
		d.Fail(n, field, ErrInvalid, "nested too deeply")
		return nil, false
	}
	if n == nil {
		return nil, true
	}
	switch n.Kind {
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for i, c := range n.Content {
			v, vok := d.value(c, strictyaml.Index(field, i), depth+1)
			ok = ok && vok
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := strictyaml.Deref(n.Content[i])
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				d.Fail(k, field, ErrType, "keys must be plain names")
				ok = false
				continue
			}
			if _, dup := out[k.Value]; dup {
				d.Fail(k, strictyaml.Key(field, k.Value), ErrDuplicate, "repeated key")
				ok = false
				continue
			}
			v, vok := d.value(n.Content[i+1], strictyaml.Key(field, k.Value), depth+1)
			ok = ok && vok
			out[k.Value] = v
		}
		return out, ok
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			err := n.Decode(&b)
			return b, err == nil
		case "!!int", "!!float":
			f, ok := d.Number(n, field)
			return f, ok
		}
		return n.Value, true
	}
	d.Fail(n, field, ErrType, "unsupported YAML node")
	return nil, false
}
