package evals

import (
	"time"

	"github.com/evald/evald/scoring"
)

// Message is one chat message of a prompt. Content may hold {{var}} templates
// until it is rendered for a case.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Case is one test of a suite, fully resolved: its messages are rendered from
// the suite's prompt and its vars, and its assertions (defaultTest's first,
// then its own) are templated and compiled.
type Case struct {
	// ID is stable across runs: the explicit `id`, else a hash of the vars.
	ID          string
	Description string
	Vars        map[string]any
	Messages    []Message
	Asserts     []scoring.Assertion
	// Turns is the scripted conversation of a multi-turn case (nil for a
	// one-turn case): each turn's user message follows the model's real
	// earlier replies, and its assertions are Asserts[First:End].
	Turns []Turn
	// Source is where the case was defined ("suites/faq.yaml:14" or
	// "datasets/faq.jsonl:3"), for error messages and reports.
	Source string
}

// Thresholds are the governed pass bars of a suite. A nil field is not enforced.
type Thresholds struct {
	PassRate  *float64 `json:"pass_rate,omitempty"`
	MeanScore *float64 `json:"mean_score,omitempty"`
}

// Suite is a loaded, validated suite file.
type Suite struct {
	Name        string
	Description string
	// File is the path the suite was loaded from.
	File string
	// Prompt holds the message templates with file:// references resolved.
	Prompt  []Message
	Repeats int
	Cases   []Case
	// Thresholds are the values in the file; governance decides which apply.
	Thresholds Thresholds
	// MinEffect is drift.min_effect (nil: the drift package default).
	MinEffect *float64
	// Judge names the target that grades model-graded assertions (empty: the config's).
	Judge string
	// JudgeLine is the line of `judge:` in File (0 when absent), so that the
	// config loader can say where an unknown judge target was named.
	JudgeLine int
	// Calibration is the judge's calibration set (nil: none). It is not
	// part of Version.
	Calibration *Calibration
	// Timeout bounds a whole run of the suite (0: none): past it the run
	// stops and ends errored, and no retry waits beyond it. Not part of
	// Version.
	Timeout time.Duration

	// Tools are the suite's OpenAI tool definitions (nil: none; a
	// target's params.tools then applies). ToolsLine is the line of
	// `tools:` in File.
	Tools     []any
	ToolsLine int
	// ToolResults answers the model's tool calls, by tool name.
	ToolResults map[string][]ToolResult
	// MaxToolSteps bounds the tool round trips of a turn (0:
	// DefaultMaxToolSteps; see ToolSteps).
	MaxToolSteps int
	// RowNamed are the CSV datasets without an __id column: their cases
	// are named by file and line ("faq.csv:12"), ids that hold while the
	// rows are not reordered. validate says so.
	RowNamed []string

	// PromptVersion is the sha256 of the canonical prompt templates.
	PromptVersion string
	// Version is the sha256 of the canonical suite (see DESIGN.md "Versions").
	Version string
}

// FirstGraded returns the first case with a model-graded assertion
// (scoring.Graded) and that assertion's type; ok is false when no case has
// one.
func (s *Suite) FirstGraded() (c *Case, typ string, ok bool) {
	for i := range s.Cases {
		for _, a := range s.Cases[i].Asserts {
			if _, ok := a.(scoring.Graded); ok {
				return &s.Cases[i], a.Spec().Type, true
			}
		}
	}
	return nil, "", false
}

// NeedsJudge reports whether a run of the suite asks a judge: whether any
// case has a model-graded assertion. A calibration set alone does not make
// a run need the judge (runs never calibrate; serve calibrates after runs
// the judge graded, and `evald calibrate` asks for the judge itself).
func (s *Suite) NeedsJudge() bool {
	_, _, ok := s.FirstGraded()
	return ok
}
