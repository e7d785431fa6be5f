package evals

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/evald/evald/scoring"
)

// CanonicalJSON encodes v as canonical JSON: object keys sorted, no
// insignificant whitespace, no HTML escaping, and numbers normalised so that
// 1, 1.0 and 1e0 encode alike (integral values as integers, others in the
// shortest form that round-trips). Versions are sha256 sums of it, so the
// same content always has the same version whatever its formatting.
func CanonicalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := canon(&b, v, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func canon(b *bytes.Buffer, v any, depth int) error {
	if depth > 1000 {
		return errors.New("nested more than 1000 levels deep")
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		canonString(b, x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			b.WriteString(strconv.FormatInt(i, 10))
			return nil
		}
		f, err := x.Float64()
		if err != nil {
			return fmt.Errorf("canonical json: bad number %q", x)
		}
		return canonFloat(b, f)
	case float64:
		return canonFloat(b, x)
	case float32:
		return canonFloat(b, float64(x))
	case int:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := canon(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			canonString(b, k)
			b.WriteByte(':')
			if err := canon(b, x[k], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		// Anything else (structs, typed slices and maps, pointers) goes
		// through encoding/json first and is then normalised.
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			b.WriteString("null")
			return nil
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("canonical json: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var generic any
		if err := dec.Decode(&generic); err != nil {
			return fmt.Errorf("canonical json: %w", err)
		}
		return canon(b, generic, depth+1)
	}
	return nil
}

func canonFloat(b *bytes.Buffer, f float64) error {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return fmt.Errorf("canonical json: %v is not a JSON number", f)
	case f == math.Trunc(f) && math.Abs(f) < 1<<63:
		b.WriteString(strconv.FormatInt(int64(f), 10))
	default:
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return nil
}

func canonString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
}

// hashOf is the hex sha256 of v's canonical JSON.
func hashOf(v any) (string, error) {
	b, err := CanonicalJSON(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// promptVersion hashes the prompt templates (roles and contents after
// file:// resolution, before rendering). "{{ x }}" and "{{x}}" render alike
// and hash alike.
func promptVersion(prompt []Message) (string, error) {
	list := make([]any, len(prompt))
	for i, m := range prompt {
		content := templateExpr.ReplaceAllStringFunc(m.Content, func(t string) string {
			if name := strings.TrimSpace(t[2 : len(t)-2]); varName.MatchString(name) {
				return "{{" + name + "}}"
			}
			return t
		})
		list[i] = map[string]any{"role": m.Role, "content": content}
	}
	return hashOf(list)
}

// specJSON is an assertion as it enters the suite version.
func specJSON(s scoring.Spec) map[string]any {
	m := map[string]any{"type": s.Type, "value": s.Value, "weight": s.Weight}
	if s.Threshold != nil {
		m["threshold"] = *s.Threshold
	} else {
		m["threshold"] = nil
	}
	// A replaced judge prompt decides the grades as much as the rubric
	// does; built-in prompts are left out, so versions without
	// judge_prompts stay as they were.
	if o := s.JudgePrompts.Overrides(s.Type); o != nil {
		texts := make(map[string]any, len(o))
		for k, v := range o {
			texts[k] = v
		}
		m["judge_prompts"] = texts
	}
	return m
}

// suiteVersion hashes what decides a suite's scores: the prompt version,
// repeats and the resolved cases (id, vars, templated assertions as
// compiled, with the judge_prompts their types grade with) in file order.
// Names, descriptions, thresholds, drift settings and the judge are not
// part of it.
func suiteVersion(pv string, repeats int, cases []Case) (string, error) {
	return suiteVersionAgent(pv, repeats, cases, nil)
}

// version is the suite's Version: suiteVersion, with the agent settings
// (tools, tool_results, max_tool_steps) when the suite has any.
func (s *Suite) version() (string, error) {
	var agent map[string]any
	if s.IsAgent() {
		agent = agentJSON(s)
	}
	return suiteVersionAgent(s.PromptVersion, s.Repeats, s.Cases, agent)
}

// suiteVersionAgent is suiteVersion with an agent suite's settings (nil:
// none) and each case's turns.
func suiteVersionAgent(pv string, repeats int, cases []Case, agent map[string]any) (string, error) {
	// The canonical JSON of {"cases": [...], "prompt_version", "repeats"},
	// hashed as it is written a case at a time: a suite of many cases is
	// never copied whole.
	h := sha256.New()
	var b bytes.Buffer
	b.WriteString(`{"cases":[`)
	for i, c := range cases {
		if i > 0 {
			b.WriteByte(',')
		}
		asserts := make([]any, len(c.Asserts))
		for j, a := range c.Asserts {
			asserts[j] = specJSON(a.Spec())
		}
		entry := map[string]any{"id": c.ID, "vars": c.Vars, "assert": asserts}
		if c.Turns != nil {
			ts := make([]any, len(c.Turns))
			for k, t := range c.Turns {
				ts[k] = map[string]any{"user": t.User, "first": t.First, "end": t.End}
			}
			entry["turns"] = ts
		}
		if err := canon(&b, entry, 2); err != nil {
			return "", err
		}
		if b.Len() >= 32<<10 {
			h.Write(b.Bytes())
			b.Reset()
		}
	}
	b.WriteString(`]`)
	if agent != nil {
		b.WriteString(`,"max_tool_steps":`)
		if err := canon(&b, agent["max_tool_steps"], 1); err != nil {
			return "", err
		}
	}
	b.WriteString(`,"prompt_version":`)
	canonString(&b, pv)
	b.WriteString(`,"repeats":` + strconv.Itoa(repeats))
	if agent != nil {
		b.WriteString(`,"tool_results":`)
		if err := canon(&b, agent["tool_results"], 1); err != nil {
			return "", err
		}
		b.WriteString(`,"tools":`)
		if err := canon(&b, agent["tools"], 1); err != nil {
			return "", err
		}
	}
	b.WriteString("}")
	h.Write(b.Bytes())
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WithPrompt returns a copy of s that sends prompt instead of s.Prompt, such
// as the candidate prompt of `evald run --prompt`: every case's messages are
// rendered from its vars again, and PromptVersion and Version recomputed.
// The cases' vars and assertions are shared with s. Errors wrap
// ErrMissingVar or ErrTemplate and name the case.
func (s *Suite) WithPrompt(prompt []Message) (*Suite, error) {
	out := *s
	out.Prompt = slices.Clone(prompt)
	out.Cases = make([]Case, len(s.Cases))
	var errs []error
	for i, c := range s.Cases {
		msgs, err := RenderMessages(prompt, c.Vars)
		if err != nil {
			errs = append(errs, fmt.Errorf("case %s (%s): %w", c.ID, c.Source, err))
		}
		c.Messages = msgs
		out.Cases[i] = c
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var err error
	if out.PromptVersion, err = promptVersion(prompt); err == nil {
		out.Version, err = out.version()
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}
