package strictyaml

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// suite is a suite file that parses, with the constructs a prefix can be
// cut inside of: a block scalar holding a tab, a quoted string and a flow
// list over two lines each.
const suite = `name: faq
prompt:
  - role: system
    content: |
      Answer as this code would:
      	if late { refuse() }
  - role: user
    content: "{{question}}
      Be brief."
tests:
  - id: a
    vars: {question: [one,
       two]}
    assert:
      - type: contains
        value: "30 days"
      - type: equals
        value: x
  - id: b
    assert:
      - type: contains
        value: y
`

// config is an evald.yaml that parses.
const config = `storage:
  sqlite: evald.db
server:
  addr: 127.0.0.1:8080
targets:
  - name: prod
    base_url: http://127.0.0.1:8090/v1
    model: sim-1
    concurrency: 8
    timeout: 10s
`

// edit replaces line n (1-based) of src.
func edit(src string, n int, line string) string {
	lines := strings.Split(src, "\n")
	lines[n-1] = line
	return strings.Join(lines, "\n")
}

// TestSyntaxLine: a syntax error names the line that breaks the document,
// not the line yaml.v3 gives (where the enclosing block starts), and says
// what is wrong in plain words.
func TestSyntaxLine(t *testing.T) {
	if got := decode(t, suite, nil); got != "" {
		t.Fatalf("the suite does not parse: %s", got)
	}
	if got := decode(t, config, nil); got != "" {
		t.Fatalf("the config does not parse: %s", got)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"key outdented in an assert list", edit(suite, 17, "       type: equals"),
			"f.yaml:17: bad indentation (yaml: did not find expected '-' indicator, in the block starting at line 15)"},
		{"key outdented in a test", edit(suite, 20, "   assert:"),
			"f.yaml:20: bad indentation (yaml: did not find expected '-' indicator, in the block starting at line 11)"},
		{"tab in a suite", edit(suite, 17, "\t- type: equals"),
			"f.yaml:17: tab character in indentation (YAML indents with spaces)"},
		{"config key outdented", edit(config, 9, "   concurrency: 8"),
			"f.yaml:9: bad indentation (yaml: did not find expected '-' indicator, in the block starting at line 6)"},
		{"config key indented", edit(config, 9, "     concurrency: 8"),
			`f.yaml:9: bad indentation, or a value with ": " in it that needs quotes (yaml: mapping values are not allowed in this context)`},
		{"tab in a config", edit(config, 9, "\tconcurrency: 8"),
			"f.yaml:9: tab character in indentation (YAML indents with spaces)"},
		{"tab after spaces", edit(config, 9, "  \tconcurrency: 8"),
			"f.yaml:9: tab character in indentation (YAML indents with spaces)"},
		{"tab ending a block scalar", suite + "z: |\n  x\n\tmore\n",
			"f.yaml:25: tab character in indentation (YAML indents with spaces)"},
		{"an unclosed quote after a multi-line one", suite + "z: \"open\nw: 1\n",
			"f.yaml:23: a quoted string that is not closed (yaml: found unexpected end of stream)"},
		{"an unclosed quote on line 1", "a: \"x\n" + config,
			"f.yaml:1: a quoted string that is not closed (yaml: found unexpected end of stream)"},
		{"a list without a comma after a multi-line one", suite + "z: [1,\n  2\nw: 1\n",
			"f.yaml:24: a [ list without its closing ] or a comma (yaml: did not find expected ',' or ']', in the list starting at line 23)"},
		{"last line", suite + " bad: 1\n",
			"f.yaml:23: bad indentation (yaml: did not find expected key)"},
		{"last line without a line break", suite + " bad: 1",
			"f.yaml:23: bad indentation (yaml: did not find expected key)"},
		{"list item in a mapping", "a: 1\n- b\n",
			"f.yaml:2: bad indentation (yaml: did not find expected key)"},
		{"CRLF", strings.ReplaceAll(edit(config, 9, "   concurrency: 8"), "\n", "\r\n"),
			"f.yaml:9: bad indentation (yaml: did not find expected '-' indicator, in the block starting at line 6)"},
		{"CR", strings.ReplaceAll(edit(config, 9, "   concurrency: 8"), "\n", "\r"),
			"f.yaml:9: bad indentation (yaml: did not find expected '-' indicator, in the block starting at line 6)"},
		{"text after a quoted value", edit(suite, 16, `        value: "30 days" or so`),
			"f.yaml:16: text after a closing quote: quote the whole value (yaml: did not find expected key)"},
		{"text after a quoted item", "a:\n  - x\n  - 'it''s' ok\n",
			"f.yaml:3: text after a closing quote: quote the whole value (yaml: did not find expected '-' indicator)"},
		{"colon in a value", edit(config, 8, "    model: sim: 1"),
			`f.yaml:8: bad indentation, or a value with ": " in it that needs quotes (yaml: mapping values are not allowed in this context)`},
		{"reserved character", edit(config, 8, "    model: @sim"),
			"f.yaml:8: a value starting with @ or ` needs quotes (yaml: found character that cannot start any token)"},
		{"unknown escape", edit(config, 8, `    model: "a\qb"`),
			`f.yaml:8: an unknown escape in a "double-quoted" string: write \\ for a backslash, or use 'single quotes' (yaml: found unknown escape character)`},
		{"no words for it", "a: 1\nb: *nope\n",
			"f.yaml:2: unknown anchor 'nope' referenced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decode(t, tc.src, nil); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestLocateGivesUp: when no prefix shorter than the document fails with
// its message, locate says so and the Decoder keeps yaml.v3's line.
func TestLocateGivesUp(t *testing.T) {
	// The first line alone fails for another reason (a list cut after its
	// comma); only the whole document fails with "expected ',' or ']'".
	src := "a: [1,\n  2\n"
	if line, ok := locate([]byte(src), lineEnds([]byte(src)), firstError([]byte(src))); ok {
		t.Errorf("locate = %d, true; want false", line)
	}
	want := "f.yaml:2: a [ list without its closing ] or a comma (yaml: did not find expected ',' or ']')"
	if got := decode(t, src, nil); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLineEnds(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []int
	}{
		{"", []int{0}},
		{"a", []int{1}},
		{"a\n", []int{2}},
		{"a\nb", []int{2, 3}},
		{"a\r\nb\rc\n", []int{3, 5, 7}},
		{"a\u0085b\u2028c\u2029", []int{3, 7, 11}},
	} {
		if got := lineEnds([]byte(tc.src)); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("lineEnds(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}

// bigSuite is a suite of about 15,000 lines (2,500 tests) whose line bad
// is replaced by text.
func bigSuite(bad int, text string) string {
	var b strings.Builder
	b.WriteString("name: big\nprompt:\n  - role: user\n    content: \"{{q}}\"\ntests:\n")
	for i := range 2500 {
		fmt.Fprintf(&b, "  - id: t%d\n    vars: {q: \"question %d\"}\n    assert:\n      - type: contains\n        value: \"answer %d\"\n      - type: not-contains\n", i, i, i)
	}
	return edit(b.String(), bad, text)
}

// TestSyntaxLineLargeFile: the line is found in a suite of 15,000 lines,
// at its start, middle and end, with a handful of parses rather than one
// per line or log2(15,000) = 14 of nearly the whole file.
func TestSyntaxLineLargeFile(t *testing.T) {
	parse := firstError
	defer func() { firstError = parse }()
	parses := 0
	firstError = func(data []byte) string {
		parses++
		return parse(data)
	}
	for _, bad := range []int{8, 7502, 15005} {
		src := bigSuite(bad, "      type: equals")
		parses = 0
		start := time.Now()
		got := decode(t, src, nil)
		t.Logf("line %d of %d: %d parses of a prefix, %v", bad, strings.Count(src, "\n"), parses, time.Since(start))
		want := fmt.Sprintf("f.yaml:%d: bad indentation", bad)
		if !strings.HasPrefix(got, want+" (yaml: ") {
			t.Errorf("line %d: got %q, want %q...", bad, got, want)
		}
		if parses > 6 {
			t.Errorf("line %d: %d parses of a prefix, want at most 6", bad, parses)
		}
	}
}

// BenchmarkSyntaxLine measures locating a bad indentation in the middle of
// a suite of 15,000 lines.
func BenchmarkSyntaxLine(b *testing.B) {
	src := []byte(bigSuite(7502, "      type: equals"))
	for b.Loop() {
		var p Problems
		New("f.yaml", &p).Document(src)
		if p.Len() != 1 {
			b.Fatal(p.Err())
		}
	}
}

// FuzzSyntaxLine: no input panics the Decoder, and a syntax error names a
// line of the file.
func FuzzSyntaxLine(f *testing.F) {
	f.Add(suite)
	f.Add(config)
	f.Add(edit(suite, 17, "\t- type: equals"))
	f.Add(edit(config, 9, "   concurrency: 8"))
	f.Add("a: [1,\n  2\n")
	f.Add("a: \"x\r\nb: 1\u2028c: 2\n")
	f.Fuzz(func(t *testing.T, src string) {
		var p Problems
		New("f.yaml", &p).Document([]byte(src))
		var joined interface{ Unwrap() []error }
		if err := p.Err(); err == nil || !errors.As(err, &joined) {
			return
		}
		for _, e := range joined.Unwrap() {
			var fe *FieldError
			if errors.As(e, &fe) && errors.Is(fe, ErrSyntax) && fe.Line > len(lineEnds([]byte(src))) {
				t.Fatalf("%v: past the last line", fe)
			}
		}
	})
}
