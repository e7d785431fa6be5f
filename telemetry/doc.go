// Package telemetry exports evald's runs to an OpenTelemetry collector
// over OTLP/HTTP (telemetry.otlp): a span per run, a child span per
// sample with the target's model and the provider's fingerprint as
// attributes, and each assertion result as a gen_ai.evaluation.result
// event, as the OpenTelemetry GenAI semantic conventions name them.
//
// Export is fail-open: spans queue in memory and leave in background
// batches; a collector that is down, slow or refusing costs a log line
// and the dropped spans, never a run's time or outcome. It never exports
// model output or prompts, and never decides anything about a run.
package telemetry
