package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Incident is a stored alert incident. Data is the alerts package's
// incident as JSON; the columns beside it are what queries need.
type Incident struct {
	ID, Suite, Target, Kind string
	OpenedAt                time.Time
	ResolvedAt              time.Time // zero while open
	ThreadChannel, ThreadTS string
	Data                    []byte
}

// Delivery is one message to one sink, waiting in the outbox or done.
type Delivery struct {
	ID, Sink, IncidentID, Action string
	Payload                      []byte
	CreatedAt                    time.Time
	Status                       string // DeliveryPending, DeliverySent, DeliveryFailed
	Attempts                     int
	NextAt                       time.Time
	LastError                    string
	SentAt                       time.Time
	Receipt                      []byte
	// ThreadChannel and ThreadTS are the incident's, filled on read.
	ThreadChannel, ThreadTS string
}

// Delivery statuses.
const (
	DeliveryPending = "pending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
)

// AlertWrites are the incident changes and new deliveries that go with a
// run's verdict.
type AlertWrites struct {
	Incidents  []Incident // inserted or replaced (by ID)
	Deliveries []Delivery // inserted as pending
}

// OpenIncident returns the open incident of (suite, target, kind), or an
// error wrapping ErrNotFound.
func (s *Store) OpenIncident(ctx context.Context, suite, target, kind string) (Incident, error) {
	row := s.r.QueryRowContext(ctx, `SELECT id, suite, target, kind, opened_at, resolved_at, thread_channel, thread_ts, data
		FROM incidents WHERE suite = ? AND target = ? AND kind = ? AND resolved_at IS NULL
		ORDER BY opened_at DESC LIMIT 1`, suite, target, kind)
	in, err := scanIncident(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, fmt.Errorf("open %s incident of suite %s on target %s: %w", kind, suite, target, ErrNotFound)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("read open incident: %w", err)
	}
	return in, nil
}

// Incidents lists incidents, newest first (open ones only when openOnly).
func (s *Store) Incidents(ctx context.Context, openOnly bool, limit int) ([]Incident, error) {
	if limit <= 0 {
		limit = DefaultRunsLimit
	}
	q := `SELECT id, suite, target, kind, opened_at, resolved_at, thread_channel, thread_ts, data FROM incidents`
	if openOnly {
		q += ` WHERE resolved_at IS NULL`
	}
	out, err := queryAll(ctx, s.r, scanIncident, q+` ORDER BY opened_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}

func scanIncident(sc scanner) (Incident, error) {
	var in Incident
	var opened string
	var resolved sql.NullString
	var data string
	if err := sc.Scan(&in.ID, &in.Suite, &in.Target, &in.Kind, &opened, &resolved, &in.ThreadChannel, &in.ThreadTS, &data); err != nil {
		return Incident{}, err
	}
	var err error
	if in.OpenedAt, err = parseTime(opened); err != nil {
		return Incident{}, err
	}
	if in.ResolvedAt, err = parseNullTime(resolved); err != nil {
		return Incident{}, err
	}
	in.Data = []byte(data)
	return in, nil
}

// writeAlerts upserts incidents and enqueues deliveries inside tx.
func (s *Store) writeAlerts(ctx context.Context, tx *sql.Tx, a AlertWrites) error {
	for _, in := range a.Incidents {
		// The thread, once recorded by a sent delivery, is kept.
		if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (id, suite, target, kind, opened_at, resolved_at, thread_channel, thread_ts, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET resolved_at = excluded.resolved_at, data = excluded.data`,
			in.ID, in.Suite, in.Target, in.Kind, formatTime(in.OpenedAt), nullTime(in.ResolvedAt), in.ThreadChannel, in.ThreadTS, string(in.Data)); err != nil {
			return fmt.Errorf("save incident %s: %w", in.ID, err)
		}
	}
	for _, d := range a.Deliveries {
		next := d.NextAt
		if next.IsZero() {
			next = d.CreatedAt
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, sink, incident_id, action, payload, created_at, status, attempts, next_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`,
			d.ID, d.Sink, d.IncidentID, d.Action, string(d.Payload), formatTime(d.CreatedAt), DeliveryPending, formatTime(next)); err != nil {
			return fmt.Errorf("enqueue delivery %s: %w", d.ID, err)
		}
	}
	return nil
}

// SaveAlerts writes incident changes and deliveries that belong to no run
// (a failed reload, a pending sign-off noticed at start) in one transaction.
func (s *Store) SaveAlerts(ctx context.Context, a AlertWrites) error {
	if err := s.write(ctx, func(tx *sql.Tx) error { return s.writeAlerts(ctx, tx, a) }); err != nil {
		return fmt.Errorf("save alerts: %w", err)
	}
	return nil
}

// PendingDeliveries returns every pending delivery in the order they were
// enqueued, with their incident's thread.
func (s *Store) PendingDeliveries(ctx context.Context) ([]Delivery, error) {
	return s.deliveries(ctx, `WHERE d.status = ? ORDER BY d.created_at, d.id`, DeliveryPending)
}

// Deliveries lists the newest deliveries of any status, for the API.
func (s *Store) Deliveries(ctx context.Context, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = DefaultRunsLimit
	}
	return s.deliveries(ctx, `ORDER BY d.created_at DESC, d.id DESC LIMIT ?`, limit)
}

// deliveries runs the delivery query with tail (WHERE / ORDER BY / LIMIT).
func (s *Store) deliveries(ctx context.Context, tail string, args ...any) ([]Delivery, error) {
	q := `SELECT d.id, d.sink, d.incident_id, d.action, d.payload, d.created_at, d.status, d.attempts, d.next_at,
		d.last_error, d.sent_at, d.receipt, i.thread_channel, i.thread_ts
		FROM deliveries d JOIN incidents i ON i.id = d.incident_id ` + tail
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var payload, created, next, receipt string
		var sent sql.NullString
		if err := rows.Scan(&d.ID, &d.Sink, &d.IncidentID, &d.Action, &payload, &created, &d.Status, &d.Attempts, &next,
			&d.LastError, &sent, &receipt, &d.ThreadChannel, &d.ThreadTS); err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		d.Payload, d.Receipt = []byte(payload), []byte(receipt)
		var err error
		if d.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if d.NextAt, err = parseTime(next); err != nil {
			return nil, err
		}
		if d.SentAt, err = parseNullTime(sent); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// MarkDeliverySent marks a pending delivery sent. When threadChannel and
// threadTS are given and its incident has no thread yet, they become the
// incident's thread. A delivery that is not pending is left alone, so a
// delivery is never recorded sent twice.
func (s *Store) MarkDeliverySent(ctx context.Context, id string, at time.Time, receipt []byte, threadChannel, threadTS string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = ?, sent_at = ?, receipt = ? WHERE id = ? AND status = ?`,
			DeliverySent, formatTime(at), string(receipt), id, DeliveryPending)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || threadTS == "" {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE incidents SET thread_channel = ?, thread_ts = ?
			WHERE id = (SELECT incident_id FROM deliveries WHERE id = ?) AND thread_ts = ''`, threadChannel, threadTS, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark delivery %s sent: %w", id, err)
	}
	return nil
}

// MarkDeliveryAttempt records a failed attempt of a pending delivery.
func (s *Store) MarkDeliveryAttempt(ctx context.Context, id string, nextAt time.Time, errText string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ? AND status = ?`,
		formatTime(nextAt), errText, id, DeliveryPending)
	if err != nil {
		return fmt.Errorf("record attempt of delivery %s: %w", id, err)
	}
	return nil
}

// MarkDeliveryFailed gives up on a pending delivery after a permanent error.
func (s *Store) MarkDeliveryFailed(ctx context.Context, id string, errText string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ? WHERE id = ? AND status = ?`,
		DeliveryFailed, errText, id, DeliveryPending)
	if err != nil {
		return fmt.Errorf("record failure of delivery %s: %w", id, err)
	}
	return nil
}
