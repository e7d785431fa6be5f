package alerts

import (
	"context"
	"log/slog"
)

// LogSinkName is the log sink's name.
const LogSinkName = "log"

// LogSink writes every decision that is not ActionNone to a slog logger:
// pages at WARN, everything else (updates, resolutions, suppressed pages)
// at INFO. It is always configured, so an alert is never only in a
// database row. It logs facts, never model output.
type LogSink struct {
	Logger *slog.Logger // nil discards
}

var _ Sink = (*LogSink)(nil)

// Name returns LogSinkName.
func (s *LogSink) Name() string { return LogSinkName }

// Wants every decision that changes something.
func (s *LogSink) Wants(d Decision) bool { return d.Action != ActionNone }

// Send logs the notice.
func (s *LogSink) Send(ctx context.Context, d Delivery) (Receipt, error) {
	n, err := DecodeNotice(d.Payload)
	if err != nil {
		return Receipt{}, &SendError{Sink: s.Name(), Permanent: true, Reason: "bad payload", Err: err}
	}
	level := slog.LevelInfo
	if (n.Action == ActionOpen || n.Action == ActionRenotify) && n.Incident.Severity == SeverityPage {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("suite", n.Incident.Suite), slog.String("target", n.Incident.Target),
		slog.String("kind", string(n.Incident.Kind)), slog.String("action", string(n.Action)),
		slog.String("reason", string(n.Reason)), slog.String("incident_id", n.Incident.ID),
		slog.String("delivery_id", d.ID),
	}
	if n.Event.RunID != 0 {
		attrs = append(attrs, slog.Int64("run_id", n.Event.RunID))
	}
	if r := n.Event.Regression; r != nil {
		attrs = append(attrs, slog.Float64("delta", r.Delta), slog.Float64("p_value", r.PValue), slog.String("attribution", r.Attribution))
	}
	if n.Event.Summary != "" {
		attrs = append(attrs, slog.String("summary", n.Event.Summary))
	}
	if n.Note != "" {
		attrs = append(attrs, slog.String("note", n.Note))
	}
	if a := n.Event.Audit; a != nil {
		attrs = append(attrs, slog.Int64("audit_seq", a.Seq), slog.String("audit_hash", a.Hash), slog.String("audit_mode", a.Mode))
	}
	if n.Event.RunURL != "" {
		attrs = append(attrs, slog.String("run_url", n.Event.RunURL))
	}
	if s.Logger == nil {
		return Receipt{Sink: s.Name()}, nil
	}
	s.Logger.LogAttrs(ctx, level, "alert "+string(n.Action)+": "+what(n), attrs...)
	return Receipt{Sink: s.Name()}, nil
}
