package evals

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/evald/evald/internal/strictyaml"
	"github.com/evald/evald/scoring"
)

// tests decodes the tests key: a list whose items are inline cases or
// file:// datasets (a single file:// string is accepted too).
func (l *loader) tests(d *decoder, n *yaml.Node) {
	items := []*yaml.Node{n}
	field := func(int) string { return "tests" }
	if dn := strictyaml.Deref(n); dn == nil || dn.Kind != yaml.ScalarNode || dn.ShortTag() != "!!str" {
		var ok bool
		if items, ok = d.List(n, "tests", "a list of test cases and file:// datasets"); !ok {
			return
		}
		field = func(i int) string { return strictyaml.Index("tests", i) }
	}
	before, emitted := l.p.Len(), l.emitted
	for i, item := range items {
		it := strictyaml.Deref(item)
		switch {
		case it != nil && it.Kind == yaml.MappingNode:
			if c, ok := inlineCase(d, item, field(i)); ok {
				l.emit(c)
			}
		case it != nil && it.Kind == yaml.ScalarNode && it.ShortTag() == "!!str":
			ref, ok := fileRef(it.Value)
			if !ok {
				d.FailGot(item, field(i), ErrType, "must be a test case or a file:// reference to a dataset")
				continue
			}
			l.dataset(d, item, field(i), ref)
		default:
			d.FailGot(item, field(i), ErrType, "must be a test case or a file:// reference to a dataset")
		}
	}
	if l.emitted == emitted && l.p.Len() == before {
		d.Fail(n, "tests", ErrMissing, "needs at least one test case")
	}
}

// emit hands a case read to the loader's sink, in the order read.
func (l *loader) emit(c rawCase) {
	l.emitted++
	if l.sink != nil {
		l.sink(c)
	}
}

// inlineCase decodes a test object {id, description, vars, assert}.
func inlineCase(d *decoder, n *yaml.Node, field string) (rawCase, bool) {
	c := rawCase{file: d.File, line: d.Line(n), field: field, varsLine: d.Line(n)}
	f, ok := d.Fields(n, field, "a test case {id, description, vars, assert, turns}", caseKeys...)
	if !ok {
		return c, false
	}
	if v := f["id"]; v != nil {
		c.id, ok = d.NonEmpty(v, strictyaml.Key(field, "id"))
		c.hasID, c.idLine = ok, d.Line(v)
	}
	if v := f["description"]; v != nil && !strictyaml.IsNull(v) {
		c.desc, _ = d.Str(v, strictyaml.Key(field, "description"))
	}
	if v := f["vars"]; v != nil {
		c.vars = varsOf(d, v, strictyaml.Key(field, "vars"))
		c.varsLine = d.Line(v)
	}
	if v := f["assert"]; v != nil {
		c.asserts = asserts(d, v, strictyaml.Key(field, "assert"))
	}
	if v := f["turns"]; v != nil {
		if f["assert"] != nil {
			d.Fail(f["assert"], strictyaml.Key(field, "assert"), ErrInvalid, "a case with turns asserts in each turn (turns[].assert)")
			return c, false
		}
		ts, ok := turns(d, v, strictyaml.Key(field, "turns"))
		if !ok {
			return c, false
		}
		c.turns = ts
	}
	return c, true
}

// dataset loads the cases of a file:// dataset, chosen by its extension.
func (l *loader) dataset(d *decoder, n *yaml.Node, field, ref string) {
	name, err := l.src.resolve(d.File, ref)
	if err != nil {
		d.FailGot(n, field, ErrFile, "%v", err)
		return
	}
	ext := strings.ToLower(path.Ext(filepath.ToSlash(name)))
	switch ext {
	case ".jsonl", ".csv", ".yaml", ".yml", ".json":
	default:
		d.FailGot(n, field, ErrInvalid, "unsupported dataset format %q (want .jsonl, .csv, .yaml, .yml or .json)", ext)
		return
	}
	before, emitted := l.p.Len(), l.emitted
	if ext == ".jsonl" || ext == ".csv" {
		// Read as a stream: the file is never held whole.
		rc, err := l.src.open(name, l.maxBytes)
		if err != nil {
			d.Fail(n, field, ErrFile, "cannot read %s: %s", name, readErr(err))
			return
		}
		defer rc.Close()
		br := bufio.NewReaderSize(rc, 64<<10)
		if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
			br.Discard(3) // spreadsheet exports start with a BOM
		}
		if ext == ".jsonl" {
			l.jsonl(name, br)
		} else {
			l.csv(name, br)
		}
	} else {
		data, err := l.readYAML(name)
		if err != nil {
			d.Fail(n, field, ErrFile, "cannot read %s: %s", name, readErr(err))
			return
		}
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		l.yamlTests(name, data, ext == ".json")
	}
	if l.emitted == emitted && l.p.Len() == before {
		l.p.Addf(name, 0, "", "", ErrMissing, "holds no test cases")
	}
}

// jsonl reads one case per non-blank line: a test object, or an OpenAI
// evals sample {"input": ..., "ideal": ...}.
func (l *loader) jsonl(name string, r *bufio.Reader) {
	for i := 0; ; i++ {
		raw, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			l.p.Addf(name, i+1, "", "", ErrFile, "cannot read: %s", readErr(err))
			break
		}
		if len(raw) == 0 && err != nil {
			break
		}
		raw = bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		line := i + 1
		d := l.decoder(name)
		d.LineOffset = line - 1
		// JSON is YAML: as nodes, a line is checked by the same code as an
		// inline case. encoding/json builds them several times faster than
		// the YAML parser; anything it does not take plainly (a syntax
		// error, a duplicate key) goes the YAML way for the same messages.
		root, ok := jsonNodes(raw)
		if !ok {
			var probe any
			if err := json.Unmarshal(raw, &probe); err != nil {
				l.p.Addf(name, line, "", "", ErrSyntax, "not a JSON object: %s", jsonErr(err))
				continue
			}
		}
		before := l.p.Len()
		if !ok {
			root = d.Parse(raw)
		}
		if root == nil {
			if l.p.Len() == before {
				l.p.Addf(name, line, "", "", ErrSyntax, "not a JSON object")
			}
			continue
		}
		if root.Kind != yaml.MappingNode {
			d.FailGot(root, "", ErrType, "must be a JSON object (a test case or an OpenAI evals sample)")
			continue
		}
		if hasKey(root, "input") || hasKey(root, "ideal") {
			if c, ok := openAISample(d, root); ok {
				l.emit(c)
			}
			continue
		}
		if c, ok := inlineCase(d, root, ""); ok {
			l.emit(c)
		}
	}
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

func hasKey(n *yaml.Node, k string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == k {
			return true
		}
	}
	return false
}

// openAISample maps an OpenAI evals line to a case. Its vars are input (the
// prompt text: the last user message when input is a chat) and ideal (a
// string or a list). Its assertion is OpenAI evals' Match: the answer starts
// with the ideal (one of the ideals, when there are several). Write a test
// object instead for other checks.
func openAISample(d *decoder, n *yaml.Node) (rawCase, bool) {
	c := rawCase{file: d.File, line: d.Line(n), varsLine: d.Line(n), noVarsKey: true,
		hint: "; an OpenAI evals sample has the vars input and ideal"}
	f, ok := d.Fields(n, "", "an OpenAI evals sample", "input", "ideal")
	if !ok {
		return c, false
	}
	ok = true
	var input string
	if in := f["input"]; in == nil {
		d.Fail(n, "input", ErrMissing, "required next to ideal")
		ok = false
	} else if v, vok := d.value(in, "input"); vok {
		switch x := v.(type) {
		case string:
			input = x
		case []any:
			for _, m := range x {
				if msg, isMap := m.(map[string]any); isMap && msg["role"] == "user" {
					if s, isStr := msg["content"].(string); isStr {
						input = s
					}
				}
			}
			if input == "" {
				d.Fail(in, "input", ErrInvalid, "a chat input needs a user message with text content")
				ok = false
			}
		default:
			d.FailGot(in, "input", ErrType, "must be a string or a list of chat messages")
			ok = false
		}
	} else {
		ok = false
	}
	var ideals []string
	var ideal any
	if id := f["ideal"]; id == nil {
		d.Fail(n, "ideal", ErrMissing, "required next to input")
		ok = false
	} else if v, vok := d.value(id, "ideal"); vok {
		switch x := v.(type) {
		case string:
			ideals, ideal = []string{x}, x
		case []any:
			ideal = x
			for i, e := range x {
				s, isStr := e.(string)
				if !isStr {
					d.FailGot(strictyaml.Deref(id).Content[i], strictyaml.Index("ideal", i), ErrType, "must be a string")
					ok = false
					break
				}
				ideals = append(ideals, s)
			}
		default:
			d.FailGot(id, "ideal", ErrType, "must be a string or a list of strings")
			ok = false
		}
		if ok && (len(ideals) == 0 || slices.Contains(ideals, "")) {
			d.Fail(id, "ideal", ErrMissing, "must not be empty")
			ok = false
		}
	} else {
		ok = false
	}
	if !ok {
		return c, false
	}
	c.vars = map[string]any{"input": input, "ideal": ideal}
	c.asserts = []rawAssert{{spec: matchSpec(ideals), file: d.File, line: c.line, field: "ideal", literal: true}}
	return c, true
}

// matchSpec is OpenAI evals' Match as an assertion: starts-with for one
// ideal, an anchored alternation of the quoted ideals for several.
func matchSpec(ideals []string) scoring.Spec {
	if len(ideals) == 1 {
		return scoring.Spec{Type: "starts-with", Value: ideals[0], Weight: 1}
	}
	alts := make([]string, len(ideals))
	for i, s := range ideals {
		alts[i] = regexp.QuoteMeta(s)
	}
	return scoring.Spec{Type: "regex", Value: "^(?:" + strings.Join(alts, "|") + ")", Weight: 1}
}

var expectedColumn = regexp.MustCompile(`^__expected[0-9]*$`)

// csv reads a header of var names and one case per row. __expected and
// __expected1, __expected2, ... hold one assertion each in promptfoo's
// shorthand; __description describes the case; __id names it. Without an
// __id column a case is named by the file's base name and its line
// ("faq.csv:12"), stable while the rows are not reordered.
func (l *loader) csv(name string, in io.Reader) {
	r := csv.NewReader(in)
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return
	}
	if err != nil {
		l.csvErr(name, err)
		return
	}
	ok := true
	seen := map[string]bool{}
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
		h = header[i]
		switch {
		case h == "":
			l.p.Addf(name, 1, "", "", ErrMissing, "column %d has no name", i+1)
			ok = false
		case seen[h]:
			l.p.Addf(name, 1, h, "", ErrDuplicate, "repeated column")
			ok = false
		case strings.HasPrefix(h, "__") && !expectedColumn.MatchString(h) && h != "__description" && h != "__id":
			l.p.Addf(name, 1, h, "", ErrUnknownKey, "unknown special column (known: __id, __expected, __expected1, __expected2, ..., __description)")
			ok = false
		}
		seen[h] = true
	}
	if !ok {
		return
	}
	if !seen["__id"] {
		l.rowNamed = append(l.rowNamed, name)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, csv.ErrFieldCount) {
			l.fieldCount(name, err, len(rec), len(header))
			continue
		}
		if err != nil {
			l.csvErr(name, err)
			break
		}
		line, _ := r.FieldPos(0)
		c := rawCase{file: name, line: line, varsLine: line, vars: map[string]any{}, noVarsKey: true,
			hint: "; a CSV row's vars are its columns", id: rowID(name, line), rowID: true}
		for i, h := range header {
			cell := rec[i]
			switch {
			case h == "__description":
				c.desc = cell
			case h == "__id":
				c.id, c.hasID, c.rowID, c.idLine, c.idKey = strings.TrimSpace(cell), true, false, line, h
				if c.id == "" {
					l.p.Addf(name, line, h, "", ErrMissing, "empty: every row needs an id in the __id column (column %d)", i+1)
					c.id, c.rowID = rowID(name, line), true
				}
			case expectedColumn.MatchString(h):
				cell = strings.TrimSpace(cell)
				if cell == "" {
					continue
				}
				spec, err := Shorthand(cell)
				if err != nil {
					l.p.Add(&FieldError{File: name, Line: line, Field: h, Value: clipQuote(cell), Err: err})
					continue
				}
				c.asserts = append(c.asserts, rawAssert{spec: spec, file: name, line: line, field: h})
				if bad := badTemplate(spec.Value); bad != "" {
					l.p.Addf(name, line, h, "", ErrTemplate, onlyNames, bad)
				}
			default:
				c.vars[h] = cell
			}
		}
		l.emit(c)
	}
}

// rowID names the case of a CSV row without an __id: the file's base name
// and the row's line, the same on every operating system.
func rowID(name string, line int) string {
	return name[strings.LastIndexAny(name, `/\`)+1:] + ":" + strconv.Itoa(line)
}

func clipQuote(s string) string { return `"` + strings.ReplaceAll(strictyaml.Clip(s), `"`, `\"`) + `"` }

// fieldCount reports a row with more or fewer fields than the header
// (encoding/csv's "wrong number of fields" names neither count): one more
// is, nearly always, a comma in an unquoted value.
func (l *loader) fieldCount(name string, err error, got, want int) {
	line := 0
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line = pe.StartLine
	}
	hint := "quote values that contain commas"
	if got < want {
		hint = "a row needs a value, empty or not, for every column"
	}
	l.p.Addf(name, line, "", "", ErrSyntax, "row has %d fields, the header has %d (%s)", got, want, hint)
}

func (l *loader) csvErr(name string, err error) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		l.p.Addf(name, pe.Line, "", "", ErrSyntax, "%v", pe.Err)
		return
	}
	l.p.Addf(name, 0, "", "", ErrSyntax, "%v", err)
}

// yamlTests reads a YAML (or JSON) file holding a list of test objects.
func (l *loader) yamlTests(name string, data []byte, isJSON bool) {
	if isJSON {
		var probe any
		if err := json.Unmarshal(data, &probe); err != nil {
			l.p.Addf(name, 0, "", "", ErrSyntax, "not valid JSON: %s", jsonErr(err))
			return
		}
	}
	root, d := l.parseRoot(name, data)
	if root == nil {
		return
	}
	items, ok := d.List(root, "", "a list of test cases")
	if !ok {
		return
	}
	for i, item := range items {
		if it := strictyaml.Deref(item); it != nil && it.Kind != yaml.MappingNode {
			d.FailGot(item, strictyaml.Index("", i), ErrType, "must be a test case {id, description, vars, assert} (a tests file cannot refer to further files)")
			continue
		}
		if c, ok := inlineCase(d, item, strictyaml.Index("", i)); ok {
			l.emit(c)
		}
	}
}

// jsonNodes parses one JSON value into the YAML nodes the YAML parser would
// give for it (all on line 1; the decoder adds the line's offset). ok is
// false for anything it does not take plainly: invalid JSON, trailing
// data, duplicate keys.
func jsonNodes(raw []byte) (n *yaml.Node, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	n, ok = jsonValue(dec, 0)
	if !ok {
		return nil, false
	}
	if len(bytes.TrimSpace(raw[dec.InputOffset():])) != 0 {
		return nil, false // trailing data
	}
	return n, true
}

func jsonValue(dec *json.Decoder, depth int) (*yaml.Node, bool) {
	if depth > 64 {
		return nil, false
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, false
	}
	scalar := func(tag, v string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v, Line: 1, Column: 1}
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				k, isStr := kt.(string)
				if err != nil || !isStr || seen[k] {
					return nil, false
				}
				seen[k] = true
				v, ok := jsonValue(dec, depth+1)
				if !ok {
					return nil, false
				}
				ks := scalar("!!str", k)
				ks.Style = yaml.DoubleQuotedStyle
				m.Content = append(m.Content, ks, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, false
			}
			return m, true
		case '[':
			seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: 1, Column: 1}
			for dec.More() {
				v, ok := jsonValue(dec, depth+1)
				if !ok {
					return nil, false
				}
				seq.Content = append(seq.Content, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, false
			}
			return seq, true
		}
		return nil, false
	case string:
		n := scalar("!!str", t)
		n.Style = yaml.DoubleQuotedStyle
		return n, true
	case json.Number:
		v := t.String()
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			return scalar("!!int", v), true
		}
		if _, err := strconv.ParseUint(v, 10, 64); err == nil {
			return scalar("!!int", v), true
		}
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return scalar("!!float", v), true
		}
		return scalar("!!str", v), true // out of range: YAML reads it as text
	case bool:
		return scalar("!!bool", strconv.FormatBool(t)), true
	case nil:
		return scalar("!!null", "null"), true
	}
	return nil, false
}
