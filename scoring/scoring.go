package scoring

import (
	"errors"
	"time"
)

// Spec is an assertion as a suite file states it, after templating.
type Spec struct {
	// Type is the assertion name, possibly with the "not-" prefix.
	Type string `json:"type"`
	// Value is the decoded YAML/JSON value: a string, number, bool,
	// []any or map[string]any.
	Value any `json:"value,omitempty"`
	// Threshold is the optional numeric threshold (its meaning depends on Type).
	Threshold *float64 `json:"threshold,omitempty"`
	// Weight is the assertion's weight in the sample score (default 1).
	Weight float64 `json:"weight"`
	// JudgePrompts replaces built-in judge prompts for the model-graded
	// types (a suite's judge_prompts); nil keeps them all. It travels with
	// the Spec so that compiling a.Spec() again grades the same way.
	JudgePrompts *JudgePrompts `json:"-"`
	// Tools are the suite's OpenAI tool definitions, for the assertions
	// that check calls against them (is-valid-openai-tools-call); they
	// travel with the Spec like JudgePrompts.
	Tools []any `json:"-"`
}

// Output is what a model produced for one sample, as the scorers see it.
type Output struct {
	Text      string
	Latency   time.Duration
	CostUSD   float64
	CostKnown bool
	// Input is the question the model answered (the last user message), for
	// the model-graded types that show it to the judge.
	Input string
	// Calls is the turn's trajectory: every tool call the model made
	// while answering, in order, with the results it was given.
	Calls []ToolCall
}

// Result is one assertion's verdict on one output.
type Result struct {
	Type   string  `json:"type"`
	Pass   bool    `json:"pass"`
	Score  float64 `json:"score"`
	Weight float64 `json:"weight"`
	Reason string  `json:"reason,omitempty"`
	// Missing marks a grade that could not be reached: the judge failed or
	// answered something unreadable (Reason quotes it). The sample is then
	// missing data, neither a pass nor a fail.
	Missing bool `json:"missing,omitempty"`
	// Turn is the 1-based turn of a multi-turn case the result is about
	// (0 in a one-turn case).
	Turn int `json:"turn,omitempty"`
}

// Assertion is a compiled, validated Spec ready to check outputs.
type Assertion interface {
	Spec() Spec
	Check(out Output) Result
}

// Sentinel errors returned (wrapped) by Compile.
var (
	ErrUnknownType  = errors.New("unknown assertion type")
	ErrBadValue     = errors.New("invalid value")
	ErrBadThreshold = errors.New("invalid threshold")
	ErrBadWeight    = errors.New("invalid weight")
)
