// Package alerts turns what other packages decided into notifications that
// reach people exactly once: the alert model (an [Event] and the [Incident]
// it opens, one per suite, target and kind), the pure dedup, renotify and
// resolve decision ([Decide]), the rendering of Slack Block Kit messages and
// of the signed generic webhook body, the delivery outbox worker ([Worker])
// with capped, jittered retries, and the sinks: Slack incoming webhook and
// bot token (slack-go), generic webhook and log.
//
// It never decides what is a regression (package drift does), takes the
// time from its caller or an injected [Clock], and never touches SQL: the storage it
// needs is declared here as the consumer interface [Outbox], which the
// daemon implements over the store. It imports drift, governance and evals
// for their types only.
//
// # Using it from the daemon
//
// After each (suite, target) evaluation, for every alert kind:
//
//	open := <the open incident of (suite, target, kind), or nil>
//	d := alerts.Decide(open, ev /* nil: clear this run */, silenced, now, renotify)
//	out, err := planner.Plan(open, ev, d, now)
//	<write out.Incident and out.Deliveries in the transaction that records the verdict>
//	worker.Kick()
//
// The worker then sends each [Delivery] through its [Sink] and records the
// outcome; see docs/alerts.md for the message formats, the webhook
// signature and the delivery guarantees.
package alerts
