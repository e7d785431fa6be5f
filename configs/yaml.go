package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/evald/evald/evals"
)

// decoder walks the yaml.Nodes of evald.yaml against the schema, recording
// every problem with its line.
type decoder struct {
	file string
	p    *evals.Problems
	// budget bounds the nodes visited, so alias expansion cannot blow up.
	budget    int
	overspent bool
}

func (d *decoder) fail(n *yaml.Node, field string, kind error, format string, args ...any) {
	d.p.Addf(d.file, line(n), field, "", kind, format, args...)
}

// failGot is fail with the offending value appended as "(got ...)".
func (d *decoder) failGot(n *yaml.Node, field string, kind error, format string, args ...any) {
	d.p.Addf(d.file, line(n), field, shown(n), kind, format, args...)
}

func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

func shown(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n == nil:
		return ""
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.ShortTag() == "!!str":
		s := n.Value
		if r := []rune(s); len(r) > 60 {
			s = string(r[:60]) + "..."
		}
		return strconv.Quote(s)
	}
	return n.Value
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func key(field, k string) string {
	if field == "" {
		return k
	}
	return field + "." + k
}

func index(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// parse parses one YAML document; nil when it is empty or broken.
func (d *decoder) parse(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if err == nil {
		var extra yaml.Node
		if err2 := dec.Decode(&extra); err2 == nil {
			d.p.Addf(d.file, extra.Line, "", "", ErrSyntax, "a second YAML document: one file holds one document")
			return nil
		} else if !errors.Is(err2, io.EOF) {
			err = err2
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		d.p.Addf(d.file, 0, "", "", ErrMissing, "empty file")
		return nil
	case err != nil:
		msg, ln := err.Error(), 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			ln, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		d.p.Addf(d.file, ln, "", "", ErrSyntax, "%s", msg)
		return nil
	}
	if len(doc.Content) != 1 {
		d.p.Addf(d.file, 0, "", "", ErrMissing, "empty file")
		return nil
	}
	return doc.Content[0]
}

// fields checks that n is a mapping whose keys are all in known and returns
// the values by key. Merge keys (<<) are followed; explicit keys win.
func (d *decoder) fields(n *yaml.Node, field, what string, known ...string) (map[string]*yaml.Node, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.failGot(n, field, ErrType, "must be %s", what)
		return nil, false
	}
	out := map[string]*yaml.Node{}
	d.collect(n, field, known, out, map[string]int{}, true, 0)
	return out, true
}

func (d *decoder) collect(n *yaml.Node, field string, known []string, out map[string]*yaml.Node, keyLine map[string]int, explicit bool, depth int) {
	if !d.spend(n, field, len(n.Content)+1) {
		return
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, field, ErrType, "keys must be plain names")
			continue
		}
		name := k.Value
		if _, dup := out[name]; dup {
			if explicit {
				d.fail(k, key(field, name), ErrDuplicate, "repeated key (first on line %d)", keyLine[name])
			}
			continue
		}
		if !slices.Contains(known, name) {
			hint := suggest(name, known)
			if slices.Equal(known, targetKeys) && slices.Contains(paramKeys, name) {
				hint = " (sampling parameters go under params)"
			}
			d.p.Addf(d.file, line(k), key(field, name), "", ErrUnknownKey, "unknown key%s", hint)
			continue
		}
		out[name] = v
		if explicit {
			keyLine[name] = line(k)
		}
	}
	for _, m := range merges {
		m = deref(m)
		if depth > 10 || m == nil {
			continue
		}
		ms := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			ms = m.Content
		}
		for _, mm := range ms {
			if mm = deref(mm); mm != nil && mm.Kind == yaml.MappingNode {
				d.collect(mm, field, known, out, keyLine, false, depth+1)
			} else {
				d.failGot(mm, key(field, "<<"), ErrType, "a merge key needs a mapping")
			}
		}
	}
}

// suggest returns " (did you mean x?)" for a near miss, else the known keys.
func suggest(name string, known []string) string {
	best, dist := "", 3
	for _, k := range known {
		if dd := editDistance(strings.ToLower(name), k); dd < dist {
			best, dist = k, dd
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// str reads a scalar as text (a number is accepted as written).
func (d *decoder) str(n *yaml.Node, field string) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.failGot(n, field, ErrType, "must be a string")
		return "", false
	}
	return n.Value, true
}

// required reads a non-empty string that must be present.
func (d *decoder) required(f map[string]*yaml.Node, parent *yaml.Node, field, k string) (string, *yaml.Node, bool) {
	n := f[k]
	if n == nil || isNull(n) {
		if n == nil {
			n = parent
		}
		d.fail(n, key(field, k), ErrMissing, "required")
		return "", n, false
	}
	s, ok := d.str(n, key(field, k))
	if ok && strings.TrimSpace(s) == "" {
		d.fail(n, key(field, k), ErrMissing, "must not be empty")
		return "", n, false
	}
	return s, n, ok
}

func (d *decoder) integer(n *yaml.Node, field string) (int, bool) {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
			return int(f), true
		}
	}
	d.failGot(n, field, ErrType, "must be an integer")
	return 0, false
}

func (d *decoder) number(n *yaml.Node, field string) (float64, bool) {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	}
	d.failGot(n, field, ErrType, "must be a number")
	return 0, false
}

// duration reads a Go duration ("30s", "1h30m") that must be positive.
func (d *decoder) duration(n *yaml.Node, field string) (time.Duration, bool) {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if v, err := time.ParseDuration(n.Value); err == nil {
			if v <= 0 {
				d.failGot(n, field, ErrInvalid, "must be positive")
				return 0, false
			}
			return v, true
		}
	}
	d.failGot(n, field, ErrInvalid, "must be a duration like 30s or 2m")
	return 0, false
}

func (d *decoder) list(n *yaml.Node, field, what string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.failGot(n, field, ErrType, "must be %s", what)
		return nil, false
	}
	return n.Content, true
}

var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// env reads the name of an environment variable (never its value).
func (d *decoder) env(n *yaml.Node, field string) string {
	s, ok := d.str(n, field)
	if !ok {
		return ""
	}
	if !envName.MatchString(s) {
		d.failGot(n, field, ErrInvalid, "must name an environment variable, like OPENAI_API_KEY (the value stays in the environment)")
	}
	return s
}

// value converts a node to plain Go values as encoding/json would decode
// them: string, bool, nil, float64, []any and map[string]any.
func (d *decoder) value(n *yaml.Node, field string, depth int) (any, bool) {
	n = deref(n)
	if !d.spend(n, field, 1) {
		return nil, false
	}
	if depth > 100 {
		d.fail(n, field, ErrInvalid, "nested too deeply")
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
			v, vok := d.value(c, index(field, i), depth+1)
			ok = ok && vok
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := deref(n.Content[i])
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				d.fail(k, field, ErrType, "keys must be plain names")
				ok = false
				continue
			}
			if _, dup := out[k.Value]; dup {
				d.fail(k, key(field, k.Value), ErrDuplicate, "repeated key")
				ok = false
				continue
			}
			v, vok := d.value(n.Content[i+1], key(field, k.Value), depth+1)
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
			f, ok := d.number(n, field)
			return f, ok
		}
		return n.Value, true
	}
	d.fail(n, field, ErrType, "unsupported YAML node")
	return nil, false
}

// spend takes n nodes from the budget; past it, the document is refused
// once (aliases can make a small file expand without bound).
func (d *decoder) spend(at *yaml.Node, field string, n int) bool {
	d.budget -= n
	if d.budget >= 0 {
		return true
	}
	if !d.overspent {
		d.overspent = true
		d.fail(at, field, ErrInvalid, "document too large once its aliases are expanded")
	}
	return false
}
