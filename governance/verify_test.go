package governance

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var testKey = []byte("correct horse battery staple")

// keyedChain seals n entries with c, one a minute from t0, after the
// entries of prefix.
func sealWith(t testing.TB, c Chain, prefix []Entry, n int) []Entry {
	t.Helper()
	out := append([]Entry(nil), prefix...)
	for i := range n {
		var prev *Entry
		if len(out) > 0 {
			prev = &out[len(out)-1]
		}
		e, err := c.Seal(prev, t0.Add(time.Duration(len(out))*time.Minute), "alice", ActionThresholdsSignedOff, map[string]any{"suite": "faq", "n": i})
		if err != nil {
			t.Fatalf("Seal(%d) = %v", len(out)+1, err)
		}
		out = append(out, e)
	}
	return out
}

func evidence(entries []Entry, w *Witness) Evidence {
	ev := Evidence{Entries: entries, Witness: w}
	if n := len(entries); n > 0 {
		ev.HeadSeq, ev.HeadHash = entries[n-1].Seq, entries[n-1].Hash
	}
	return ev
}

func witnessOf(c Chain, entries []Entry) *Witness {
	w := c.Witness(entries[len(entries)-1])
	return &w
}

func TestKeyedSeal(t *testing.T) {
	keyed := NewChain(testKey)
	entries := sealWith(t, keyed, nil, 3)
	for _, e := range entries {
		if got, want := e.Hash, e.ComputeMAC(testKey); got != want {
			t.Errorf("entry %d Hash = %s, want its MAC %s", e.Seq, got, want)
		}
		if e.Hash == e.ComputeHash() {
			t.Errorf("entry %d Hash is its plain sha256", e.Seq)
		}
	}
	if _, err := (Chain{}).Seal(&entries[2], t0, "bob", ActionSilenceCreated, nil); !errors.Is(err, ErrKeyed) {
		t.Errorf("plain Seal after a keyed entry = %v, want ErrKeyed", err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", keyed, keyed, keyed, keyed); strings.Contains(s, string(testKey)) {
		t.Errorf("formatting a chain prints its key: %s", s)
	}
}

func TestVerifyKeyed(t *testing.T) {
	plain, keyed := Chain{}, NewChain(testKey)
	mixed := sealWith(t, keyed, sealWith(t, plain, nil, 2), 3) // plain 1-2, keyed 3-5

	rep, err := keyed.Verify(mixed)
	if err != nil || rep.KeyedFrom != 3 {
		t.Fatalf("keyed.Verify(plain then keyed) = %+v, %v; want keyed from 3", rep, err)
	}
	if got, err := keyed.VerifyAll(evidence(mixed, witnessOf(keyed, mixed))); err != nil || !got.Witnessed || got.KeyedFrom != 3 {
		t.Errorf("VerifyAll(mixed chain, its witness) = %+v, %v", got, err)
	}

	// Without the key, the keyed entries are neither trusted nor edited.
	var ke *KeyError
	if _, err := plain.VerifyAll(evidence(mixed, witnessOf(keyed, mixed))); !errors.As(err, &ke) || ke.From != 3 || ke.To != 5 {
		t.Errorf("plain.VerifyAll(keyed chain) = %v, want a KeyError for 3 to 5", err)
	}

	// A wrong key sees edited entries.
	if _, err := NewChain([]byte("another key")).Verify(mixed); brokenAt(err) != 3 {
		t.Errorf("Verify with another key = %v, want broken at 3", err)
	}

	// Recomputing the keyed part as plain (no key) is a downgrade.
	down := sealWith(t, plain, mixed[:2], 3)
	after := Entry{Seq: 4, At: t0, Actor: "mallory", Action: ActionSilenceCreated, Payload: []byte(`{}`), PrevHash: mixed[2].Hash}
	after.Hash = after.ComputeHash()
	if _, err := keyed.Verify(append(append([]Entry(nil), mixed[:3]...), after)); brokenAt(err) != 4 {
		t.Errorf("keyed.Verify(plain entry after a keyed one) = %v, want broken at 4", err)
	}
	if _, err := keyed.VerifyAll(evidence(down, witnessOf(keyed, mixed))); brokenAt(err) != 5 {
		t.Errorf("VerifyAll(keyed part recomputed as plain) = %v, want broken at 5", err)
	}

	// Editing a keyed entry and resealing it and all later ones as keyed
	// needs the key: with another key the MACs do not match.
	forged := sealWith(t, NewChain([]byte("guess")), mixed[:3], 2)
	if _, err := keyed.Verify(forged); brokenAt(err) != 4 {
		t.Errorf("Verify(entries resealed with another key) = %v, want broken at 4", err)
	}
}

func brokenAt(err error) int64 {
	var b *BrokenError
	if errors.As(err, &b) {
		return b.Seq
	}
	return -1
}

func TestVerifyAllWitness(t *testing.T) {
	for _, c := range []Chain{{}, NewChain(testKey)} {
		t.Run(c.Mode(), func(t *testing.T) {
			full := sealWith(t, c, nil, 6)
			w := witnessOf(c, full)
			recomputed := append([]Entry(nil), full[:2]...)
			edited := full[2]
			edited.Actor = "mallory"
			recomputed = append(recomputed, edited)
			recomputed[2].Hash = c.hash(recomputed[2])
			recomputed = sealWith(t, c, recomputed, 3)
			wrongMode := *w
			if c.Keyed() {
				wrongMode.Mode, wrongMode.MAC = ModePlain, ""
			} else {
				wrongMode.Mode, wrongMode.MAC = ModeKeyed, "00"
			}
			editedW := *w
			editedW.Seq, editedW.Hash = 4, full[3].Hash

			for _, tc := range []struct {
				name string
				ev   Evidence
				want string // "" for intact
			}{
				{"intact", evidence(full, w), ""},
				{"new database", evidence(nil, nil), ""},
				{"no witness", evidence(full, nil), "witness of its head is missing"},
				{"rolled back", evidence(full[:4], w), "rolled back: the log ends at entry 4, but the witness recorded entry 6"},
				{"wiped", evidence(nil, w), "wiped"},
				{"older witness", evidence(full, witnessOf(c, full[:4])), "added without a witness"},
				{"witness mode swapped", evidence(full, &wrongMode), "witness"},
				{"witness edited", evidence(full, &editedW), map[bool]string{true: "MAC does not match", false: "added without a witness"}[c.Keyed()]},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := c.VerifyAll(tc.ev)
					switch {
					case tc.want == "" && err != nil:
						t.Errorf("VerifyAll() = %v, want nil", err)
					case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
						t.Errorf("VerifyAll() = %v, want an error containing %q", err, tc.want)
					}
				})
			}
			// An edited entry with the plain chain recomputed after it: only
			// the witness shows it in a plain chain; the MACs in a keyed one
			// (where recomputing needs the key, which this test has).
			_, err := c.VerifyAll(evidence(recomputed, w))
			if err == nil || !strings.Contains(err.Error(), "recomputed") {
				t.Errorf("VerifyAll(recomputed chain) = %v, want recomputed", err)
			}
		})
	}
}

func TestCheckAppend(t *testing.T) {
	full := sealWith(t, Chain{}, nil, 3)
	w := witnessOf(Chain{}, full)
	if err := CheckAppend(&full[2], w); err != nil {
		t.Errorf("CheckAppend(head, its witness) = %v", err)
	}
	if err := CheckAppend(&full[2], nil); err != nil {
		t.Errorf("CheckAppend(no witness) = %v", err)
	}
	if err := CheckAppend(&full[1], w); !errors.Is(err, ErrBehindWitness) {
		t.Errorf("CheckAppend(older head) = %v, want ErrBehindWitness", err)
	}
	if err := CheckAppend(nil, w); !errors.Is(err, ErrBehindWitness) {
		t.Errorf("CheckAppend(wiped) = %v, want ErrBehindWitness", err)
	}
	other := sealWith(t, Chain{}, full[:2], 1)
	if err := CheckAppend(&other[2], w); !errors.Is(err, ErrBehindWitness) {
		t.Errorf("CheckAppend(replaced head) = %v, want ErrBehindWitness", err)
	}
}

func TestWitnessRoundTrip(t *testing.T) {
	c := NewChain(testKey)
	w := c.Witness(sealWith(t, c, nil, 1)[0])
	got, err := ParseWitness(w.Marshal())
	if err != nil || got != w {
		t.Fatalf("ParseWitness(Marshal()) = %+v, %v; want %+v", got, err, w)
	}
	if !got.checkMAC(testKey) {
		t.Error("the MAC of a parsed witness does not check")
	}
	if strings.Contains(string(w.Marshal()), string(testKey)) {
		t.Error("the witness holds the key")
	}
	for _, bad := range []string{``, `{}`, `{"format":"evald.audit-head.v1","mode":"md5"}`, `{"format":"evald.audit-head.v1","mode":"sha256","extra":1}`} {
		if _, err := ParseWitness([]byte(bad)); err == nil {
			t.Errorf("ParseWitness(%q) = nil error", bad)
		}
	}
}
