package governance

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// chain seals n entries, one a minute from t0.
func chain(t testing.TB, n int) []Entry {
	t.Helper()
	var out []Entry
	var prev *Entry
	for i := range n {
		payload := map[string]any{"suite": "faq", "n": i, "reason": "step <" + string(rune('a'+i)) + ">"}
		e, err := Seal(prev, t0.Add(time.Duration(i)*time.Minute), "alice", ActionThresholdsSignedOff, payload)
		if err != nil {
			t.Fatalf("Seal(%d) = %v", i+1, err)
		}
		out = append(out, e)
		prev = &out[len(out)-1]
	}
	return out
}

func TestSeal(t *testing.T) {
	cest := time.FixedZone("CEST", 2*3600)
	at := t0.Add(1234567891 * time.Nanosecond).In(cest)
	first, err := Seal(nil, at, ActorBootstrap, ActionSuiteAdopted, map[string]any{"suite": "faq", "b": 1, "a": []int{2, 1}, "html": "<&>"})
	if err != nil {
		t.Fatalf("Seal() = %v", err)
	}
	want := Entry{
		Seq:      1,
		At:       t0.Add(1234567 * time.Microsecond),
		Actor:    ActorBootstrap,
		Action:   ActionSuiteAdopted,
		Payload:  json.RawMessage(`{"a":[2,1],"b":1,"html":"\u003c\u0026\u003e","suite":"faq"}`),
		PrevHash: GenesisHash,
	}
	if diff := cmp.Diff(want, first, cmpIgnoreHash); diff != "" {
		t.Errorf("Seal() mismatch (-want +got):\n%s", diff)
	}
	if got, want := first.Hash, first.ComputeHash(); got != want {
		t.Errorf("Hash = %s, want ComputeHash() %s", got, want)
	}
	if got, want := len(first.Hash), 64; got != want {
		t.Errorf("len(Hash) = %d, want %d", got, want)
	}

	second, err := Seal(&first, t0.Add(time.Hour), "bob", ActionSilenceCreated, struct {
		Target string `json:"target"`
		Suite  string `json:"suite"`
	}{"prod", "faq"})
	if err != nil {
		t.Fatalf("Seal() = %v", err)
	}
	if got, want := second.Seq, int64(2); got != want {
		t.Errorf("second Seq = %d, want %d", got, want)
	}
	if got, want := second.PrevHash, first.Hash; got != want {
		t.Errorf("second PrevHash = %s, want %s", got, want)
	}
	if got, want := string(second.Payload), `{"suite":"faq","target":"prod"}`; got != want {
		t.Errorf("second Payload = %s, want %s", got, want)
	}
}

var cmpIgnoreHash = cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Hash" }, cmp.Ignore())

func TestSealErrors(t *testing.T) {
	for _, tt := range []struct {
		name, actor, action string
		payload             any
		wantErr             error // nil: any error
	}{
		{name: "no actor", actor: " ", action: ActionSuiteAdopted, wantErr: ErrNoActor},
		{name: "unknown action", actor: "alice", action: "thresholds.lowered"},
		{name: "empty action", actor: "alice", action: ""},
		{name: "payload not JSON", actor: "alice", action: ActionConfigReloaded, payload: map[string]any{"f": func() {}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Seal(nil, t0, tt.actor, tt.action, tt.payload)
			if err == nil {
				t.Fatalf("Seal() = nil, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Seal() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestHashFieldsUnambiguous: moving bytes from one field to its neighbour
// changes the hash.
func TestHashFieldsUnambiguous(t *testing.T) {
	base := Entry{Seq: 1, At: t0, Actor: "ab", Action: "c", Payload: []byte(`{}`), PrevHash: GenesisHash}
	shifted := base
	shifted.Actor, shifted.Action = "a", "bc"
	if a, b := base.ComputeHash(), shifted.ComputeHash(); a == b {
		t.Errorf("ComputeHash() of actor ab/action c = actor a/action bc = %s", a)
	}
	empty := base
	empty.Payload = nil
	nullish := base
	nullish.Payload = []byte{}
	if a, b := empty.ComputeHash(), nullish.ComputeHash(); a != b {
		t.Errorf("ComputeHash() of nil and empty payload differ: %s, %s", a, b)
	}
	zone := base
	zone.At = t0.In(time.FixedZone("CEST", 2*3600))
	if a, b := base.ComputeHash(), zone.ComputeHash(); a != b {
		t.Errorf("ComputeHash() depends on the time zone: %s, %s", a, b)
	}
}

// TestHashEncoding pins the documented encoding: a store in another
// language, or a later evald, must compute the same hashes. The want was
// computed outside Go from the encoding in Seal's doc:
//
//	lp = lambda b: struct.pack('>Q', len(b)) + b
//	sha256(lp(b"evald.audit.v1") + struct.pack('>q', 1) + lp(b"2025-03-01T12:00:00Z")
//	       + lp(b"bootstrap") + lp(b"suite.adopted") + lp(b'{"suite":"faq"}') + lp(b"0"*64))
func TestHashEncoding(t *testing.T) {
	e := Entry{Seq: 1, At: t0, Actor: "bootstrap", Action: "suite.adopted", Payload: []byte(`{"suite":"faq"}`), PrevHash: GenesisHash}
	if got, want := e.ComputeHash(), "35b03e133132da1dc0d4231bef44bdc56587b5e00f879282f996a1c5820f9075"; got != want {
		t.Errorf("ComputeHash() = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	entries := chain(t, 5)
	if err := Verify(entries); err != nil {
		t.Errorf("Verify(untouched) = %v, want nil", err)
	}
	if err := Verify(nil); err != nil {
		t.Errorf("Verify(empty) = %v, want nil", err)
	}
	if err := VerifyHead(entries, 5, entries[4].Hash); err != nil {
		t.Errorf("VerifyHead(untouched) = %v, want nil", err)
	}
	if err := VerifyHead(nil, 0, ""); err != nil {
		t.Errorf("VerifyHead(empty, 0) = %v, want nil", err)
	}

	// The JSON of an entry round-trips to the same hash (as a store would keep it).
	b, err := json.Marshal(entries[2])
	if err != nil {
		t.Fatal(err)
	}
	var back Entry
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := back.ComputeHash(), entries[2].Hash; got != want {
		t.Errorf("ComputeHash() after a JSON round trip = %s, want %s", got, want)
	}
}

func TestVerifyTamper(t *testing.T) {
	for _, tt := range []struct {
		name       string
		tamper     func([]Entry) []Entry
		wantSeq    int64
		wantReason string
	}{
		{
			name: "payload edited",
			tamper: func(e []Entry) []Entry {
				e[2].Payload = []byte(`{"n":2,"reason":"nothing to see","suite":"faq"}`)
				return e
			},
			wantSeq:    3,
			wantReason: "edited",
		},
		{
			name:       "actor edited",
			tamper:     func(e []Entry) []Entry { e[1].Actor = "mallory"; return e },
			wantSeq:    2,
			wantReason: "edited",
		},
		{
			name:       "time edited",
			tamper:     func(e []Entry) []Entry { e[3].At = e[3].At.Add(time.Microsecond); return e },
			wantSeq:    4,
			wantReason: "edited",
		},
		{
			name:       "hash edited",
			tamper:     func(e []Entry) []Entry { e[0].Hash = strings.Repeat("f", 64); return e },
			wantSeq:    1,
			wantReason: "edited",
		},
		{
			name: "edited and resealed",
			tamper: func(e []Entry) []Entry {
				e[2].Actor = "mallory"
				e[2].Hash = e[2].ComputeHash()
				return e
			},
			wantSeq:    4,
			wantReason: "prev_hash does not match entry 3's hash",
		},
		{
			name:       "middle row deleted",
			tamper:     func(e []Entry) []Entry { return slices.Delete(e, 2, 3) },
			wantSeq:    4,
			wantReason: "deleted: entry 3 before it is missing",
		},
		{
			name:       "two middle rows deleted",
			tamper:     func(e []Entry) []Entry { return slices.Delete(e, 1, 3) },
			wantSeq:    4,
			wantReason: "deleted: entries 2 to 3",
		},
		{
			name:       "first row deleted",
			tamper:     func(e []Entry) []Entry { return e[1:] },
			wantSeq:    2,
			wantReason: "deleted: entry 1",
		},
		{
			name: "middle row deleted, later seqs renumbered and resealed",
			tamper: func(e []Entry) []Entry {
				e = slices.Delete(e, 2, 3)
				for i := 2; i < len(e); i++ {
					e[i].Seq--
					e[i].Hash = e[i].ComputeHash()
				}
				return e
			},
			wantSeq:    3,
			wantReason: "prev_hash does not match entry 2's hash",
		},
		{
			name:       "two rows swapped",
			tamper:     func(e []Entry) []Entry { e[1], e[2] = e[2], e[1]; return e },
			wantSeq:    3,
			wantReason: "out of order",
		},
		{
			name:       "first and last swapped",
			tamper:     func(e []Entry) []Entry { e[0], e[4] = e[4], e[0]; return e },
			wantSeq:    5,
			wantReason: "out of order",
		},
		{
			name:       "row duplicated",
			tamper:     func(e []Entry) []Entry { return slices.Insert(e, 2, e[1]) },
			wantSeq:    2,
			wantReason: "out of order: entry 2 follows entry 2",
		},
		{
			name: "row inserted",
			tamper: func(e []Entry) []Entry {
				forged, err := Seal(&e[1], t0, "mallory", ActionSilenceCreated, nil)
				if err != nil {
					panic(err)
				}
				return slices.Insert(e, 2, forged)
			},
			wantSeq:    3,
			wantReason: "out of order: entry 3 follows entry 3",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			entries := tt.tamper(chain(t, 5))
			err := Verify(entries)
			var be *BrokenError
			if !errors.As(err, &be) {
				t.Fatalf("Verify() = %v, want a *BrokenError", err)
			}
			if got, want := be.Seq, tt.wantSeq; got != want {
				t.Errorf("Verify() broken at %d (%v), want %d", got, err, want)
			}
			if !strings.Contains(be.Reason, tt.wantReason) {
				t.Errorf("Verify() reason = %q, want it to contain %q", be.Reason, tt.wantReason)
			}
		})
	}
}

func TestVerifyHead(t *testing.T) {
	full := chain(t, 5)
	head, headHash := int64(5), full[4].Hash
	for _, tt := range []struct {
		name       string
		entries    []Entry
		headSeq    int64
		headHash   string
		wantSeq    int64 // 0: no error
		wantReason string
	}{
		{name: "intact", entries: full, headSeq: head, headHash: headHash},
		{name: "last row deleted", entries: full[:4], headSeq: head, headHash: headHash, wantSeq: 5, wantReason: "deleted: the log ends at entry 4 but its head is entry 5"},
		{name: "last two rows deleted", entries: full[:3], headSeq: head, headHash: headHash, wantSeq: 4, wantReason: "entries 4 to 5 are missing"},
		{name: "all rows deleted", entries: nil, headSeq: head, headHash: headHash, wantSeq: 1, wantReason: "deleted"},
		{name: "row appended past the head", entries: full, headSeq: 4, headHash: full[3].Hash, wantSeq: 5, wantReason: "appended outside evald"},
		{name: "last row replaced", entries: replaceLast(t, full), headSeq: head, headHash: headHash, wantSeq: 5, wantReason: "replaced"},
		{name: "chain broken before the head", entries: slices.Delete(slices.Clone(full), 1, 2), headSeq: head, headHash: headHash, wantSeq: 3, wantReason: "deleted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyHead(tt.entries, tt.headSeq, tt.headHash)
			if tt.wantSeq == 0 {
				if err != nil {
					t.Errorf("VerifyHead() = %v, want nil", err)
				}
				return
			}
			var be *BrokenError
			if !errors.As(err, &be) {
				t.Fatalf("VerifyHead() = %v, want a *BrokenError", err)
			}
			if got, want := be.Seq, tt.wantSeq; got != want {
				t.Errorf("VerifyHead() broken at %d (%v), want %d", got, err, want)
			}
			if !strings.Contains(be.Reason, tt.wantReason) {
				t.Errorf("VerifyHead() reason = %q, want it to contain %q", be.Reason, tt.wantReason)
			}
		})
	}
}

// replaceLast reseals the last entry with other contents.
func replaceLast(t testing.TB, entries []Entry) []Entry {
	t.Helper()
	out := slices.Clone(entries)
	forged, err := Seal(&out[len(out)-2], t0, "mallory", ActionConfigReloaded, nil)
	if err != nil {
		t.Fatal(err)
	}
	out[len(out)-1] = forged
	return out
}

func TestBrokenErrorMessage(t *testing.T) {
	err := &BrokenError{Seq: 7, Reason: "edited: its hash does not match its contents"}
	if got, want := err.Error(), "audit log broken at entry 7: edited: its hash does not match its contents"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestKnownAction(t *testing.T) {
	for _, a := range []string{ActionSuiteAdopted, ActionSuiteRemoved, ActionSuiteCasesShrunk, ActionThresholdsSignedOff,
		ActionDriftAccepted, ActionSilenceCreated, ActionSilenceExpired, ActionConfigReloaded} {
		if !KnownAction(a) {
			t.Errorf("KnownAction(%q) = false, want true", a)
		}
	}
	if KnownAction("suite.deleted") {
		t.Errorf("KnownAction(suite.deleted) = true, want false")
	}
}
