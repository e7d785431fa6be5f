// Package evals owns the suite model: prompt templates, cases, assertions,
// repeats and thresholds; loading suites from YAML with JSONL and CSV
// datasets; and the content-addressed prompt and suite versions.
//
// It is pure: it never calls a model, opens a database or reads the
// environment. Parse works on a reader; LoadFile adds the file system.
package evals
