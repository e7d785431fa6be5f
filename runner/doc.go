// Package runner executes a suite on a target: it sends every case (times the
// suite's repeats) to the target's OpenAI-compatible endpoint, within the
// target's shared concurrency and rate limits, with per-request timeouts,
// retries and cancellation, and scores each sample as it arrives.
//
// Model-graded assertions are graded by the run's Judge, another target
// reached the same way (chat completions, and /v1/embeddings for similar),
// through the judge's own gate, retries and grade cache; its tokens and cost
// are kept apart from the tested model's, and a grade that cannot be reached
// makes the sample missing (ClassJudgeError, ClassJudgeUnparseable).
//
// It owns the OpenAI-compatible provider (go-openai over HTTP). It never
// computes statistics across runs and never stores anything: results go to
// the caller's emit function, one sample at a time.
package runner
