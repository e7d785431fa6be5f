package governance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/evald/evald/evals"
)

// Set is the governed set of a suite: everything that decides whether a run
// of it passes or pages. Two sets with the same meaning have the same
// canonical encoding (see Canonical): cases are kept sorted by id and a
// case's assertions sorted by their encoding, because neither order changes
// a verdict (a sample passes when all its assertions pass; scores are
// means).
type Set struct {
	// PassRate and MeanScore are thresholds.pass_rate and .mean_score
	// (nil: not set).
	PassRate  *float64 `json:"pass_rate,omitempty"`
	MeanScore *float64 `json:"mean_score,omitempty"`
	// MinEffect is drift.min_effect (nil: the drift default).
	MinEffect *float64 `json:"min_effect,omitempty"`
	// Repeats is the number of samples per case per run.
	Repeats int `json:"repeats"`
	// Judge is who grades the model-graded assertions (nil when the suite
	// has none).
	Judge *JudgeRef `json:"judge,omitempty"`
	// Tools is the sha256 of the canonical JSON of an agent suite's tool
	// definitions: their parameter schemas are the value of
	// is-valid-openai-tools-call and shape every call ("": not an agent
	// suite, so other suites keep their hashes).
	Tools string `json:"tools,omitempty"`
	// ToolResults is the sha256 of an agent suite's tool_results, the
	// cases' fixtures as vars are ("": not an agent suite).
	ToolResults string `json:"tool_results,omitempty"`
	// MaxToolSteps is an agent suite's tool round trips per turn, the
	// default written out (0: not an agent suite).
	MaxToolSteps int `json:"max_tool_steps,omitempty"`
	// Cases are the suite's cases, defaultTest's assertions included in
	// each.
	Cases []CaseBar `json:"cases"`

	// normal is set once the set is in canonical order (FromSuite,
	// ParseSet), so that Diff and Canonical need not sort it again.
	normal bool
}

// JudgeRef names the judge of a suite: its target and the model it asks.
type JudgeRef struct {
	Target string `json:"target"`
	Model  string `json:"model"`
}

func (j *JudgeRef) String() string {
	if j == nil {
		return "none"
	}
	return j.Target + " (model " + j.Model + ")"
}

// CaseBar is one case of a governed set: its id, the sha256 of its vars'
// canonical JSON (what it asks), and its assertions (defaultTest's and its
// own) after templating.
type CaseBar struct {
	ID   string `json:"id"`
	Vars string `json:"vars"`
	// Turns is the sha256 of a multi-turn case's user messages ("" for a
	// one-turn case): like vars, what the case asks.
	Turns   string      `json:"turns,omitempty"`
	Asserts []AssertBar `json:"assert"`
}

// AssertBar is one assertion of a case as the verdict depends on it.
type AssertBar struct {
	Type      string          `json:"type"`
	Value     json.RawMessage `json:"value,omitempty"`
	Threshold *float64        `json:"threshold,omitempty"`
	Weight    float64         `json:"weight"`
	// JudgePrompts is the sha256 of the judge prompts the suite's
	// judge_prompts put in place of the built-in ones for this type ("":
	// the built-in prompts): a replaced prompt decides the grade as much as
	// the rubric does.
	JudgePrompts string `json:"judge_prompts,omitempty"`
	// Turn is the 1-based turn of a multi-turn case the assertion checks
	// (0 in a one-turn case).
	Turn int `json:"turn,omitempty"`
}

// FromSuite returns the governed set of s as its files state it. judge is
// the suite's judge (its `judge:`, else the config's, with that target's
// model); it is kept only when a case has a model-graded assertion. A nil
// suite has an empty set.
func FromSuite(s *evals.Suite, judge *JudgeRef) Set {
	set := Set{Cases: []CaseBar{}}
	if s == nil {
		return set
	}
	set.PassRate = clone(s.Thresholds.PassRate)
	set.MeanScore = clone(s.Thresholds.MeanScore)
	set.MinEffect = clone(s.MinEffect)
	set.Repeats = s.Repeats
	if judge != nil && s.NeedsJudge() {
		j := *judge
		set.Judge = &j
	}
	if s.IsAgent() {
		set.Tools = jsonHash(s.ToolsJSON())
		set.ToolResults = jsonHash(s.ToolResultsJSON())
		set.MaxToolSteps = s.ToolSteps()
	}
	prompts := map[string]string{} // by type: the suite's judge_prompts are one set
	for _, c := range s.Cases {
		cb := CaseBar{ID: c.ID, Vars: varsHash(c.Vars), Asserts: []AssertBar{}}
		if c.Turns != nil {
			users := make([]any, len(c.Turns))
			for i, t := range c.Turns {
				users[i] = t.User
			}
			cb.Turns = varsHash(map[string]any{"users": users})
		}
		for ai, a := range c.Asserts {
			if a == nil {
				continue
			}
			sp := a.Spec()
			ab := AssertBar{Type: sp.Type, Threshold: clone(sp.Threshold), Weight: sp.Weight, Turn: turnOf(c, ai)}
			if sp.JudgePrompts != nil {
				h, ok := prompts[sp.Type]
				if !ok {
					h = promptsHash(sp.JudgePrompts.Overrides(sp.Type))
					prompts[sp.Type] = h
				}
				ab.JudgePrompts = h
			}
			if sp.Value != nil {
				v, err := evals.CanonicalJSON(sp.Value)
				if err != nil {
					// A loaded suite holds plain JSON values; keep the
					// failure visible in the set rather than drop it.
					v, _ = json.Marshal("unencodable: " + err.Error())
				}
				ab.Value = v
			}
			cb.Asserts = append(cb.Asserts, ab)
		}
		set.Cases = append(set.Cases, cb)
	}
	set.sort() // values are canonical already
	return set
}

// turnOf is the 1-based turn of c's assertion i (0 for a one-turn case).
func turnOf(c evals.Case, i int) int {
	for k, t := range c.Turns {
		if i >= t.First && i < t.End {
			return k + 1
		}
	}
	return 0
}

// promptsHash is the hex sha256 of the canonical JSON of replaced judge
// prompts by name, "" when none is replaced.
func promptsHash(texts map[string]string) string {
	if len(texts) == 0 {
		return ""
	}
	b, err := json.Marshal(texts) // map keys are sorted
	if err != nil {
		b = []byte(err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// varsHash is the hex sha256 of the canonical JSON of vars.
func varsHash(vars map[string]any) string {
	if vars == nil {
		vars = map[string]any{}
	}
	return jsonHash(vars)
}

// jsonHash is the hex sha256 of the canonical JSON of a plain JSON value.
func jsonHash(v any) string {
	b, err := evals.CanonicalJSON(v)
	if err != nil {
		b = []byte(err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// normalize re-encodes assertion values canonically, then sorts.
func (s *Set) normalize() {
	if s.normal {
		return
	}
	for i := range s.Cases {
		for j := range s.Cases[i].Asserts {
			if a := &s.Cases[i].Asserts[j]; len(a.Value) > 0 {
				a.Value = canonicalRaw(a.Value)
			}
		}
	}
	s.sort()
}

// sort puts the cases in id order and each case's assertions in the order
// of their encoding; values must be canonical already.
func (s *Set) sort() {
	s.normal = true
	if s.Cases == nil {
		s.Cases = []CaseBar{}
	}
	for i := range s.Cases {
		c := &s.Cases[i]
		if c.Asserts == nil {
			c.Asserts = []AssertBar{}
		}
		if len(c.Asserts) < 2 {
			continue
		}
		type keyed struct {
			a   AssertBar
			key []byte
		}
		ks := make([]keyed, len(c.Asserts))
		for j, a := range c.Asserts {
			ks[j] = keyed{a, a.encode()}
		}
		slices.SortStableFunc(ks, func(x, y keyed) int { return bytes.Compare(x.key, y.key) })
		for j := range ks {
			c.Asserts[j] = ks[j].a
		}
	}
	slices.SortStableFunc(s.Cases, func(x, y CaseBar) int { return strings.Compare(x.ID, y.ID) })
}

// canonicalRaw re-encodes a JSON value canonically (sorted keys, numbers
// as evals.CanonicalJSON writes them); an undecodable value is kept.
func canonicalRaw(raw json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	b, err := evals.CanonicalJSON(v)
	if err != nil {
		return raw
	}
	return b
}

func (a AssertBar) encode() []byte {
	b, err := json.Marshal(a)
	if err != nil {
		return []byte(err.Error())
	}
	return b
}

// Canonical returns the set's canonical encoding, the input of Hash: JSON
// with the fields in the order of the Set type, cases sorted by id, a
// case's assertions sorted by their encoding, and assertion values as
// canonical JSON. Equal sets have equal encodings whatever order their
// files list cases and assertions in.
func (s Set) Canonical() []byte {
	c := s
	if !s.normal {
		c = s.clone()
		c.normalize()
	}
	b, err := json.Marshal(c)
	if err != nil {
		// Only a hand-built set with a NaN or an infinity gets here; it
		// must still hash apart from every loadable set.
		return []byte(fmt.Sprintf(`{"unencodable":%q}`, err.Error()))
	}
	return b
}

// Hash is the lowercase hex sha256 of the canonical encoding.
func (s Set) Hash() string {
	sum := sha256.Sum256(s.Canonical())
	return hex.EncodeToString(sum[:])
}

// Equal reports whether s and o have the same canonical encoding.
func (s Set) Equal(o Set) bool { return bytes.Equal(s.Canonical(), o.Canonical()) }

// ParseSet reads a set written by Canonical (or any JSON of the same
// shape) back. Unknown fields are errors.
func ParseSet(b []byte) (Set, error) {
	var s Set
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Set{}, fmt.Errorf("governed set: %w", err)
	}
	s.normalize()
	return s, nil
}

// Case returns the case with the given id, or nil.
func (s Set) Case(id string) *CaseBar {
	i, ok := slices.BinarySearchFunc(s.Cases, id, func(c CaseBar, id string) int { return strings.Compare(c.ID, id) })
	if !ok {
		return nil
	}
	return &s.Cases[i]
}

func (s Set) clone() Set {
	c := s
	c.PassRate, c.MeanScore, c.MinEffect = clone(s.PassRate), clone(s.MeanScore), clone(s.MinEffect)
	if s.Judge != nil {
		j := *s.Judge
		c.Judge = &j
	}
	c.Cases = make([]CaseBar, len(s.Cases))
	for i, cb := range s.Cases {
		cb.Asserts = slices.Clone(cb.Asserts)
		c.Cases[i] = cb
	}
	return c
}

func clone(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// caseKey writes a case id as it appears in a change's key. An id holding
// '[', ']', '"', '\\', a control character, or nothing at all is written
// Go-quoted (tests["a]b"]), so keys stay unambiguous.
func caseKey(id string) string {
	if id == "" || strings.ContainsAny(id, `[]"\`) || strings.ContainsFunc(id, func(r rune) bool {
		return unicode.IsControl(r) || r == unicode.ReplacementChar
	}) {
		return strconv.Quote(id)
	}
	return id
}

// label names an assertion in a change's key: its type and the start of
// its value.
func (a AssertBar) label() string {
	if a.Turn > 0 {
		c := a
		c.Turn = 0
		return "turn " + strconv.Itoa(a.Turn) + " " + c.label()
	}
	if len(a.Value) == 0 {
		return a.Type
	}
	v := string(a.Value)
	if r := []rune(v); len(r) > 40 {
		v = string(r[:39]) + "…"
	}
	return a.Type + " " + v
}

// describe prints an assertion whole, for the old and new sides of a
// change.
func (a AssertBar) describe() string {
	var b strings.Builder
	if a.Turn > 0 {
		b.WriteString("turn " + strconv.Itoa(a.Turn) + ": ")
	}
	b.WriteString(a.Type)
	if len(a.Value) > 0 {
		b.WriteString(" " + string(a.Value))
	}
	if a.Threshold != nil {
		b.WriteString(" threshold " + strconv.FormatFloat(*a.Threshold, 'g', -1, 64))
	}
	if a.Weight != 1 {
		b.WriteString(" weight " + strconv.FormatFloat(a.Weight, 'g', -1, 64))
	}
	if a.JudgePrompts != "" {
		b.WriteString(" judge prompts sha256 " + a.JudgePrompts[:12])
	}
	return b.String()
}

// sameBut reports whether two assertions differ only in the threshold.
func (a AssertBar) sameBut(o AssertBar) bool {
	return a.Type == o.Type && bytes.Equal(a.Value, o.Value) && a.Weight == o.Weight && a.JudgePrompts == o.JudgePrompts && a.Turn == o.Turn
}
