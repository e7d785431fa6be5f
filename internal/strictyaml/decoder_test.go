package strictyaml

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// decode parses src with a fresh Decoder (adjusted by opts), runs check on
// the root and returns the problems, one a line.
func decode(t *testing.T, src string, check func(d *Decoder, root *yaml.Node), opts ...func(*Decoder)) string {
	t.Helper()
	var p Problems
	d := New("f.yaml", &p)
	for _, o := range opts {
		o(d)
	}
	if root := d.Document([]byte(src)); root != nil && check != nil {
		check(d, root)
	}
	if err := p.Err(); err != nil {
		return err.Error()
	}
	return ""
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "", "f.yaml: empty file"},
		{"comment only", "# nothing\n", "f.yaml: empty file"},
		{"two documents", "a: 1\n---\nb: 2\n", "f.yaml:2: a second YAML document: one file holds one document"},
		{"syntax", "a: [1\n", "f.yaml:1: a [ list without its closing ] or a comma (yaml: did not find expected ',' or ']')"},
		{"syntax in second document", "a: 1\n---\nb: [\n", "f.yaml:3: a value is missing, or a bracket is out of place (yaml: did not find expected node content)"},
		{"fine", "a: 1\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decode(t, tc.src, nil); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseLineOffset(t *testing.T) {
	var p Problems
	d := New("d.jsonl", &p)
	d.LineOffset = 6
	if root := d.Parse([]byte("a: [1\n")); root != nil {
		t.Fatalf("Parse = %v, want nil", root)
	}
	root := d.Parse([]byte(`{"a": "x"}`))
	d.FailGot(root.Content[1], "a", ErrInvalid, "bad")
	want := "d.jsonl:7: a [ list without its closing ] or a comma (yaml: did not find expected ',' or ']')\nd.jsonl:7: a: bad (got \"x\")"
	if got := p.Err().Error(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if d.Parse(nil) != nil || p.Len() != 2 {
		t.Errorf("an empty document is nil and no problem for Parse")
	}
}

func TestFields(t *testing.T) {
	fields := func(d *Decoder, root *yaml.Node) {
		f, ok := d.Fields(root, "", "a mapping", "name", "model", "tags")
		if ok && f["name"] != nil {
			d.NonEmpty(f["name"], "name")
		}
	}
	for _, tc := range []struct {
		name, src, want string
		opts            []func(*Decoder)
	}{
		{"not a mapping", "[1]\n", "f.yaml:1: must be a mapping (got a list)", nil},
		{"near miss", "name: a\nmodle: m\n", "f.yaml:2: modle: unknown key (did you mean model?)", nil},
		{"far miss", "name: a\nzzz: m\n", "f.yaml:2: zzz: unknown key (known: name, model, tags)", nil},
		{"repeated", "name: a\nmodel: b\nname: c\n", "f.yaml:3: name: repeated key (first on line 1)", nil},
		{"blank", "name: ' '\n", "f.yaml:1: name: must not be empty", nil},
		{"key not a name", "[1]: a\n", "f.yaml:1: keys must be plain names", nil},
		{"merge", "name: a\n<<: {name: b, model: m}\n", "", nil},
		{"merge of a scalar", "name: a\n<<: 3\n", "f.yaml:2: <<: a merge key needs a mapping (got 3)", nil},
		{"merge list", "name: a\n<<: [{model: m}, 3]\n", "f.yaml:2: <<: a merge key needs a mapping (got 3)", nil},
		{"lenient merge list", "name: a\n<<: [{model: m}, 3]\n", "", []func(*Decoder){func(d *Decoder) { d.LenientMergeLists = true }}},
		{"lenient merge of a scalar", "name: a\n<<: 3\n", "f.yaml:2: <<: a merge key needs a mapping (got 3)", []func(*Decoder){func(d *Decoder) { d.LenientMergeLists = true }}},
		{"hint", "name: a\nmodle: m\n", "f.yaml:2: modle: unknown key; see the docs", []func(*Decoder){func(d *Decoder) {
			d.Hint = func(name string, known []string) string { return "; see the docs" }
		}}},
		{"budget", "name: a\nmodel: m\n", "f.yaml:1: document too large: more than 2 values to read; keep large case lists in a JSONL or CSV dataset, read as a stream", []func(*Decoder){func(d *Decoder) { d.Budget = 2 }}},
		{"budget-aliases", "a: &x m\nname: *x\nmodel: m\n", "f.yaml:1: document too large once its aliases are expanded (more than 2 values to read)", []func(*Decoder){func(d *Decoder) { d.Budget = 2 }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decode(t, tc.src, fields, tc.opts...); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestScalars(t *testing.T) {
	src := `
s: text
n: 2.5
i: 3.0
big: 1e300
inf: .inf
l: [1]
null: ~
long: "` + strings.Repeat("é", 70) + `"
`
	got := decode(t, src, func(d *Decoder, root *yaml.Node) {
		f, _ := d.Fields(root, "", "a mapping", "s", "n", "i", "big", "inf", "l", "null", "long")
		if v, ok := d.Integer(f["i"], "i"); !ok || v != 3 {
			t.Errorf("Integer(3.0) = %v, %v", v, ok)
		}
		if v, ok := d.Number(f["n"], "n"); !ok || v != 2.5 {
			t.Errorf("Number(2.5) = %v, %v", v, ok)
		}
		if v, ok := d.Str(f["n"], "n"); !ok || v != "2.5" {
			t.Errorf("Str(2.5) = %v, %v", v, ok)
		}
		d.Integer(f["n"], "n")
		d.Integer(f["big"], "big")
		d.Number(f["inf"], "inf")
		d.Number(f["s"], "s")
		d.Str(f["l"], "l")
		d.Str(f["null"], "null")
		d.List(f["s"], "s", "a list of names")
		if items, ok := d.List(f["l"], "l", "a list"); !ok || len(items) != 1 {
			t.Errorf("List = %v, %v", items, ok)
		}
		d.Integer(f["long"], "long")
	})
	want := strings.Join([]string{
		`f.yaml:2: s: must be a number (got "text")`,
		`f.yaml:2: s: must be a list of names (got "text")`,
		`f.yaml:3: n: must be an integer (got 2.5)`,
		`f.yaml:5: big: must be an integer (got 1e300)`,
		`f.yaml:6: inf: must be a number (got .inf)`,
		`f.yaml:7: l: must be a string (got a list)`,
		`f.yaml:8: null: must be a string (got null)`,
		`f.yaml:9: long: must be an integer (got "` + strings.Repeat("é", 60) + `...")`,
	}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestShow(t *testing.T) {
	got := decode(t, "a: ~\n", func(d *Decoder, root *yaml.Node) {
		d.FailGot(root.Content[1], "a", ErrInvalid, "bad")
	}, func(d *Decoder) { d.Show = func(n *yaml.Node) string { return "<" + n.Value + ">" } })
	if want := "f.yaml:1: a: bad (got <~>)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNodes(t *testing.T) {
	if got := Key("", "a"); got != "a" {
		t.Errorf("Key = %q", got)
	}
	if got := Index(Key("tests", "assert"), 2); got != "tests.assert[2]" {
		t.Errorf("Index = %q", got)
	}
	if !IsNull(nil) {
		t.Errorf("IsNull(nil) = false")
	}
	if got := Clip("short"); got != "short" {
		t.Errorf("Clip = %q", got)
	}
	if got := Shown(nil); got != "" {
		t.Errorf("Shown(nil) = %q", got)
	}
}

func TestFieldError(t *testing.T) {
	e := &FieldError{File: "s.yaml", Line: 14, Field: "tests[2].threshold", Value: "1.5", Err: Because(ErrInvalid, "must be in [0,%d]", 1)}
	if got, want := e.Error(), "s.yaml:14: tests[2].threshold: must be in [0,1] (got 1.5)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(e, ErrInvalid) || errors.Is(e, ErrType) {
		t.Errorf("errors.Is does not follow the sentinel")
	}
	if got, want := (&FieldError{File: "s.yaml", Err: Because(ErrMissing, "empty file")}).Error(), "s.yaml: empty file"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestProblems(t *testing.T) {
	var p Problems
	if p.Err() != nil {
		t.Fatal("no problems, but an error")
	}
	p.Addf("b.yaml", 3, "x", "", ErrInvalid, "bad")
	p.Addf("a.yaml", 9, "", "", ErrSyntax, "broken")
	p.Addf("b.yaml", 1, "y", "", ErrInvalid, "bad")
	p.Addf("b.yaml", 3, "x", "", ErrInvalid, "bad")
	want := "b.yaml:1: y: bad\nb.yaml:3: x: bad\na.yaml:9: broken"
	if got := p.Err().Error(); got != want || p.Len() != 3 {
		t.Errorf("got %q (%d), want %q (3)", got, p.Len(), want)
	}
	for i := range MaxProblems + 10 {
		p.Addf("c.yaml", i, "", "", ErrInvalid, "bad %d", i)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(p.Err(), &joined) || len(joined.Unwrap()) != MaxProblems+1 {
		t.Fatalf("want %d errors", MaxProblems+1)
	}
	if got, want := joined.Unwrap()[MaxProblems].Error(), fmt.Sprintf("... and %d more problems", 13); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
