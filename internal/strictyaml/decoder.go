package strictyaml

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultBudget is the node budget New gives a Decoder.
const DefaultBudget = 1 << 20

// Decoder walks the yaml.Nodes of one file, checking them against the
// caller's schema and recording every problem with its line in Problems.
// The fields after Budget adjust details of the messages; their zero values
// are the plain behaviour.
type Decoder struct {
	// File names the file in every problem.
	File string
	// Problems receives the problems.
	Problems *Problems
	// LineOffset is added to node lines: a JSONL line is parsed on its own
	// and its nodes all sit on line 1.
	LineOffset int
	// Budget bounds the nodes visited, so alias expansion cannot blow up
	// (see Spend).
	Budget    int
	overspent bool
	spent     int
	// aliases is set when a parsed document holds an alias: the reason a
	// spent budget is given.
	aliases bool

	// Show renders the offending value of FailGot; nil means Shown.
	Show func(n *yaml.Node) string
	// Hint is the text after "unknown key" for an unknown key name; nil
	// means Suggest.
	Hint func(name string, known []string) string
	// LenientMergeLists makes Fields skip the entries of a merge list
	// (<<: [*a, *b]) that are not mappings instead of reporting them.
	LenientMergeLists bool
}

// New returns a Decoder for file with the default budget.
func New(file string, p *Problems) *Decoder {
	return &Decoder{File: file, Problems: p, Budget: DefaultBudget}
}

// Line is n's line in the file (0 when unknown).
func (d *Decoder) Line(n *yaml.Node) int {
	if n == nil || n.Line == 0 {
		return 0
	}
	return n.Line + d.LineOffset
}

// Fail records a problem at n.
func (d *Decoder) Fail(n *yaml.Node, field string, kind error, format string, args ...any) {
	d.Problems.Addf(d.File, d.Line(n), field, "", kind, format, args...)
}

// FailGot is Fail with the offending value appended as "(got ...)".
func (d *Decoder) FailGot(n *yaml.Node, field string, kind error, format string, args ...any) {
	show := d.Show
	if show == nil {
		show = Shown
	}
	d.Problems.Addf(d.File, d.Line(n), field, show(n), kind, format, args...)
}

// Parse parses one YAML document into its root node. It returns nil when
// the document is empty (recording nothing) or broken (recording a syntax
// error with its line); a second document is an error too.
func (d *Decoder) Parse(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		d.syntax(data, err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			d.syntax(data, err)
			return nil
		}
		d.Problems.Addf(d.File, line+d.LineOffset, "", "", ErrSyntax, "a second YAML document: one file holds one document")
		return nil
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		d.aliases = d.aliases || hasAlias(doc.Content[0])
		return doc.Content[0]
	}
	return nil
}

// Document is Parse for a whole file: an empty one is recorded as
// "empty file" (ErrMissing).
func (d *Decoder) Document(data []byte) *yaml.Node {
	before := d.Problems.Len()
	root := d.Parse(data)
	if root == nil && d.Problems.Len() == before {
		d.Problems.Addf(d.File, 0, "", "", ErrMissing, "empty file")
	}
	return root
}

// Fields checks that n is a mapping with string keys drawn from known, and
// returns its values by key. Unknown and repeated keys are recorded; merge
// keys (<<) are followed, explicit keys winning. ok is false when n is not
// a mapping (what names what it must be instead).
func (d *Decoder) Fields(n *yaml.Node, field, what string, known ...string) (map[string]*yaml.Node, bool) {
	n = Deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.FailGot(n, field, ErrType, "must be %s", what)
		return nil, false
	}
	out := map[string]*yaml.Node{}
	d.collect(n, field, known, out, map[string]int{}, true, 0)
	return out, true
}

// collect gathers a mapping's keys into out: explicit keys first, then the
// keys of merged mappings (<<) that are not set yet, as YAML specifies.
func (d *Decoder) collect(n *yaml.Node, field string, known []string, out map[string]*yaml.Node, keyLine map[string]int, explicit bool, depth int) {
	if !d.Spend(n, field, len(n.Content)+1) {
		return
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Deref(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.Fail(k, field, ErrType, "keys must be plain names")
			continue
		}
		name := k.Value
		if _, dup := out[name]; dup {
			if explicit {
				d.Fail(k, Key(field, name), ErrDuplicate, "repeated key (first on line %d)", keyLine[name])
			}
			continue
		}
		if !slices.Contains(known, name) {
			hint := d.Hint
			if hint == nil {
				hint = Suggest
			}
			d.Problems.Addf(d.File, d.Line(k), Key(field, name), "", ErrUnknownKey, "unknown key%s", hint(name, known))
			continue
		}
		out[name] = v
		if explicit {
			keyLine[name] = d.Line(k)
		}
	}
	d.Merge(merges, field, depth, d.LenientMergeLists, func(m *yaml.Node) {
		d.collect(m, field, known, out, keyLine, false, depth+1)
	})
}

// Merge calls visit, in order, on the mappings that the values of a
// mapping's merge keys (<<) name: a mapping, or each mapping of a list of
// them. Anything else is reported, but in a list only when not lenient; it
// returns false when it reported something. Past depth 10 (merges within
// merges) it does nothing.
func (d *Decoder) Merge(merges []*yaml.Node, field string, depth int, lenient bool, visit func(m *yaml.Node)) bool {
	ok := true
	for _, m := range merges {
		m = Deref(m)
		if depth > 10 || m == nil {
			continue
		}
		ms := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			ms = m.Content
		}
		for _, mm := range ms {
			if mm = Deref(mm); mm != nil && mm.Kind == yaml.MappingNode {
				visit(mm)
			} else if m.Kind != yaml.SequenceNode || !lenient {
				d.FailGot(mm, Key(field, "<<"), ErrType, "a merge key needs a mapping")
				ok = false
			}
		}
	}
	return ok
}

// Str reads a scalar as text. Numbers and booleans are accepted as written
// (an id of 42 is the id "42"); null, lists and mappings are not.
func (d *Decoder) Str(n *yaml.Node, field string) (string, bool) {
	n = Deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.FailGot(n, field, ErrType, "must be a string")
		return "", false
	}
	return n.Value, true
}

// NonEmpty is Str that also refuses an empty (or blank) string.
func (d *Decoder) NonEmpty(n *yaml.Node, field string) (string, bool) {
	s, ok := d.Str(n, field)
	if ok && strings.TrimSpace(s) == "" {
		d.Fail(n, field, ErrMissing, "must not be empty")
		return "", false
	}
	return s, ok
}

// Integer reads a whole number (1.0 included) of at most 2^53.
func (d *Decoder) Integer(n *yaml.Node, field string) (int, bool) {
	n = Deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
			return int(f), true
		}
	}
	d.FailGot(n, field, ErrType, "must be an integer")
	return 0, false
}

// Bool reads true or false.
func (d *Decoder) Bool(n *yaml.Node, field string) (bool, bool) {
	n = Deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	d.FailGot(n, field, ErrType, "must be true or false")
	return false, false
}

// Number reads a finite number.
func (d *Decoder) Number(n *yaml.Node, field string) (float64, bool) {
	n = Deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	}
	d.FailGot(n, field, ErrType, "must be a number")
	return 0, false
}

// List reads a sequence (what names what it must be otherwise).
func (d *Decoder) List(n *yaml.Node, field, what string) ([]*yaml.Node, bool) {
	n = Deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.FailGot(n, field, ErrType, "must be %s", what)
		return nil, false
	}
	return n.Content, true
}

// Spend takes n nodes from the budget; past it, the document is refused
// once (aliases can make a small file expand without bound).
func (d *Decoder) Spend(at *yaml.Node, field string, n int) bool {
	d.Budget -= n
	d.spent += n
	if d.Budget >= 0 {
		return true
	}
	if !d.overspent {
		d.overspent = true
		limit := d.Budget + d.spent
		if d.aliases {
			d.Fail(at, field, ErrInvalid, "document too large once its aliases are expanded (more than %d values to read)", limit)
		} else {
			d.Fail(at, field, ErrInvalid, "document too large: more than %d values to read; keep large case lists in a JSONL or CSV dataset, read as a stream", limit)
		}
	}
	return false
}

// hasAlias reports whether the tree under n (aliases not followed) holds
// an alias.
func hasAlias(n *yaml.Node) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.AliasNode {
		return true
	}
	return slices.ContainsFunc(n.Content, hasAlias)
}
