package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/configs"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

// MinAuditKeyLen is the shortest audit key accepted, in bytes.
const MinAuditKeyLen = 16

// AuditChain returns the audit chain the config asks for: keyed with the
// value of governance.audit_key_env's variable, plain when the config names
// none. A variable named but empty, or shorter than MinAuditKeyLen bytes, is
// an error that names the field and the variable, never the value.
func AuditChain(cfg *configs.Config, getenv func(string) string) (governance.Chain, error) {
	ref, ok := cfg.EnvRef("governance.audit_key_env")
	if !ok {
		return governance.Chain{}, nil
	}
	key := getenv(ref.Var)
	if key == "" {
		return governance.Chain{}, cfg.Unset(ref, "the audit log's key")
	}
	if len(key) < MinAuditKeyLen {
		f := cfg.Unset(ref, "")
		f.Err = fmt.Errorf("%w: environment variable %s holds %d bytes; an audit key needs at least %d", ErrInvalid, ref.Var, len(key), MinAuditKeyLen)
		return governance.Chain{}, f
	}
	return governance.NewChain([]byte(key)), nil
}

// sealer adapts the audit chain's Seal, which owns the chain's rules, to the
// store's append, which owns the rows and runs seal inside its transaction.
// With the audit key's variable named and unset it refuses every append.
func (d *Daemon) sealer(actor, action string, payload any) store.SealFunc {
	at := d.opts.Now()
	return func(prev *store.AuditEntry) (store.AuditEntry, error) {
		if d.chainErr != nil {
			return store.AuditEntry{}, d.chainErr
		}
		var p *governance.Entry
		if prev != nil {
			g := fromStoreEntry(*prev)
			p = &g
		}
		e, err := d.chain.Seal(p, at, actor, action, payload)
		if err != nil {
			return store.AuditEntry{}, err
		}
		return store.AuditEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Payload: e.Payload, PrevHash: e.PrevHash, Hash: e.Hash}, nil
	}
}

// witness builds the audit witness of e, the entry being appended, after
// checking that the database is not behind the witness last written (old;
// nil: none): appending to a rolled-back, wiped or rewritten log would
// write a new witness over the evidence.
func (d *Daemon) witness(old []byte, e store.AuditEntry) ([]byte, error) {
	var w *governance.Witness
	if old != nil {
		pw, err := governance.ParseWitness(old)
		if err != nil {
			return nil, fmt.Errorf("%w: the audit witness is unreadable (run evald audit verify): %w", store.ErrAuditBroken, err)
		}
		w = &pw
	}
	var prev *governance.Entry
	if e.Seq > 1 {
		prev = &governance.Entry{Seq: e.Seq - 1, Hash: e.PrevHash}
	}
	if err := governance.CheckAppend(prev, w); err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrAuditBroken, err)
	}
	if w == nil && prev != nil {
		d.log.Warn("audit witness missing: writing a new one from the database's head", "seq", e.Seq)
	}
	return d.chain.Witness(fromStoreEntry(e)).Marshal(), nil
}

// auditCommitted sends the audit log's new head outside the database once
// e has committed: a log line, and (serve, and the commands that queue
// alerts) an audit_appended alert, which the log sink, Slack and the
// webhook carry with the head.
func (d *Daemon) auditCommitted(ctx context.Context, e store.AuditEntry) {
	d.log.Info("audit head", "seq", e.Seq, "hash", e.Hash, "action", e.Action, "mode", d.chain.Mode())
	head := &alerts.AuditHead{Seq: e.Seq, Hash: e.Hash, Mode: d.chain.Mode(), Action: e.Action, Actor: e.Actor}
	d.raise(ctx, "", "", alerts.KindAuditAppended, &alerts.Event{
		Kind: alerts.KindAuditAppended, At: e.At,
		Summary: fmt.Sprintf("entry %d (%s by %s); head %s (%s)", e.Seq, e.Action, e.Actor, e.Hash, d.chain.Mode()),
		Audit:   head,
	}, "")
}

// ErrAuditUntrusted is wrapped by the sign-off check of a keyed audit log
// that does not verify with its key.
var ErrAuditUntrusted = errors.New("the keyed audit log does not verify")

// currentSignoff is the suite's sign-off in force as the store checks it
// against the audit log: sign-off rows that match no audit entry (written
// with SQL) are ignored, and each is logged.
//
// In a keyed chain the audit entries themselves are checked too: the whole
// chain must verify with the key, so that a sign-off row paired with an
// entry forged without the key (a plain entry after keyed ones) is not
// trusted. A chain that does not verify then fails the check, wrapping
// ErrAuditUntrusted. A plain chain has no such check: anyone who can
// write the database can forge both a row and its entry there, which only
// the witness and `evald audit verify` show.
func (d *Daemon) currentSignoff(ctx context.Context, suite string) (store.Signoff, error) {
	so, problems, err := d.store.CheckedSignoff(ctx, suite)
	for _, p := range problems {
		d.log.Error("sign-off does not match the audit log: ignored", "suite", suite, "problem", p.String())
	}
	// The chain is checked whatever the rows say: an entry edited so that
	// its row no longer pairs must not pass for "no sign-off yet", which
	// the run would answer by recording one on top of the broken entry.
	if !d.chain.Keyed() {
		return so, err
	}
	entries, verr := d.store.AuditLog(ctx)
	if verr != nil {
		return store.Signoff{}, verr
	}
	g := make([]governance.Entry, len(entries))
	for i, e := range entries {
		g[i] = fromStoreEntry(e)
	}
	if _, verr := d.chain.Verify(g); verr != nil {
		return store.Signoff{}, fmt.Errorf("%w, so no sign-off of %s is trusted (run evald audit verify): %w", ErrAuditUntrusted, suite, verr)
	}
	return so, err
}

func fromStoreEntry(e store.AuditEntry) governance.Entry {
	return governance.Entry{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Payload: e.Payload, PrevHash: e.PrevHash, Hash: e.Hash}
}
