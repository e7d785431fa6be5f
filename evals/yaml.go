package evals

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

	"gopkg.in/yaml.v3"
)

// decoder walks yaml.Nodes of one file, checking them against the schema
// and recording every problem with its line.
type decoder struct {
	file string
	p    *Problems
	// lineOffset is added to node lines: a JSONL line is parsed on its own
	// and its nodes all sit on line 1.
	lineOffset int
	// budget bounds the nodes visited, so alias expansion cannot blow up.
	budget    int
	overspent bool
}

const nodeBudget = 1 << 20

func newDecoder(file string, p *Problems) *decoder {
	return &decoder{file: file, p: p, budget: nodeBudget}
}

func (d *decoder) line(n *yaml.Node) int {
	if n == nil || n.Line == 0 {
		return 0
	}
	return n.Line + d.lineOffset
}

func (d *decoder) fail(n *yaml.Node, field string, kind error, format string, args ...any) {
	d.p.Addf(d.file, d.line(n), field, "", kind, format, args...)
}

// failGot is fail with the offending value appended as "(got ...)".
func (d *decoder) failGot(n *yaml.Node, field string, kind error, format string, args ...any) {
	d.p.Addf(d.file, d.line(n), field, shown(n), kind, format, args...)
}

// shown renders a node's value for "(got ...)": scalars as written (strings
// quoted), collections by kind.
func shown(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return ""
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!str":
		return strconv.Quote(clip(n.Value))
	case "!!null":
		return "null"
	}
	return clip(n.Value)
}

func clip(s string) string {
	const max = 60
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "..."
	}
	return s
}

// parseYAML parses one YAML document into its root node. An empty document
// yields nil. Syntax errors are recorded with their line.
func (d *decoder) parseYAML(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		d.syntax(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			d.syntax(err)
			return nil
		}
		d.p.Addf(d.file, line+d.lineOffset, "", "", ErrSyntax, "a second YAML document: one file holds one document")
		return nil
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return nil
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// syntax records a yaml.v3 error, moving its "line N" into the position.
func (d *decoder) syntax(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	if line > 0 {
		line += d.lineOffset
	}
	d.p.Addf(d.file, line, "", "", ErrSyntax, "%s", msg)
}

// deref follows aliases.
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

// key joins a field path and a key.
func key(field, k string) string {
	if field == "" {
		return k
	}
	return field + "." + k
}

func index(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

// fields checks that n is a mapping with string keys drawn from known, and
// returns its values by key. Unknown and repeated keys are recorded; merge
// keys (<<) are followed. ok is false when n is not a mapping.
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

// collect gathers a mapping's keys into out: explicit keys first, then the
// keys of merged mappings (<<) that are not set yet, as YAML specifies.
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
			d.p.Addf(d.file, d.line(k), key(field, name), "", ErrUnknownKey, "unknown key%s", suggest(name, known))
			continue
		}
		out[name] = v
		if explicit {
			keyLine[name] = d.line(k)
		}
	}
	for _, m := range merges {
		m = deref(m)
		if depth > 10 || m == nil {
			continue
		}
		switch m.Kind {
		case yaml.MappingNode:
			d.collect(m, field, known, out, keyLine, false, depth+1)
		case yaml.SequenceNode:
			for _, mm := range m.Content {
				if mm = deref(mm); mm != nil && mm.Kind == yaml.MappingNode {
					d.collect(mm, field, known, out, keyLine, false, depth+1)
				}
			}
		default:
			d.failGot(m, key(field, "<<"), ErrType, "a merge key needs a mapping")
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

// str reads a scalar as text. Numbers and booleans are accepted as written
// (an id of 42 is the id "42"); null, lists and mappings are not.
func (d *decoder) str(n *yaml.Node, field string) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.failGot(n, field, ErrType, "must be a string")
		return "", false
	}
	return n.Value, true
}

// nonEmpty is str that also refuses an empty (or blank) string.
func (d *decoder) nonEmpty(n *yaml.Node, field string) (string, bool) {
	s, ok := d.str(n, field)
	if ok && strings.TrimSpace(s) == "" {
		d.fail(n, field, ErrMissing, "must not be empty")
		return "", false
	}
	return s, ok
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

// list reads a sequence.
func (d *decoder) list(n *yaml.Node, field, what string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.failGot(n, field, ErrType, "must be %s", what)
		return nil, false
	}
	return n.Content, true
}

// value converts any node to plain Go values: string, bool, nil, int64,
// float64, []any and map[string]any (the forms CanonicalJSON and scoring
// expect). Timestamps and binary stay strings as written.
func (d *decoder) value(n *yaml.Node, field string) (any, bool) {
	if !d.spend(n, field, 1) {
		return nil, false
	}
	n = deref(n)
	if n == nil {
		return nil, true
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return d.scalar(n, field)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for i, c := range n.Content {
			v, vok := d.value(c, index(field, i))
			ok = ok && vok
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		out := map[string]any{}
		ok := d.mapInto(n, field, out, true, 0)
		return out, ok
	}
	d.fail(n, field, ErrType, "unsupported YAML node")
	return nil, false
}

func (d *decoder) mapInto(n *yaml.Node, field string, out map[string]any, explicit bool, depth int) bool {
	ok := true
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, field, ErrType, "keys must be plain names")
			ok = false
			continue
		}
		name := k.Value
		if _, dup := out[name]; dup {
			if explicit {
				d.fail(k, key(field, name), ErrDuplicate, "repeated key")
				ok = false
			}
			continue
		}
		val, vok := d.value(v, key(field, name))
		ok = ok && vok
		out[name] = val
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
				ok = d.mapInto(mm, field, out, false, depth+1) && ok
			} else {
				d.failGot(mm, key(field, "<<"), ErrType, "a merge key needs a mapping")
				ok = false
			}
		}
	}
	return ok
}

func (d *decoder) scalar(n *yaml.Node, field string) (any, bool) {
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			d.failGot(n, field, ErrInvalid, "not a boolean")
			return nil, false
		}
		return b, true
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, true
		}
		var f float64
		if err := n.Decode(&f); err == nil {
			return normNumber(f), true
		}
		d.failGot(n, field, ErrInvalid, "not a number")
		return nil, false
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.failGot(n, field, ErrInvalid, "must be a finite number")
			return nil, false
		}
		return normNumber(f), true
	}
	return n.Value, true
}

// normNumber stores integral floats as int64, so 1 and 1.0 are one value.
func normNumber(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return int64(f)
	}
	return f
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
