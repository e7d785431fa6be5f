// Package configs owns the daemon configuration (evald.yaml): its schema,
// strict loading with errors that name file, line and field, validation, the
// target versions, and the embedded demo configuration and suites.
//
// It is pure: no network and no SQL. Secrets stay in the environment; the
// config names the variables only.
package configs
