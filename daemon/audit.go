package daemon

import (
	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

// sealer adapts governance.Seal, which owns the hash chain's rules, to the
// store's append, which owns the rows and runs seal inside its transaction.
func (d *Daemon) sealer(actor, action string, payload any) store.SealFunc {
	at := d.opts.Now()
	return func(prev *store.AuditEntry) (store.AuditEntry, error) {
		var p *governance.Entry
		if prev != nil {
			g := fromStoreEntry(*prev)
			p = &g
		}
		e, err := governance.Seal(p, at, actor, action, payload)
		if err != nil {
			return store.AuditEntry{}, err
		}
		return store.AuditEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Payload: e.Payload, PrevHash: e.PrevHash, Hash: e.Hash}, nil
	}
}

func fromStoreEntry(e store.AuditEntry) governance.Entry {
	return governance.Entry{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Payload: e.Payload, PrevHash: e.PrevHash, Hash: e.Hash}
}
