package drift

// SampleShape is what one valid answer looked like, beside its score.
type SampleShape struct {
	// PromptTokens is what the provider reported for the request (0: not
	// reported).
	PromptTokens int `json:"prompt_tokens,omitempty"`
	// Chars is the answer's length in characters.
	Chars int `json:"chars,omitempty"`
	// Answer is a hash of the normalised answer, for the distinct-answer
	// share (0: unknown).
	Answer uint64 `json:"answer,omitempty"`
	// Refusal is true when the answer declines (content filter or a
	// refusal phrase; the daemon decides).
	Refusal bool `json:"refusal,omitempty"`
	// LatencyMS is the time to the answer (0: unknown).
	LatencyMS float64 `json:"latency_ms,omitempty"`
}
