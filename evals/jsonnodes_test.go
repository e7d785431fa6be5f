package evals

import (
	"bytes"
	"testing"

	"gopkg.in/yaml.v3"
)

// sameNodes compares what the loaders read of a node: kind, tag, value and
// children.
func sameNodes(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || len(a.Content) != len(b.Content) {
		return false
	}
	if a.Kind == yaml.ScalarNode && a.Value != b.Value {
		return false
	}
	for i := range a.Content {
		if !sameNodes(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

func yamlNodes(t testing.TB, raw []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil {
		t.Fatalf("yaml of %s: %v", raw, err)
	}
	return doc.Content[0]
}

var jsonLines = []string{
	`{"id": "a", "vars": {"q": "How long?", "n": 3, "f": 1.5, "e": 1e3, "neg": -0, "big": 123456789012345678901234, "ok": true, "no": null}}`,
	`{"input": [{"role": "user", "content": "hi \u00e9 \" \\ \n"}], "ideal": ["x", "y"]}`,
	`{"assert": [{"type": "contains", "value": "<<"}, {"type": "equals", "value": {"<<": 1}}], "vars": {"<<": "m"}}`,
	`[1, 2.0, "3", [], {}]`,
	`"just a string"`,
	`42`,
}

func TestJSONNodesMatchYAML(t *testing.T) {
	for _, l := range jsonLines {
		got, ok := jsonNodes([]byte(l))
		if !ok {
			t.Errorf("jsonNodes(%s) refused it", l)
			continue
		}
		if want := yamlNodes(t, []byte(l)); !sameNodes(got, want) {
			t.Errorf("jsonNodes(%s) differs from the YAML parser's nodes", l)
		}
	}
	for _, bad := range []string{`{"a": 1, "a": 2}`, `{"a": 1} x`, `{"a": }`, `{`, ``} {
		if _, ok := jsonNodes([]byte(bad)); ok {
			t.Errorf("jsonNodes(%q) took it; want the YAML path for its message", bad)
		}
	}
}

func FuzzJSONNodes(f *testing.F) {
	for _, l := range jsonLines {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := jsonNodes(raw)
		if !ok {
			return
		}
		var doc yaml.Node
		if err := yaml.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil || len(doc.Content) != 1 {
			return // YAML is stricter on some inputs (e.g. tabs); those take the YAML path anyway only if JSON fails
		}
		if !sameNodes(got, doc.Content[0]) {
			t.Errorf("jsonNodes(%q) differs from the YAML parser's nodes", raw)
		}
	})
}
