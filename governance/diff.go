package governance

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// Direction is how a change moves a governed value.
type Direction string

// Directions of a Change. Which way is looser depends on the value (see
// direction.go); Changed is for changes with no looser side, or none that
// can be told (repeats, the judge, an assertion's value or weight).
const (
	Loosened  Direction = "loosened"
	Tightened Direction = "tightened"
	Changed   Direction = "changed"
	Added     Direction = "added"
	Removed   Direction = "removed"
)

// Change is one governed value that differs between a signed-off set and a
// suite's files. Numbers are in Old and New (nil: unset); everything else
// (a case, an assertion, the judge) in OldText and NewText ("": absent).
// NeedsSignoff is false only for a change that can only make a run harder
// to pass or quicker to page (see Diff).
type Change struct {
	Key          string    `json:"key"`
	Old          *float64  `json:"old"`
	New          *float64  `json:"new"`
	OldText      string    `json:"old_text,omitempty"`
	NewText      string    `json:"new_text,omitempty"`
	Direction    Direction `json:"direction"`
	NeedsSignoff bool      `json:"needs_signoff"`
}

// Keys of the suite-level governed values, as changes name them.
const (
	KeyPassRate  = "pass_rate"
	KeyMeanScore = "mean_score"
	KeyMinEffect = "drift.min_effect"
	KeyRepeats   = "repeats"
	KeyJudge     = "judge"
	// An agent suite's tool definitions, tool results and round trips.
	KeyTools        = "tools"
	KeyToolResults  = "tool_results"
	KeyMaxToolSteps = "max_tool_steps"
)

// Diff lists what file changes relative to signed: the suite-level values
// first (pass_rate, mean_score, drift.min_effect, repeats, judge, an agent
// suite's tools, tool_results and max_tool_steps), then the
// cases in id order, each case's own changes together. Two equal sets have
// no changes. How each kind of change is classified (docs/formats.md,
// "Governed thresholds", has the table):
//
//   - pass_rate, mean_score: raised or added tightens; lowered or removed
//     loosens.
//   - drift.min_effect: lowered tightens (a smaller drop pages); raised
//     loosens; added or removed changes (the default is not ours to know).
//   - repeats, the judge's target or model: changed.
//   - an agent suite's tools (their JSON Schemas) or tool_results: changed;
//     max_tool_steps lowered tightens, raised loosens.
//   - a case removed: removed; its vars changed: changed.
//   - a case added: the pass rate and mean score are means over cases, so
//     a case that always passes lifts them as surely as deleting a failing
//     one: it needs a sign-off when the suite has a pass_rate or mean_score
//     bar, and is allowed when it has none.
//   - an assertion removed, or its type (contains -> icontains, the not-
//     form), value or weight changed: the old one is removed and the new
//     one added, or, when only the weight or value changed, changed.
//   - an assertion added to a case: a sample passes only when all its
//     assertions pass, so it can only tighten the pass rate; but with a
//     weight above 0 it joins the weighted mean of the sample score and can
//     lift it, so it needs a sign-off when the suite has a mean_score bar.
//   - an assertion's threshold moved: by its type's bound (a minimum score
//     for most types, a maximum for levenshtein, latency, cost and
//     perplexity, the opposite for a not- form); written in or taken out
//     (the type's default applies) changes.
//
// Every change but a tightening (and the allowed additions above) has
// NeedsSignoff set.
func Diff(signed, file Set) []Change {
	for _, s := range []*Set{&signed, &file} {
		if !s.normal {
			*s = s.clone()
			s.normalize()
		}
	}
	var out []Change
	out = append(out, floorChange(KeyPassRate, signed.PassRate, file.PassRate)...)
	out = append(out, floorChange(KeyMeanScore, signed.MeanScore, file.MeanScore)...)
	if o, n := signed.MinEffect, file.MinEffect; !samePtr(o, n) {
		c := Change{Key: KeyMinEffect, Old: o, New: n, Direction: Changed}
		if o != nil && n != nil {
			c.Direction = direction(ceiling, *o, *n)
		}
		out = append(out, c.classify())
	}
	if signed.Repeats != file.Repeats {
		o, n := float64(signed.Repeats), float64(file.Repeats)
		out = append(out, Change{Key: KeyRepeats, Old: &o, New: &n, Direction: Changed}.classify())
	}
	switch o, n := signed.Judge, file.Judge; {
	case o != nil && n != nil && *o != *n:
		out = append(out, Change{Key: KeyJudge, OldText: o.String(), NewText: n.String(), Direction: Changed}.classify())
	case o == nil && n != nil:
		// The first graded assertions bring their judge; they are
		// classified themselves.
		out = append(out, Change{Key: KeyJudge, NewText: n.String(), Direction: Added})
	case o != nil && n == nil:
		out = append(out, Change{Key: KeyJudge, OldText: o.String(), Direction: Removed}.classify())
	}
	out = append(out, agentChanges(signed, file)...)
	rateBar := file.PassRate != nil || file.MeanScore != nil
	i, j := 0, 0
	for i < len(signed.Cases) || j < len(file.Cases) {
		switch {
		case j == len(file.Cases) || i < len(signed.Cases) && signed.Cases[i].ID < file.Cases[j].ID:
			c := signed.Cases[i]
			out = append(out, Change{Key: "tests[" + caseKey(c.ID) + "]", OldText: caseText(c), Direction: Removed}.classify())
			i++
		case i == len(signed.Cases) || file.Cases[j].ID < signed.Cases[i].ID:
			c := file.Cases[j]
			out = append(out, Change{Key: "tests[" + caseKey(c.ID) + "]", NewText: caseText(c), Direction: Added, NeedsSignoff: rateBar})
			j++
		default:
			out = append(out, caseChanges(signed.Cases[i], file.Cases[j], file.MeanScore != nil)...)
			i++
			j++
		}
	}
	return out
}

// agentChanges compares an agent suite's tools, tool results and
// max_tool_steps. A schema or a fixture changed either way can turn
// failing samples into passing ones (is-valid-openai-tools-call has no
// value but the schemas; a tool's answer decides what the model says), so
// both need a sign-off; fewer round trips tighten (a looping agent fails
// sooner), more loosen.
func agentChanges(signed, file Set) []Change {
	var out []Change
	if signed.Tools != file.Tools {
		out = append(out, Change{Key: KeyTools, OldText: hashText(signed.Tools), NewText: hashText(file.Tools), Direction: Changed}.classify())
	}
	if signed.ToolResults != file.ToolResults {
		out = append(out, Change{Key: KeyToolResults, OldText: hashText(signed.ToolResults), NewText: hashText(file.ToolResults), Direction: Changed}.classify())
	}
	if o, n := signed.MaxToolSteps, file.MaxToolSteps; o != n {
		of, nf := float64(o), float64(n)
		c := Change{Key: KeyMaxToolSteps, Old: &of, New: &nf, Direction: Changed}
		switch {
		case o == 0 || n == 0: // became or stopped being an agent suite
			c.Old, c.New = nil, nil
			if o != 0 {
				c.Old = &of
			}
			if n != 0 {
				c.New = &nf
			}
		default:
			c.Direction = direction(ceiling, of, nf)
		}
		out = append(out, c.classify())
	}
	return out
}

// floorChange compares a minimum (pass_rate, mean_score).
func floorChange(key string, o, n *float64) []Change {
	if samePtr(o, n) {
		return nil
	}
	c := Change{Key: key, Old: o, New: n}
	switch {
	case o == nil:
		c.Direction = Added // a bar where there was none
		c.NeedsSignoff = false
		return []Change{c}
	case n == nil:
		c.Direction = Removed
	default:
		c.Direction = direction(floor, *o, *n)
	}
	return []Change{c.classify()}
}

// classify sets NeedsSignoff from the direction: only a tightening goes
// without one.
func (c Change) classify() Change {
	c.NeedsSignoff = c.Direction != Tightened
	return c
}

func caseText(c CaseBar) string {
	n := len(c.Asserts)
	if n == 1 {
		return "case with 1 assertion"
	}
	return "case with " + strconv.Itoa(n) + " assertions"
}

// hashText shows a hash in a change ("none" when empty).
func hashText(h string) string {
	if h == "" {
		return "none"
	}
	return "sha256 " + h[:min(12, len(h))]
}

// caseChanges compares one case's two versions.
func caseChanges(o, n CaseBar, meanBar bool) []Change {
	key := "tests[" + caseKey(n.ID) + "]"
	var out []Change
	if o.Vars != n.Vars {
		out = append(out, Change{Key: key + ".vars", OldText: "sha256 " + o.Vars[:min(12, len(o.Vars))], NewText: "sha256 " + n.Vars[:min(12, len(n.Vars))], Direction: Changed}.classify())
	}
	if o.Turns != n.Turns {
		out = append(out, Change{Key: key + ".turns", OldText: hashText(o.Turns), NewText: hashText(n.Turns), Direction: Changed}.classify())
	}
	// Assertions present on both sides unchanged are dropped first.
	olds, news := slicesClone(o.Asserts), slicesClone(n.Asserts)
	for a := 0; a < len(olds); a++ {
		for b := range news {
			if bytes.Equal(olds[a].encode(), news[b].encode()) {
				olds = append(olds[:a], olds[a+1:]...)
				news = append(news[:b], news[b+1:]...)
				a--
				break
			}
		}
	}
	// An assertion whose threshold alone moved is paired with its old self.
	for a := 0; a < len(olds); a++ {
		for b := range news {
			if !olds[a].sameBut(news[b]) {
				continue
			}
			oa, na := olds[a], news[b]
			c := Change{Key: key + ".assert(" + na.label() + ").threshold", Old: oa.Threshold, New: na.Threshold, Direction: Changed}
			if oa.Threshold != nil && na.Threshold != nil {
				c.Direction = direction(assertBound(na.Type), *oa.Threshold, *na.Threshold)
			}
			out = append(out, c.classify())
			olds = append(olds[:a], olds[a+1:]...)
			news = append(news[:b], news[b+1:]...)
			a--
			break
		}
	}
	// Same type and value, other weight (or threshold and weight): changed.
	for a := 0; a < len(olds); a++ {
		for b := range news {
			if olds[a].Type != news[b].Type || !bytes.Equal(olds[a].Value, news[b].Value) {
				continue
			}
			out = append(out, Change{Key: key + ".assert(" + news[b].label() + ")", OldText: olds[a].describe(), NewText: news[b].describe(), Direction: Changed}.classify())
			olds = append(olds[:a], olds[a+1:]...)
			news = append(news[:b], news[b+1:]...)
			a--
			break
		}
	}
	for _, a := range olds {
		out = append(out, Change{Key: key + ".assert(" + a.label() + ")", OldText: a.describe(), Direction: Removed}.classify())
	}
	for _, a := range news {
		out = append(out, Change{Key: key + ".assert(" + a.label() + ")", NewText: a.describe(), Direction: Added, NeedsSignoff: meanBar && a.Weight > 0})
	}
	return out
}

func slicesClone(a []AssertBar) []AssertBar { return append([]AssertBar(nil), a...) }

func samePtr(a, b *float64) bool {
	return a == nil && b == nil || a != nil && b != nil && (*a == *b || math.IsNaN(*a) && math.IsNaN(*b))
}

// NeedsSignoff reports whether any of changes needs a sign-off.
func NeedsSignoff(changes []Change) bool {
	for _, c := range changes {
		if c.NeedsSignoff {
			return true
		}
	}
	return false
}

// String prints the change as a reviewer reads it:
//
//	pass_rate 0.90 -> 0.80 (loosened)
//	tests[refund].assert(levenshtein "You have 30 days").threshold 10 -> 12 (loosened)
//	tests[refund].assert(contains "30 days") contains "30 days" -> absent (removed)
//	tests[new-case] absent -> case with 2 assertions (added, needs sign-off)
//
// Both numbers get the same number of decimals: none when both are whole,
// else at least two and as many as either needs.
func (c Change) String() string {
	var old, new string
	if c.Old != nil || c.New != nil || c.OldText == "" && c.NewText == "" {
		old, new = c.numbers()
	} else {
		old, new = orAbsent(c.OldText), orAbsent(c.NewText)
	}
	dir := string(c.Direction)
	if c.Direction == Added && c.NeedsSignoff {
		dir += ", needs sign-off"
	}
	return c.Key + " " + old + " -> " + new + " (" + dir + ")"
}

// Values returns the change's old and new sides as String prints them.
func (c Change) Values() (old, new string) {
	if c.Old != nil || c.New != nil || c.OldText == "" && c.NewText == "" {
		return c.numbers()
	}
	return orAbsent(c.OldText), orAbsent(c.NewText)
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

func (c Change) numbers() (string, string) {
	decimals := 0
	for _, v := range []*float64{c.Old, c.New} {
		if v != nil {
			decimals = max(decimals, decimalsOf(*v))
		}
	}
	if decimals > 0 {
		decimals = max(decimals, 2)
	}
	show := func(v *float64) string {
		if v == nil {
			return "unset"
		}
		if math.IsNaN(*v) || math.IsInf(*v, 0) {
			return strconv.FormatFloat(*v, 'g', -1, 64)
		}
		return strconv.FormatFloat(*v, 'f', decimals, 64)
	}
	return show(c.Old), show(c.New)
}

// decimalsOf is the number of decimals v's shortest exact decimal needs.
func decimalsOf(v float64) int {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if _, frac, ok := strings.Cut(s, "."); ok {
		return len(frac)
	}
	return 0
}

// FormatDiff prints changes one per line, each line ending in a newline;
// no changes print as "".
func FormatDiff(changes []Change) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	return b.String()
}
