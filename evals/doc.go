// Package evals owns the suite model: prompt templates, cases, assertions,
// repeats and thresholds; loading suites from YAML with JSONL, CSV, YAML and
// JSON datasets; and the content-addressed prompt and suite versions.
//
// It is pure: it never calls a model, opens a database, reads the
// environment or logs. Parse reads from an fs.FS (the embedded demo);
// LoadFile reads real files.
//
// # Suite files
//
// A suite uses promptfoo's vocabulary where it overlaps (vars, assert,
// defaultTest, threshold, weight, not- negations, file:// references);
// DESIGN.md shows an example. Unknown keys are errors. file:// references
// resolve against the folder of the file that holds them. A prompt text file
// has its line endings normalised to \n and its final newlines dropped.
//
// Datasets, named in tests as file://..., hold cases by extension:
//
//   - .jsonl: one case per non-blank line, either a test object {id,
//     description, vars, assert} or an OpenAI evals sample {input, ideal}.
//     A sample's vars are input (the last user message when input is a chat)
//     and ideal (a string or a list), and its assertion is OpenAI evals'
//     Match: the answer starts with the ideal (starts-with; a regex
//     alternation for several ideals). Write test objects for other checks.
//   - .csv: a header of var names, one case per row. __expected (and
//     __expected1, __expected2, ...) hold one assertion each in promptfoo's
//     shorthand (see Shorthand); __description describes the case.
//   - .yaml, .yml, .json: a list of test objects.
//
// # Templates
//
// {{name}} and {{ name }} in message contents and in assertion values are
// replaced by the case's var (defaultTest's vars overlaid by the case's).
// Nothing else is template syntax: any other {{...}} or {%...%} is an error,
// and so is a var a case lacks.
//
// # Case ids and versions
//
// A case's id is its `id`, else "c-" and the first 12 hex digits of the
// sha256 of its own vars as canonical JSON (defaultTest's vars are left out,
// so that changing a default keeps cases paired across runs). Ids are unique
// within a suite.
//
// The prompt version is the sha256 of the canonical JSON of the prompt
// templates (roles and contents after file:// resolution). The suite version
// is the sha256 of the canonical JSON of {prompt_version, repeats, cases:
// [{id, vars, assert: [{type, value, threshold, weight}]}]}, cases in file
// order with their resolved vars and templated assertions (defaultTest's
// first). An assertion whose judge prompt the suite replaces (judge_prompts,
// a mapping of prompt name to prompt file) also carries judge_prompts: the
// texts of the replaced prompts its type grades with, so a suite without
// replacements keeps the version it had. Names, descriptions, thresholds, drift settings and the judge are
// not part of either, and neither is formatting: see CanonicalJSON.
//
// # Errors
//
// Loaders report every problem at once, joined with errors.Join; each is a
// *FieldError printing as "file:line: field: what is wrong (got value)" and
// wrapping a sentinel (ErrUnknownKey, ErrInvalid, ...) or an error of
// scoring.Compile. A dataset's problems name the dataset's own file and line.
package evals
