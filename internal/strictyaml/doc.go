// Package strictyaml does strict decoding of YAML nodes with file:line:field
// errors; pure, no I/O.
//
// A Decoder walks the yaml.v3 nodes of one file against a schema that its
// caller spells out key by key (Fields, Str, Integer, List, ...). It never
// stops at the first problem: each one becomes a *FieldError in a shared
// Problems, printing as "file:line: field: what is wrong (got value)", so a
// loader can report everything wrong with a file (and the files it names) at
// once. Unknown keys get a "did you mean" hint, merge keys (<<) are
// followed, repeated keys are refused, and a node budget stops alias
// expansion from blowing up.
//
// It is shared by the configs (evald.yaml) and evals (suite) loaders; what
// is particular to one of them (durations, environment variable names, the
// plain values a field may hold) stays in that package.
package strictyaml
