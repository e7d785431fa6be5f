// Package api holds the JSON shapes of evald's HTTP API (/api/runs,
// /api/runs/{id} and /api/suites/{name}/signoff): the server writes them and `evald run --server` reads
// them, so both sides share one definition and cannot drift apart. It
// converts to and from store rows and does no I/O: no HTTP, no SQL.
//
// Field names follow `evald history --json` where the two overlap.
package api

import (
	"encoding/json"
	"time"

	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

// Run is a run as the API shows it.
type Run struct {
	RunID   int64  `json:"run_id"`
	Suite   string `json:"suite"`
	Target  string `json:"target"`
	Trigger string `json:"trigger"`
	Status  string `json:"status"`
	// Role is what the run measured: production, candidate or reference
	// (production's side of a CI gate's side-by-side comparison).
	Role          string          `json:"role"`
	StartedAt     time.Time       `json:"started_at"`
	FinishedAt    *time.Time      `json:"finished_at"`
	PassRate      *float64        `json:"pass_rate"`
	MeanScore     *float64        `json:"mean_score"`
	SuiteVersion  string          `json:"suite_version"`
	PromptVersion string          `json:"prompt_version"`
	TargetVersion string          `json:"target_version"`
	Verdict       string          `json:"verdict"`
	Cases         int             `json:"cases"`
	Samples       int             `json:"samples"`
	Errors        int             `json:"errors"`
	CostUSD       float64         `json:"cost_usd"`
	DurationMS    int64           `json:"duration_ms"`
	Detail        json.RawMessage `json:"detail,omitempty"`
	// SamplesPrunedAt is when storage.retain_samples deleted the run's
	// samples and assertion results; absent while they are kept.
	SamplesPrunedAt *time.Time `json:"samples_pruned_at,omitempty"`
}

// RunWithSamples is GET /api/runs/{id}: the run with its samples, whose
// "samples" field is the list where a Run alone has the count.
type RunWithSamples struct {
	Run
	// Drift is the run's drift verdict with its numbers, as the detector
	// gave it (drift.Verdict: kind, message, D, SEs, p, S of H, change run,
	// evidence); absent for runs without one.
	Drift   json.RawMessage `json:"drift,omitempty"`
	Samples []Sample        `json:"samples"`
}

// WithDrift returns r with the run's stored verdict detail as Drift, when
// it is a JSON object.
func (r RunWithSamples) WithDrift(detail string) RunWithSamples {
	if len(detail) > 0 && detail[0] == '{' && json.Valid([]byte(detail)) {
		r.Drift = json.RawMessage(detail)
	}
	return r
}

// Assertion is one assertion's result on a sample.
type Assertion struct {
	Type   string  `json:"type"`
	Pass   bool    `json:"pass"`
	Score  float64 `json:"score"`
	Weight float64 `json:"weight"`
	Reason string  `json:"reason,omitempty"`
	// Turn is the 1-based turn of a conversation it checked (absent: a
	// one-turn case).
	Turn int `json:"turn,omitempty"`
}

// Sample is one answer with its grades.
type Sample struct {
	CaseID string `json:"case_id"`
	Repeat int    `json:"repeat"`
	Output string `json:"output"`
	// OutputURL, set when Output was clipped at MaxOutputShown bytes, is
	// the path of the whole output.
	OutputURL        string      `json:"output_url,omitempty"`
	FinishReason     string      `json:"finish_reason"`
	LatencyMS        float64     `json:"latency_ms"`
	PromptTokens     int         `json:"prompt_tokens"`
	CompletionTokens int         `json:"completion_tokens"`
	Model            string      `json:"model"`
	Fingerprint      string      `json:"system_fingerprint"`
	ErrorClass       string      `json:"error_class,omitempty"`
	ErrorText        string      `json:"error,omitempty"`
	Attempts         int         `json:"attempts"`
	Pass             bool        `json:"pass"`
	Score            float64     `json:"score"`
	Assertions       []Assertion `json:"assertions"`
	// The judge that graded the model-graded assertions; absent when none did.
	JudgeModel            string  `json:"judge_model,omitempty"`
	JudgeFingerprint      string  `json:"judge_system_fingerprint,omitempty"`
	JudgePromptTokens     int     `json:"judge_prompt_tokens,omitempty"`
	JudgeCompletionTokens int     `json:"judge_completion_tokens,omitempty"`
	JudgeCostUSD          float64 `json:"judge_cost_usd,omitempty"`
	// Turns is what an agent suite's sample went through: per turn the
	// user's message, the final text and the tool calls with their
	// arguments and results (absent for other samples).
	Turns json.RawMessage `json:"turns,omitempty"`
}

// FromRun is r as the API shows it. A Detail that is not valid JSON is left
// out rather than breaking the answer.
func FromRun(r store.Run) Run {
	j := Run{
		RunID: r.ID, Suite: r.Suite, Target: r.Target, Trigger: r.Trigger, Status: string(r.Status), Role: string(r.Role),
		StartedAt: r.StartedAt.UTC(), PassRate: r.PassRate, MeanScore: r.MeanScore,
		SuiteVersion: r.SuiteVersion, PromptVersion: r.PromptVersion, TargetVersion: r.TargetVersion,
		Verdict: r.Verdict, Cases: r.Cases, Samples: r.Samples, Errors: r.Errors, CostUSD: r.CostUSD, DurationMS: r.DurationMS,
	}
	if !r.FinishedAt.IsZero() {
		f := r.FinishedAt.UTC()
		j.FinishedAt = &f
	}
	if json.Valid([]byte(r.Detail)) {
		j.Detail = json.RawMessage(r.Detail)
	}
	if !r.SamplesPrunedAt.IsZero() {
		p := r.SamplesPrunedAt.UTC()
		j.SamplesPrunedAt = &p
	}
	return j
}

// Store is the run as a store row (what a client needs of it: identity,
// versions, status, rates, counts and detail).
func (a Run) Store() store.Run {
	r := store.Run{ID: a.RunID, Suite: a.Suite, Target: a.Target, Trigger: a.Trigger, Status: store.Status(a.Status), Role: store.Role(a.Role), StartedAt: a.StartedAt,
		SuiteVersion: a.SuiteVersion, PromptVersion: a.PromptVersion, TargetVersion: a.TargetVersion, Verdict: a.Verdict,
		PassRate: a.PassRate, MeanScore: a.MeanScore, Cases: a.Cases, Samples: a.Samples, Errors: a.Errors,
		CostUSD: a.CostUSD, DurationMS: a.DurationMS}
	if a.FinishedAt != nil {
		r.FinishedAt = *a.FinishedAt
	}
	if len(a.Detail) > 0 && string(a.Detail) != "null" {
		r.Detail = string(a.Detail)
	}
	if r.Role == "" {
		r.Role = legacyRole(a.Detail)
	}
	return r
}

// legacyRole is the role of a run from a server older than run roles
// (store migration 0008), which sends none: its detail marked CI gates'
// runs, a candidate by "candidate" or gate_role "candidate", production's
// side of a side-by-side comparison by another gate_role.
func legacyRole(detail json.RawMessage) store.Role {
	var d struct {
		Candidate bool   `json:"candidate"`
		GateRole  string `json:"gate_role"`
	}
	if json.Unmarshal(detail, &d) != nil {
		return store.RoleProduction
	}
	switch {
	case d.Candidate || d.GateRole == string(store.RoleCandidate):
		return store.RoleCandidate
	case d.GateRole != "":
		return store.RoleReference
	}
	return store.RoleProduction
}

// FromSample is s as the API shows it.
func FromSample(s store.Sample) Sample {
	j := Sample{
		CaseID: s.CaseID, Repeat: s.Repeat, FinishReason: s.FinishReason, LatencyMS: s.LatencyMS,
		PromptTokens: s.PromptTokens, CompletionTokens: s.CompletionTokens, Model: s.Model, Fingerprint: s.Fingerprint,
		ErrorClass: s.ErrorClass, ErrorText: s.ErrorText, Attempts: s.Attempts, Pass: s.Pass, Score: s.Score,
		Assertions: make([]Assertion, len(s.Results)),
		JudgeModel: s.JudgeModel, JudgeFingerprint: s.JudgeFingerprint,
		JudgePromptTokens: s.JudgePromptTokens, JudgeCompletionTokens: s.JudgeCompletionTokens, JudgeCostUSD: s.JudgeCostUSD,
	}
	j.Output, j.OutputURL = ClipOutput(s)
	if s.Turns != "" && json.Valid([]byte(s.Turns)) {
		j.Turns = json.RawMessage(s.Turns)
	}
	for i, r := range s.Results {
		j.Assertions[i] = Assertion{Type: r.Type, Pass: r.Pass, Score: r.Score, Weight: r.Weight, Reason: r.Reason, Turn: r.Turn}
	}
	return j
}

// Store is the sample as a store row of run runID.
func (a Sample) Store(runID int64) store.Sample {
	s := store.Sample{RunID: runID, CaseID: a.CaseID, Repeat: a.Repeat, Output: a.Output, FinishReason: a.FinishReason,
		LatencyMS: a.LatencyMS, PromptTokens: a.PromptTokens, CompletionTokens: a.CompletionTokens, Model: a.Model,
		Fingerprint: a.Fingerprint, ErrorClass: a.ErrorClass, ErrorText: a.ErrorText, Attempts: a.Attempts,
		Pass: a.Pass, Score: a.Score, JudgeModel: a.JudgeModel, JudgeFingerprint: a.JudgeFingerprint,
		JudgePromptTokens: a.JudgePromptTokens, JudgeCompletionTokens: a.JudgeCompletionTokens, JudgeCostUSD: a.JudgeCostUSD}
	if len(a.Turns) > 0 && string(a.Turns) != "null" && json.Valid(a.Turns) {
		s.Turns = string(a.Turns)
	}
	for _, r := range a.Assertions {
		s.Results = append(s.Results, store.AssertionResult{Type: r.Type, Pass: r.Pass, Score: r.Score, Weight: r.Weight, Reason: r.Reason, Turn: r.Turn})
	}
	return s
}

// Signoff is a suite's sign-off in force on a server
// (GET /api/suites/{name}/signoff): Known is false when the server's
// configuration has no such suite, Entry nil when its record holds no
// sign-off of it.
type Signoff struct {
	Suite string                  `json:"suite"`
	Known bool                    `json:"known"`
	Entry *governance.RecordEntry `json:"entry"`
}
