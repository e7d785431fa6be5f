// Package scoring owns the assertion types of a suite (one file per type),
// their verdicts on one model output, and the aggregation of assertion results
// into sample, case and run scores.
//
// It is pure: no I/O, no network, no storage. Semantics follow promptfoo's
// documented behaviour for an assertion of the same name; each type's file
// says where and why it differs.
//
// # Assertions
//
// Compile validates a Spec once (regular expressions and JSON Schemas are
// compiled there, never per output) and returns an Assertion whose Check
// judges one Output; an Assertion is safe for concurrent use. Model output is
// untrusted: Check never panics, and its cost grows at most linearly with the
// output's length (contains-json bounds its search on hostile text). Types lists the base types; every one
// also exists negated with the "not-" prefix, which inverts the verdict and,
// for the graded types (rouge-n), turns the score s into 1-s. A Result's
// Score is always in [0,1], and its Reason, set on failures, is one short
// line that quotes at most about 80 runes of the output. The types that
// match the output's text (equals, the contains family, starts-with, regex,
// is-json, contains-json, levenshtein, rouge-n) end it, in both forms, with
// the output's first 80 runes Go-quoted, (got "..."), so that a text report
// shows what the model said.
//
// # Model-graded assertions
//
// llm-rubric, factuality (alias model-graded-factuality),
// model-graded-closedqa, g-eval, answer-relevance and similar compile to a
// Graded assertion: Grade asks a Judge, an interface declared here and
// implemented by the runner, so that this package stays free of I/O. The
// judge's prompts are the embedded files prompts/*.txt; a suite may replace
// them (Spec.JudgePrompts, built from files checked by ParseJudgePrompt). A judge that fails, or answers something
// that cannot be read as a verdict, gives a Result with Missing set and the
// raw answer in Reason: a missing grade, never a failed one. Check on a
// Graded assertion has no judge to ask and is always missing.
//
// # Scores
//
// Scores roll up in three steps: assertions into a sample, samples into a
// case, cases into a run.
//
//   - A sample passes when every one of its assertions passes, weight 0
//     included (promptfoo lets a weight-0 assertion pass regardless; evald
//     only keeps it out of the score). Its score is the mean of the
//     assertion scores weighted by their weights (SampleScore).
//   - A case's pass rate is the share of its valid samples that passed, and
//     its mean score the mean of their scores (CaseTally). Samples that
//     errored (no output to judge) are not valid and count for neither.
//   - A run's pass_rate is the mean of the case pass rates, and its
//     mean_score the mean of the case mean scores, so every case weighs the
//     same however many samples it has. Cases with no valid sample are left
//     out of both, and the number of cases that counted is reported beside
//     them (RunScores).
package scoring
