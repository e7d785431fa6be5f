package scoring

import (
	"strings"
	"testing"
)

var latLong = map[string]any{
	"type":     "object",
	"required": []any{"latitude", "longitude"},
	"properties": map[string]any{
		"latitude":  map[string]any{"type": "number", "minimum": -90.0, "maximum": 90.0},
		"longitude": map[string]any{"type": "number", "minimum": -180.0, "maximum": 180.0},
	},
}

func TestIsJSON(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "object", spec: Spec{Type: "is-json"}, out: text(`{"a": 1}`), pass: true},
		{name: "white space around", spec: Spec{Type: "is-json"}, out: text(" \n{\"a\": 1}\n"), pass: true},
		{name: "scalar JSON", spec: Spec{Type: "is-json"}, out: text(`42`), pass: true},
		{name: "string JSON", spec: Spec{Type: "is-json"}, out: text(`"hi"`), pass: true},
		{name: "huge number is still JSON", spec: Spec{Type: "is-json", Value: map[string]any{"type": "number"}}, out: text(`1e400`), pass: true},
		{name: "code fence is not JSON", spec: Spec{Type: "is-json"}, out: text("```json\n{}\n```")},
		{name: "prose", spec: Spec{Type: "is-json"}, out: text("nope"),
			reason: `expected output to be valid JSON: invalid character 'o' in literal null (expecting 'u') (got "nope")`},
		{name: "empty output", spec: Spec{Type: "is-json"}, out: text(""),
			reason: `expected output to be valid JSON: unexpected end of JSON input (got empty output)`},
		{name: "trailing comma", spec: Spec{Type: "is-json"}, out: text(`{"a": 1,}`)},
		{name: "two values", spec: Spec{Type: "is-json"}, out: text(`{} {}`)},
		{name: "blank value means no schema", spec: Spec{Type: "is-json", Value: " "}, out: text(`[1]`), pass: true},
		{name: "schema satisfied", spec: Spec{Type: "is-json", Value: latLong}, out: text(`{"latitude": 48.8, "longitude": 2.3}`), pass: true},
		{name: "schema violated", spec: Spec{Type: "is-json", Value: latLong}, out: text(`{"latitude": 100, "longitude": 2.3}`),
			reason: `output JSON does not match the schema: at "/latitude": maximum: got 100, want 90`},
		{name: "schema on non-JSON", spec: Spec{Type: "is-json", Value: latLong}, out: text(`lat 48`),
			reason: `expected output to be valid JSON: invalid character 'l' looking for beginning of value (got "lat 48")`},
		{name: "schema as a JSON string", spec: Spec{Type: "is-json", Value: `{"type": "array", "items": {"type": "integer"}}`}, out: text(`[1, 2]`), pass: true},
		{name: "schema as a YAML string", spec: Spec{Type: "is-json", Value: "type: array\nmaxItems: 1"}, out: text(`[1, 2]`),
			reason: `output JSON does not match the schema: at "/": maxItems: got 2, want 1`},
		{name: "formats are checked", spec: Spec{Type: "is-json", Value: map[string]any{"format": "email"}}, out: text(`"not an email"`)},
		{name: "formats are checked in draft 2020-12 too", spec: Spec{Type: "is-json", Value: map[string]any{
			"$schema": "https://json-schema.org/draft/2020-12/schema", "format": "email"}}, out: text(`"not an email"`)},
		{name: "formats pass", spec: Spec{Type: "is-json", Value: map[string]any{"format": "email"}}, out: text(`"a@example.com"`), pass: true},
		{name: "false schema", spec: Spec{Type: "is-json", Value: false}, out: text(`{}`)},
		{name: "internal ref", spec: Spec{Type: "is-json", Value: map[string]any{
			"definitions": map[string]any{"id": map[string]any{"type": "integer"}},
			"items":       map[string]any{"$ref": "#/definitions/id"},
		}}, out: text(`[1, 2.5]`)},
		{name: "not-is-json on prose", spec: Spec{Type: "not-is-json"}, out: text("hello"), pass: true},
		{name: "not-is-json on JSON", spec: Spec{Type: "not-is-json"}, out: text("{}"),
			reason: `expected output not to be valid JSON (got "{}")`},
		{name: "not-is-json with schema on mismatching JSON", spec: Spec{Type: "not-is-json", Value: latLong}, out: text(`{}`), pass: true},
		{name: "not-is-json with schema on matching JSON", spec: Spec{Type: "not-is-json", Value: latLong}, out: text(`{"latitude": 1, "longitude": 2}`),
			reason: `expected output not to be JSON matching the schema (got "{\"latitude\": 1, \"longitude\": 2}")`},
	})
}

func TestContainsJSON(t *testing.T) {
	named := map[string]any{"type": "object", "required": []any{"name"}}
	runChecks(t, []checkCase{
		{name: "object in prose", spec: Spec{Type: "contains-json"}, out: text(`Sure! {"a": 1} Anything else?`), pass: true},
		{name: "code fence", spec: Spec{Type: "contains-json"}, out: text("Here:\n```json\n{\"a\": [1, {\"b\": null}]}\n```"), pass: true},
		{name: "whole output", spec: Spec{Type: "contains-json"}, out: text(`{"a": 1}`), pass: true},
		{name: "list of objects", spec: Spec{Type: "contains-json"}, out: text(`Result: [{"id": 1}, {"id": 2}].`), pass: true},
		{name: "list of strings", spec: Spec{Type: "contains-json"}, out: text(`Tags: ["a", "b"]`), pass: true},
		{name: "citations are not JSON", spec: Spec{Type: "contains-json"}, out: text("See [1] and [2, 3]."),
			reason: `expected output to contain JSON (an object or list) (got "See [1] and [2, 3].")`},
		{name: "check boxes are not JSON", spec: Spec{Type: "contains-json"}, out: text("- [ ] buy milk\n- [] call")},
		{name: "JavaScript object is not JSON", spec: Spec{Type: "contains-json"}, out: text(`{a: 1}`)},
		{name: "single quotes are not JSON", spec: Spec{Type: "contains-json"}, out: text(`{'a': 1}`)},
		{name: "unclosed", spec: Spec{Type: "contains-json"}, out: text(`{"a": 1`)},
		{name: "braces inside strings", spec: Spec{Type: "contains-json"}, out: text(`x {"a": "}{]["} y`), pass: true},
		{name: "valid object inside invalid braces", spec: Spec{Type: "contains-json"}, out: text(`{ oops {"a": 1} }`), pass: true},
		{name: "after an unclosed brace", spec: Spec{Type: "contains-json"}, out: text(`use { then {"a": 1}`), pass: true},
		{name: "empty output", spec: Spec{Type: "contains-json"}, out: text(""),
			reason: `expected output to contain JSON (an object or list) (got empty output)`},
		{name: "schema: second object matches", spec: Spec{Type: "contains-json", Value: named},
			out: text(`first {"id": 1} then {"name": "x"}`), pass: true},
		{name: "schema: none matches", spec: Spec{Type: "contains-json", Value: named}, out: text(`first {"id": 1} then {"id": 2}`),
			reason: `no JSON in the output matches the schema: at "/": missing property 'name'`},
		{name: "schema: object inside a list", spec: Spec{Type: "contains-json", Value: named}, out: text(`[{"name": "x"}]`), pass: true},
		{name: "schema: list schema", spec: Spec{Type: "contains-json", Value: map[string]any{"type": "array", "minItems": 2.0}},
			out: text(`ids: [{"id": 1}, {"id": 2}]`), pass: true},
		{name: "schema: no JSON at all", spec: Spec{Type: "contains-json", Value: named}, out: text(`no json`),
			reason: `expected output to contain JSON (an object or list) (got "no json")`},
		{name: "not-contains-json on prose", spec: Spec{Type: "not-contains-json"}, out: text("plain [1] text"), pass: true},
		{name: "not-contains-json on JSON", spec: Spec{Type: "not-contains-json"}, out: text(`x {"a": 1}`),
			reason: `expected output not to contain JSON (got "x {\"a\": 1}")`},
		{name: "not-contains-json with schema, no match", spec: Spec{Type: "not-contains-json", Value: named}, out: text(`{"id": 1}`), pass: true},
		{name: "not-contains-json with schema, match", spec: Spec{Type: "not-contains-json", Value: named}, out: text(`{"name": "a"}`),
			reason: `expected output not to contain JSON matching the schema (got "{\"name\": \"a\"}")`},
	})
}

// TestContainsJSONHostile checks that hostile outputs finish (the test would
// time out otherwise) and still find JSON where a bounded scan can.
func TestContainsJSONHostile(t *testing.T) {
	a := mustCompile(t, Spec{Type: "contains-json"})
	for _, tc := range []struct {
		name string
		text string
		want bool
	}{
		{name: "many unclosed brackets", text: strings.Repeat("[", 200_000)},
		{name: "unclosed braces then JSON", text: strings.Repeat("{", 2_000) + `{"a": 1}`, want: true},
		{name: "gives up on too many unclosed braces", text: strings.Repeat("{", 50_000) + `{"a": 1}`},
		{name: "deep nesting", text: strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)},
		{name: "long whole output", text: `{"a": "` + strings.Repeat("x", 1<<21) + `"}`, want: true},
		{name: "long object in prose", text: `x {"a": "` + strings.Repeat("x", 1<<21) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.Check(text(tc.text)).Pass; got != tc.want {
				t.Errorf("Check(%q) pass = %v, want %v", truncate(tc.text, 20), got, tc.want)
			}
		})
	}
}
