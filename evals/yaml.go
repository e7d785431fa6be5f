package evals

import (
	"math"

	"gopkg.in/yaml.v3"

	"github.com/evald/evald/internal/strictyaml"
)

// decoder walks yaml.Nodes of one file, checking them against the schema
// and recording every problem with its line (see strictyaml). What is
// particular to suites is here: the plain values of vars and assertion
// values.
type decoder struct {
	*strictyaml.Decoder
}

func newDecoder(file string, p *Problems) *decoder {
	d := strictyaml.New(file, p)
	// A non-mapping entry of a merge list is passed over in suite files.
	d.LenientMergeLists = true
	return &decoder{d}
}

// value converts any node to plain Go values: string, bool, nil, int64,
// float64, []any and map[string]any (the forms CanonicalJSON and scoring
// expect). Timestamps and binary stay strings as written.
func (d *decoder) value(n *yaml.Node, field string) (any, bool) {
	if !d.Spend(n, field, 1) {
		return nil, false
	}
	n = strictyaml.Deref(n)
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
			v, vok := d.value(c, strictyaml.Index(field, i))
			ok = ok && vok
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		out := map[string]any{}
		ok := d.mapInto(n, field, out, true, 0)
		return out, ok
	}
	d.Fail(n, field, ErrType, "unsupported YAML node")
	return nil, false
}

// mapInto converts a mapping's values into out, explicit keys first, then
// those of merged mappings (<<) that are not set yet.
func (d *decoder) mapInto(n *yaml.Node, field string, out map[string]any, explicit bool, depth int) bool {
	ok := true
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := strictyaml.Deref(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.Fail(k, field, ErrType, "keys must be plain names")
			ok = false
			continue
		}
		name := k.Value
		if _, dup := out[name]; dup {
			if explicit {
				d.Fail(k, strictyaml.Key(field, name), ErrDuplicate, "repeated key")
				ok = false
			}
			continue
		}
		val, vok := d.value(v, strictyaml.Key(field, name))
		ok = ok && vok
		out[name] = val
	}
	// Unlike the keys of suite settings, a merge list here takes mappings only.
	merged := d.Merge(merges, field, depth, false, func(m *yaml.Node) {
		ok = d.mapInto(m, field, out, false, depth+1) && ok
	})
	return ok && merged
}

func (d *decoder) scalar(n *yaml.Node, field string) (any, bool) {
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			d.FailGot(n, field, ErrInvalid, "not a boolean")
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
		d.FailGot(n, field, ErrInvalid, "not a number")
		return nil, false
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.FailGot(n, field, ErrInvalid, "must be a finite number")
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
