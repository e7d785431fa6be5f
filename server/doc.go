// Package server is evald's HTTP face: the dashboard, the JSON API,
// Prometheus /metrics and the /healthz and /readyz probes. It binds
// 127.0.0.1 unless told otherwise, and every request that changes state needs
// a bearer token from the config's tokens variable.
//
// It holds no business rules: it reads the store and asks the daemon.
package server
