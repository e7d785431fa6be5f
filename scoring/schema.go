package scoring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// schemaURL names the one schema document of a compiler.
const schemaURL = "mem:///assertion-schema.json"

var printer = message.NewPrinter(language.English)

// compileSchema compiles the optional JSON Schema of is-json and
// contains-json, once. The value is a schema object (or true/false), or a
// string holding one in JSON or YAML; no value, or a blank string, means no
// schema (nil). Schemas without "$schema" follow draft-07, as promptfoo's Ajv
// does, and "format" is asserted. Compiling never touches the network or the
// file system: a $ref must point inside the schema.
func compileSchema(s Spec) (*jsonschema.Schema, error) {
	v := s.Value
	if str, ok := v.(string); ok {
		if strings.TrimSpace(str) == "" {
			return nil, nil
		}
		var doc any
		if err := yaml.Unmarshal([]byte(str), &doc); err != nil {
			return nil, badValue(s, "not a JSON schema: %s", firstLine(err.Error()))
		}
		v = doc
	}
	if v == nil {
		return nil, nil
	}
	switch v.(type) {
	case map[string]any, map[any]any, bool:
	default:
		return nil, badValue(s, "want a JSON schema (an object)")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, badValue(s, "the schema cannot be JSON: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, badValue(s, "the schema cannot be JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, badValue(s, "invalid JSON schema: %v", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, badValue(s, "invalid JSON schema: %s", schemaErrorText(err))
	}
	return sch, nil
}

// noLoader refuses every external $ref: scoring does no I/O.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external reference %q not allowed", url)
}

// parseJSON decodes a complete JSON text for schema validation, keeping
// numbers exact.
func parseJSON(b []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// schemaMismatch explains why v does not satisfy the schema: the first
// failing location and rule, and how many more there are.
func schemaMismatch(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return firstLine(err.Error())
	}
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	first := leaves[0]
	loc := "/" + strings.Join(first.InstanceLocation, "/")
	msg := fmt.Sprintf("at %s: %s", quote(loc, 40), first.ErrorKind.LocalizedString(printer))
	if n := len(leaves) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return truncate(msg, 2*maxQuoted)
}

// schemaErrorText shortens a compile error of the jsonschema package.
func schemaErrorText(err error) string {
	var se *jsonschema.SchemaValidationError
	if errors.As(err, &se) && se.Err != nil {
		return "does not follow the JSON Schema specification: " + schemaMismatch(se.Err)
	}
	return truncate(firstLine(err.Error()), 2*maxQuoted)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
