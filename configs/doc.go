// Package configs owns the daemon configuration (evald.yaml): its schema,
// strict loading with errors that name file, line and field, validation, the
// target versions, the project loader (the config with its suites), and the
// embedded demo configuration and suites (configs/demo, also an example to
// copy).
//
// It is pure: no network, no SQL, no logging. Secrets stay in the
// environment; the config names the variables only, and this package never
// reads them.
//
// Relative paths (storage.sqlite, suites[].file) resolve against the config
// file's folder. Defaults: server.addr 127.0.0.1:8080, storage.sqlite
// evald.db, a target's concurrency 4, timeout 30s and retries 4,
// alerts.renotify 6h. Problems are *FieldError values (evals.FieldError),
// all of them at once, from the config and from every suite it names.
package configs
