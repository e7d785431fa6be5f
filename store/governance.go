package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Signoff is a signed-off threshold set of a suite. Every sign-off is
// kept; the suite's current one is its newest.
type Signoff struct {
	ID       int64 // assigned by the store
	Suite    string
	SetJSON  []byte // the threshold set, as JSON
	Hash     string // the set's hash
	By       string // who signed it off
	Reason   string
	At       time.Time // set to now by RecordSignoff when zero
	PrevHash string    // the replaced sign-off's Hash; "" for the first
}

const signoffColumns = `id, suite, set_json, hash, by_actor, reason, at, prev_hash`

func scanSignoff(sc scanner) (Signoff, error) {
	var (
		so          Signoff
		setJSON, at string
	)
	if err := sc.Scan(&so.ID, &so.Suite, &setJSON, &so.Hash, &so.By, &so.Reason, &at, &so.PrevHash); err != nil {
		return Signoff{}, err
	}
	t, err := parseTime(at)
	if err != nil {
		return Signoff{}, err
	}
	so.SetJSON, so.At = []byte(setJSON), t
	return so, nil
}

// RecordSignoff records so as the current sign-off of so.Suite (recording
// the suite too when new) and appends seal's audit entry, in one
// transaction: both are kept or neither is. Suite, SetJSON, Hash, By and
// Reason are required, and the entry must audit the row: one of
// SignoffActions, by so.By, its payload naming so's suite and hash (and
// its prev_hash and reason, if it carries them), so that CheckedSignoff
// can pair them later. so.PrevHash must be the Hash of the suite's current
// sign-off (as CheckedSignoff sees it; "" when it has none, or when the
// latest audited sign-off lost its row), or it fails wrapping ErrConflict:
// the set was decided against a sign-off that has since been replaced. It
// returns so with its ID and At set, and the audit entry.
func (s *Store) RecordSignoff(ctx context.Context, so Signoff, seal SealFunc) (Signoff, AuditEntry, error) {
	for _, f := range []struct{ name, val string }{
		{"suite", so.Suite}, {"set", string(so.SetJSON)}, {"hash", so.Hash}, {"by", so.By}, {"reason", so.Reason},
	} {
		if strings.TrimSpace(f.val) == "" {
			return Signoff{}, AuditEntry{}, fmt.Errorf("record sign-off of suite %s: %s is required", so.Suite, f.name)
		}
	}
	now := s.now()
	if so.At.IsZero() {
		so.At = now
	}
	so.At = so.At.UTC()
	audited := func(prev *AuditEntry) (AuditEntry, error) {
		e, err := seal(prev)
		if err == nil && !auditedBy(so, e) {
			err = fmt.Errorf("its audit entry (%s by %s) does not name the sign-off's suite, hash and signer", e.Action, e.Actor)
		}
		return e, err
	}
	e, err := s.appendAuditWith(ctx, audited, func(tx *sql.Tx) error {
		if err := upsertSuite(ctx, tx, so.Suite, now); err != nil {
			return err
		}
		cur, _, err := checkedSignoff(ctx, tx, so.Suite)
		switch {
		case errors.Is(err, sql.ErrNoRows), errors.Is(err, ErrSignoffUnaudited):
			cur = Signoff{}
		case err != nil:
			return err
		}
		if so.PrevHash != cur.Hash {
			return fmt.Errorf("%w: it replaces the set with hash %q, but the current one has hash %q", ErrConflict, so.PrevHash, cur.Hash)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO signoffs (suite, set_json, hash, by_actor, reason, at, prev_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			so.Suite, string(so.SetJSON), so.Hash, so.By, so.Reason, formatTime(so.At), so.PrevHash)
		if err != nil {
			return err
		}
		so.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return Signoff{}, AuditEntry{}, fmt.Errorf("record sign-off of suite %s: %w", so.Suite, err)
	}
	return so, e, nil
}

// CurrentSignoff returns the sign-off in force for suite, as CheckedSignoff
// does, without the problems.
func (s *Store) CurrentSignoff(ctx context.Context, suite string) (Signoff, error) {
	so, _, err := s.CheckedSignoff(ctx, suite)
	return so, err
}

// Signoffs returns every sign-off of suite, oldest first.
func (s *Store) Signoffs(ctx context.Context, suite string) ([]Signoff, error) {
	out, err := queryAll(ctx, s.r, scanSignoff, `SELECT `+signoffColumns+` FROM signoffs WHERE suite = ? ORDER BY id`, suite)
	if err != nil {
		return nil, fmt.Errorf("list sign-offs of suite %s: %w", suite, err)
	}
	return out, nil
}

// Silence mutes the pages of one suite on one target from Start (included)
// until Until (excluded).
type Silence struct {
	ID            int64 // assigned by the store
	Suite, Target string
	By, Reason    string
	Start, Until  time.Time // Start is set to now by AddSilence when zero
}

const silenceColumns = `id, suite, target, by_actor, reason, start_at, until_at`

func scanSilence(sc scanner) (Silence, error) {
	var (
		si           Silence
		start, until string
	)
	if err := sc.Scan(&si.ID, &si.Suite, &si.Target, &si.By, &si.Reason, &start, &until); err != nil {
		return Silence{}, err
	}
	var err error
	if si.Start, err = parseTime(start); err != nil {
		return Silence{}, err
	}
	if si.Until, err = parseTime(until); err != nil {
		return Silence{}, err
	}
	return si, nil
}

// AddSilence records a silence and appends seal's audit entry, in one
// transaction. Suite, Target, By and Reason are required, and Until must
// come after Start. The entry must audit the row (SilenceAction by si.By,
// naming its suite, target, reason and end), so that CheckedSilences can
// pair them later. It returns the silence with its ID and Start set, and
// the audit entry.
func (s *Store) AddSilence(ctx context.Context, si Silence, seal SealFunc) (Silence, AuditEntry, error) {
	for _, f := range []struct{ name, val string }{
		{"suite", si.Suite}, {"target", si.Target}, {"by", si.By}, {"reason", si.Reason},
	} {
		if strings.TrimSpace(f.val) == "" {
			return Silence{}, AuditEntry{}, fmt.Errorf("add silence of suite %s: %s is required", si.Suite, f.name)
		}
	}
	now := s.now()
	if si.Start.IsZero() {
		si.Start = now
	}
	si.Start, si.Until = si.Start.UTC(), si.Until.UTC()
	if !si.Until.After(si.Start) {
		return Silence{}, AuditEntry{}, fmt.Errorf("add silence of suite %s: it ends (%s) before it starts (%s)",
			si.Suite, si.Until.Format(time.RFC3339), si.Start.Format(time.RFC3339))
	}
	audited := func(prev *AuditEntry) (AuditEntry, error) {
		e, err := seal(prev)
		if err == nil && !silenceAudited(si, e) {
			err = fmt.Errorf("its audit entry (%s by %s) does not name the silence's suite, target, reason and end", e.Action, e.Actor)
		}
		return e, err
	}
	e, err := s.appendAuditWith(ctx, audited, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO silences (suite, target, by_actor, reason, start_at, until_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			si.Suite, si.Target, si.By, si.Reason, formatTime(si.Start), formatTime(si.Until), formatTime(now))
		if err != nil {
			return err
		}
		si.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return Silence{}, AuditEntry{}, fmt.Errorf("add silence of suite %s: %w", si.Suite, err)
	}
	return si, e, nil
}

// Silences returns the silences active at activeAt (Start <= activeAt <
// Until), or every silence when activeAt is zero, in the order they were
// added.
func (s *Store) Silences(ctx context.Context, activeAt time.Time) ([]Silence, error) {
	q, args := `SELECT `+silenceColumns+` FROM silences`, []any(nil)
	if !activeAt.IsZero() {
		t := formatTime(activeAt)
		q += ` WHERE start_at <= ? AND until_at > ?`
		args = append(args, t, t)
	}
	q += ` ORDER BY id`
	out, err := queryAll(ctx, s.r, scanSilence, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	return out, nil
}
