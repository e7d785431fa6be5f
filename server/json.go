package server

import (
	"encoding/json"
	"time"

	"github.com/evald/evald/store"
)

// runJSON is a run as the API shows it; field names follow `evald history --json`.
type runJSON struct {
	RunID         int64           `json:"run_id"`
	Suite         string          `json:"suite"`
	Target        string          `json:"target"`
	Trigger       string          `json:"trigger"`
	Status        string          `json:"status"`
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
}

func toRunJSON(r store.Run) runJSON {
	j := runJSON{
		RunID: r.ID, Suite: r.Suite, Target: r.Target, Trigger: r.Trigger, Status: r.Status,
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
	return j
}

type assertionJSON struct {
	Type   string  `json:"type"`
	Pass   bool    `json:"pass"`
	Score  float64 `json:"score"`
	Weight float64 `json:"weight"`
	Reason string  `json:"reason,omitempty"`
}

type sampleJSON struct {
	CaseID           string          `json:"case_id"`
	Repeat           int             `json:"repeat"`
	Output           string          `json:"output"`
	FinishReason     string          `json:"finish_reason"`
	LatencyMS        float64         `json:"latency_ms"`
	PromptTokens     int             `json:"prompt_tokens"`
	CompletionTokens int             `json:"completion_tokens"`
	Model            string          `json:"model"`
	Fingerprint      string          `json:"system_fingerprint"`
	ErrorClass       string          `json:"error_class,omitempty"`
	ErrorText        string          `json:"error,omitempty"`
	Attempts         int             `json:"attempts"`
	Pass             bool            `json:"pass"`
	Score            float64         `json:"score"`
	Assertions       []assertionJSON `json:"assertions"`
	// The judge that graded the model-graded assertions; absent when none did.
	JudgeModel            string  `json:"judge_model,omitempty"`
	JudgeFingerprint      string  `json:"judge_system_fingerprint,omitempty"`
	JudgePromptTokens     int     `json:"judge_prompt_tokens,omitempty"`
	JudgeCompletionTokens int     `json:"judge_completion_tokens,omitempty"`
	JudgeCostUSD          float64 `json:"judge_cost_usd,omitempty"`
}

func toSampleJSON(s store.Sample) sampleJSON {
	j := sampleJSON{
		CaseID: s.CaseID, Repeat: s.Repeat, Output: s.Output, FinishReason: s.FinishReason, LatencyMS: s.LatencyMS,
		PromptTokens: s.PromptTokens, CompletionTokens: s.CompletionTokens, Model: s.Model, Fingerprint: s.Fingerprint,
		ErrorClass: s.ErrorClass, ErrorText: s.ErrorText, Attempts: s.Attempts, Pass: s.Pass, Score: s.Score,
		Assertions: make([]assertionJSON, len(s.Results)),
		JudgeModel: s.JudgeModel, JudgeFingerprint: s.JudgeFingerprint,
		JudgePromptTokens: s.JudgePromptTokens, JudgeCompletionTokens: s.JudgeCompletionTokens, JudgeCostUSD: s.JudgeCostUSD,
	}
	for i, r := range s.Results {
		j.Assertions[i] = assertionJSON{Type: r.Type, Pass: r.Pass, Score: r.Score, Weight: r.Weight, Reason: r.Reason}
	}
	return j
}
