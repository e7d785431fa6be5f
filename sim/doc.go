// Package sim is a simulated OpenAI-compatible endpoint: the provider behind
// `evald sim`, `evald demo`, tests and benchmarks.
//
// It owns a small, deterministic "model" that answers chat completions from
// facts written into the system prompt, plus the misbehaviour of a real
// provider: latency, 500s, 429s with Retry-After, requests that never
// answer, malformed JSON, sampling noise and a scripted silent model update
// (drift) that changes the returned model id, the system_fingerprint mix and
// a share of the answers.
//
// It never imports evald's own packages: it stands in for a stranger's
// server, so only the public wire format couples it to the rest of evald.
//
// # How answers are derived
//
// Every system (or developer) message line of the form "left => right",
// optionally bulleted with "- " or "* ", is a fact. The question is the last
// user message. The fact whose left side shares the most words with the
// question (lower-cased, three letters or more, stop words ignored) is the
// match; ties go to the first fact. The correct answer is the matched fact's
// right side wrapped in a phrase chosen by hash; with no match it is "I don't
// know the answer to that.". The wrong answer is another fact's right side
// (chosen by hash), or "I'm not sure, please contact support." when there is
// none.
//
// Whether a (system prompt, question) pair is answered wrong is decided by
// hashing the pair: Options.WrongRate of the pairs always are, and after the
// drift another Options.DriftShare of them become wrong. A different system
// prompt therefore changes which questions are answered correctly, which is
// how a candidate prompt can score measurably better or worse. Options.Noise
// then flips a seeded random share of answers between right and wrong.
//
// # Tool calls
//
// The simulator plays an agent when its instructions say so (tools.go): a
// fact whose right side is "call NAME {JSON arguments}" makes it answer the
// matching questions with a tool call, when the request declares a tool of
// that name; "$id" in the arguments is the first word of the user's
// messages that mixes letters and digits. A pair answered wrong calls
// another such tool, so the update changes the tool choice of a share of
// the pairs. After a tool message it reports the result.
//
// The simulator also grades (grade.go). Options.JudgeDriftAfter scripts an
// update of the judge alone (judge.go), and Server.UpdateJudge makes it
// happen at once: grading replies change model id and fingerprint and fail
// a hashed share of the verdicts that passed, while ordinary answers stay
// as they were, so the scorer can drift without the model under test.
package sim
