package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/evald/evald/governance"
	"github.com/evald/evald/store"
)

// The governance page: threshold changes waiting for a sign-off, active
// silences and the audit log, newest first.

const auditPerPage = 100

type pendingView struct {
	Suite, Since, SinceHref string
	Changes                 []changeRow
	Diff, Command           string
}

type silenceView struct {
	Suite, Target, Href, By, Reason string
	From, Until, UntilTitle         string
}

type auditView struct {
	Seq            int64
	At, AtTitle    string
	Actor, Action  string
	Summary        []kv
	Payload        string
	Hash, PrevHash string
	ActionClass    string
}

type governancePage struct {
	layout
	Pending   []pendingView
	Silences  []silenceView
	Audit     []auditView
	OlderHref string
	NewerHref string
	Verify    string
}

func (s *Server) pageGovernance(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	p := governancePage{layout: s.layout("Governance", "governance"), Verify: "evald audit verify"}

	// Pending changes: the newest finished run of each suite (on any of its
	// targets) says which file thresholds wait for a sign-off.
	type pend struct {
		view  pendingView
		runID int64
	}
	bySuite := map[string]*pend{}
	var order []string
	for _, pair := range s.opts.Daemon.Pairs() {
		_, last, err := s.newestRuns(ctx, pair.Suite, pair.Target)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		if last == nil {
			continue
		}
		pd := bySuite[pair.Suite]
		if pd == nil {
			pd = &pend{}
			bySuite[pair.Suite] = pd
			order = append(order, pair.Suite)
		}
		if last.ID < pd.runID {
			continue
		}
		d := parseDetail(last.Detail)
		pd.runID = last.ID
		pd.view = pendingView{Suite: pair.Suite, Since: fmt.Sprintf("run %d (%s)", last.ID, fmtAgo(last.StartedAt, now)), SinceHref: runHref(last.ID)}
		if len(d.PendingSignoff) > 0 {
			for _, c := range d.PendingSignoff {
				pd.view.Changes = append(pd.view.Changes, toChangeRow(c))
			}
			pd.view.Diff = governance.FormatDiff(d.PendingSignoff)
			pd.view.Command = governance.SignoffCommand(pair.Suite)
		}
	}
	for _, suite := range order {
		if pd := bySuite[suite]; len(pd.view.Changes) > 0 {
			p.Pending = append(p.Pending, pd.view)
		}
	}

	silences, err := s.opts.Store.Silences(ctx, now)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, si := range silences {
		p.Silences = append(p.Silences, silenceView{
			Suite: si.Suite, Target: si.Target, Href: pairHref(si.Suite, si.Target), By: si.By, Reason: si.Reason,
			From: fmtTime(si.Start), Until: fmtIn(si.Until, now), UntilTitle: fmtTime(si.Until),
		})
	}

	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			before = n
		}
	}
	entries, err := s.opts.Store.AuditEntries(ctx, store.AuditFilter{BeforeSeq: before, Limit: auditPerPage})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, e := range entries {
		av := auditView{
			Seq: e.Seq, At: fmtShortTime(e.At, now), AtTitle: fmtTime(e.At), Actor: e.Actor, Action: e.Action,
			Payload: string(e.Payload), Hash: e.Hash, PrevHash: e.PrevHash, ActionClass: actionClass(e.Action),
		}
		av.Summary = payloadSummary(e.Payload)
		p.Audit = append(p.Audit, av)
	}
	if len(entries) == auditPerPage {
		p.OlderHref = "/governance?before=" + strconv.FormatInt(entries[len(entries)-1].Seq, 10) + "#audit"
	}
	if before > 0 {
		p.NewerHref = "/governance#audit"
	}
	s.render(w, r, http.StatusOK, "governance", p)
}

func actionClass(action string) string {
	switch action {
	case governance.ActionThresholdsSignedOff, governance.ActionSuiteAdopted:
		return "mk-signoff"
	case governance.ActionDriftAccepted:
		return "mk-accept"
	case governance.ActionSilenceCreated, governance.ActionSilenceExpired:
		return "mk-silence"
	case governance.ActionSuiteRemoved, governance.ActionSuiteCasesShrunk:
		return "mk-incident"
	}
	return "mk-version"
}

// payloadSummary lists a payload's short scalar fields, in a fixed order
// for the usual ones; long or nested values stay in the full payload.
func payloadSummary(payload []byte) []kv {
	var m map[string]any
	if json.Unmarshal(payload, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index([]string{"suite", "target", "reason", "until", "changes", "cases"}, k); i >= 0 {
			return i
		}
		return 100
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	var out []kv
	for _, k := range keys {
		var val string
		switch v := m[k].(type) {
		case string:
			val = v
		case float64:
			val = strconv.FormatFloat(v, 'g', -1, 64)
		case bool:
			val = strconv.FormatBool(v)
		case []any:
			if k == "changes" {
				val = fmt.Sprintf("%d changes", len(v))
			} else {
				continue
			}
		default:
			continue
		}
		if strings.HasSuffix(k, "hash") && len(val) > 12 {
			continue
		}
		if r := []rune(val); len(r) > 160 {
			val = string(r[:157]) + "..."
		}
		out = append(out, kv{K: k, V: val})
	}
	return out
}
