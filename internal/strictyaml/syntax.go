package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports a syntax error at the line where the enclosing block (or
// flow collection, or quoted string) starts, and for a parser error that
// line counts from 0: a key indented wrongly on line 24 of a list under
// "assert:" on line 21 comes back as "line 21". So the Decoder finds the
// offending line itself: the first line at which the document stops
// parsing (locate), and says what is wrong in a user's words (explain),
// keeping yaml.v3's text for those who know it.

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// splitYAMLError takes a yaml.v3 error text apart: its line (0 when it has
// none) and the message after it.
func splitYAMLError(text string) (line int, msg string) {
	m := yamlLine.FindStringSubmatch(text)
	if m == nil {
		return 0, text
	}
	line, _ = strconv.Atoi(m[1])
	return line, text[len(m[0]):]
}

// syntax records the yaml.v3 error err of data at the line that breaks it.
func (d *Decoder) syntax(data []byte, err error) {
	text := err.Error()
	yline, msg := splitYAMLError(text)
	ends := lineEnds(data)
	line, found := locate(data, ends, text)
	var what string
	switch {
	case found && tabIndented(lineOf(data, ends, line)):
		what = "tab character in indentation (YAML indents with spaces)"
	case found && (msg == "did not find expected key" || msg == "did not find expected '-' indicator") &&
		textAfterQuote(string(lineOf(data, ends, line))):
		what = fmt.Sprintf("text after a closing quote: quote the whole value (yaml: %s)", msg)
	case found:
		what = explain(msg, blockStart(msg, yline, line))
	default:
		line = yline
		what = explain(msg, 0)
	}
	if line > 0 {
		line += d.LineOffset
	}
	d.Problems.Addf(d.File, line, "", "", ErrSyntax, "%s", what)
}

// firstError is the text of the first error yaml.v3 finds in data, every
// document of it included ("" when there is none). A variable, so that a
// test counts the parses locate makes.
var firstError = func(data []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			return err.Error()
		}
	}
}

// lineEnds returns the offset just past each line of data, splitting where
// yaml.v3 counts lines: at \n, \r\n, \r, NEL, LS and PS.
func lineEnds(data []byte) []int {
	var ends []int
	for i := 0; i < len(data); i++ {
		switch {
		case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
			i++
		case data[i] == '\n' || data[i] == '\r':
		case data[i] == 0xC2 && i+1 < len(data) && data[i+1] == 0x85:
			i++
		case data[i] == 0xE2 && i+2 < len(data) && data[i+1] == 0x80 && (data[i+2] == 0xA8 || data[i+2] == 0xA9):
			i += 2
		default:
			continue
		}
		ends = append(ends, i+1)
	}
	if len(ends) == 0 || ends[len(ends)-1] < len(data) {
		ends = append(ends, len(data))
	}
	return ends
}

// locate returns the first line at which data (whose lines end at ends)
// stops parsing with the error whose text is orig, and false when it
// cannot tell.
//
// It parses prefixes of data, a whole number of lines each, looking for a
// line whose prefix fails with orig while the prefix one line shorter does
// not. A prefix counts as failing only with orig's very text, yaml.v3's
// line included: one cut inside an earlier quoted string or flow list
// fails too, but for another reason or at another line, and must not take
// the blame. The offending line is not before yaml.v3's (the start of its
// block), and usually a few lines after it: the search starts there, with
// steps that double until a prefix fails, then halves the gap. That is
// about 2*log2(distance) parses, where a plain binary search over the file
// would take log2(lines) parses nearly as long as the file when the error
// is near its end.
//
// yaml.v3 may report an error it meets at the end of the input at that
// end, so that only the whole of data fails with orig: then, unless the
// lines before the last parse (the last line breaks them), the search is
// repeated from the start comparing messages alone; when that too finds
// only the last line, locate gives up.
func locate(data []byte, ends []int, orig string) (int, bool) {
	n := len(ends)
	errs := map[int]string{0: "", n: orig}
	errAt := func(k int) string { // the first error of the first k lines
		e, ok := errs[k]
		if !ok {
			e = firstError(data[:ends[k-1]])
			errs[k] = e
		}
		return e
	}
	// search returns a k in (lo, n] where same(errAt(k)) holds and
	// same(errAt(k-1)) does not, knowing that it does not at lo and does
	// at n: the first such k when only prefixes past the error fail so.
	search := func(lo int, same func(string) bool) int {
		hi := n
		for step := 1; lo+step < hi; step *= 2 {
			if same(errAt(lo + step)) {
				hi = lo + step
				break
			}
			lo += step
		}
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if same(errAt(mid)) {
				hi = mid
			} else {
				lo = mid
			}
		}
		return hi
	}
	strict := func(e string) bool { return e == orig }
	// The first m lines end at the start of line m+1, and yaml.v3 gives a
	// line of at most m+1 for them: so the lines before yaml.v3's line
	// less one cannot fail with orig.
	lo := 0
	if yline, _ := splitYAMLError(orig); yline > 2 && yline-2 < n {
		lo = yline - 2
	}
	if k := search(lo, strict); k < n {
		return k, true
	}
	if n == 1 || errAt(n-1) == "" {
		return n, true
	}
	_, msg := splitYAMLError(orig)
	loose := func(e string) bool {
		_, m := splitYAMLError(e)
		return e != "" && m == msg
	}
	if k := search(0, loose); k < n {
		return k, true
	}
	return 0, false
}

// lineOf is line (1-based) of data, its line break included (nil when
// there is no such line).
func lineOf(data []byte, ends []int, line int) []byte {
	if line < 1 || line > len(ends) {
		return nil
	}
	start := 0
	if line > 1 {
		start = ends[line-2]
	}
	return data[start:ends[line-1]]
}

// tabIndented reports whether line has a tab among the blanks before its
// first character.
func tabIndented(line []byte) bool {
	tab := false
	for _, c := range line {
		switch c {
		case '\t':
			tab = true
		case ' ':
		default:
			return tab && c != '\n' && c != '\r'
		}
	}
	return false
}

// plain says in a user's words what the most common yaml.v3 syntax errors
// mean.
var plain = map[string]string{
	"did not find expected key":                              "bad indentation",
	"did not find expected '-' indicator":                    "bad indentation",
	"block sequence entries are not allowed in this context": "a list item where none can start: check the indentation",
	"mapping values are not allowed in this context":         `bad indentation, or a value with ": " in it that needs quotes`,
	"could not find expected ':'":                            `a key without its ":", or a quote that is not closed`,
	"did not find expected ',' or ']'":                       "a [ list without its closing ] or a comma",
	"did not find expected ',' or '}'":                       "a { mapping without its closing } or a comma",
	"did not find expected node content":                     "a value is missing, or a bracket is out of place",
	"found unexpected end of stream":                         "a quoted string that is not closed",
	"found unknown escape character":                         `an unknown escape in a "double-quoted" string: write \\ for a backslash, or use 'single quotes'`,
	"found character that cannot start any token":            "a value starting with @ or ` needs quotes",
}

// textAfterQuote reports whether line's value is a quoted string followed
// by more text (value: "30 days" exactly), which yaml.v3 reports as a
// missing key or '-' like a bad indentation.
func textAfterQuote(line string) bool {
	s := strings.TrimLeft(line, " ")
	for strings.HasPrefix(s, "- ") {
		s = strings.TrimLeft(s[2:], " ")
	}
	if i := strings.Index(s, ": "); i >= 0 && s[0] != '"' && s[0] != '\'' {
		s = strings.TrimLeft(s[i+2:], " ")
	}
	if s == "" || s[0] != '"' && s[0] != '\'' {
		return false
	}
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case q == '\'' && s[i] == q && i+1 < len(s) && s[i+1] == q:
			i++
		case s[i] == q:
			rest := strings.TrimSpace(s[i+1:])
			return rest != "" && rest[0] != '#' && rest[0] != ':'
		}
	}
	return false
}

// blockStart is the first line of the block (or flow collection) that a
// yaml.v3 parser error msg reported at yline names, when it starts before
// the offending line at (0 when it does not, or msg is not a parser
// error). A parser error's line counts from 0, so the block starts on the
// next one; when the block starts on line 1, yaml.v3 gives the offending
// token's line instead, which is not before at.
func blockStart(msg string, yline, at int) int {
	switch msg {
	case "did not find expected key", "did not find expected '-' indicator",
		"did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"did not find expected node content":
	default:
		return 0
	}
	if yline == 0 || yline+1 >= at {
		return 0
	}
	return yline + 1
}

// explain is a syntax error's message: msg in plain words when there are
// some, followed by yaml.v3's own text and the line its block starts on
// (when start is not 0).
func explain(msg string, start int) string {
	where := ""
	if start > 0 {
		what := "block"
		switch msg {
		case "did not find expected ',' or ']'":
			what = "list"
		case "did not find expected ',' or '}'":
			what = "mapping"
		}
		where = fmt.Sprintf("in the %s starting at line %d", what, start)
	}
	words, ok := plain[msg]
	switch {
	case ok && where != "":
		return fmt.Sprintf("%s (yaml: %s, %s)", words, msg, where)
	case ok:
		return fmt.Sprintf("%s (yaml: %s)", words, msg)
	case where != "":
		return fmt.Sprintf("%s (%s)", msg, where)
	}
	return msg
}
