package drift

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// Identity thresholds of docs/drift.md §1.6: a fingerprint that serves at
// least half of this run's responses and under 5 % of the baseline's.
const (
	identityNowShare  = 0.5
	identityBaseShare = 0.05
)

// IdentityChange records a change of provider identity at one run.
type IdentityChange struct {
	Run     int64          `json:"run"`
	Seq     int            `json:"seq"` // eligible-run counter of the detector
	At      time.Time      `json:"at,omitzero"`
	Changes []SourceChange `json:"changes"`
}

// SourceChange is the identity change of one source: "target" (the model
// under test) or "judge" (the LLM that grades model-graded assertions).
type SourceChange struct {
	Source string `json:"source"`
	// Reason says what changed, e.g. `new model "gpt-4o-2024-11-20"` or
	// `fingerprint "fp_C" serves 90% of this run's responses and 0% of those of runs 1–20 (the identity baseline)`.
	Reason string       `json:"reason"`
	Before Distribution `json:"before"`
	After  Distribution `json:"after"`
}

// Source returns "target", "judge" or "target+judge".
func (c *IdentityChange) Source() string {
	var t, j bool
	for _, s := range c.Changes {
		t = t || s.Source == "target"
		j = j || s.Source == "judge"
	}
	switch {
	case t && j:
		return "target+judge"
	case j:
		return "judge"
	}
	return "target"
}

func (c *IdentityChange) clone() *IdentityChange {
	out := *c
	out.Changes = slices.Clone(c.Changes)
	for i := range out.Changes {
		out.Changes[i].Before = c.Changes[i].Before.clone()
		out.Changes[i].After = c.Changes[i].After.clone()
	}
	return &out
}

// IdentityShift compares one run's identity with a baseline distribution.
// It reports a change when the run returned a model the baseline never
// saw, or when one fingerprint serves ≥ 50 % of the run's responses and
// < 5 % of the baseline's (providers serve several fingerprints at once,
// so distributions are compared, never single values). A dimension the
// baseline has no data for is not compared.
func IdentityShift(base, now Distribution) (reason string, changed bool) {
	return identityShift(base, now, "the baseline")
}

// identityShift is IdentityShift with the baseline described as against
// ("runs 1–20, the identity baseline"), so that a reason says what it
// compares with.
func identityShift(base, now Distribution, against string) (reason string, changed bool) {
	if len(base.Models) > 0 {
		for _, m := range slices.Sorted(maps.Keys(now.Models)) {
			if m != "" && now.Models[m] > 0 && base.Models[m] == 0 {
				return fmt.Sprintf("new model %q", m), true
			}
		}
	}
	baseTotal, nowTotal := total(base.Fingerprints), total(now.Fingerprints)
	if baseTotal > 0 && nowTotal > 0 {
		for _, fp := range slices.Sorted(maps.Keys(now.Fingerprints)) {
			if fp == "" {
				continue
			}
			sNow := float64(now.Fingerprints[fp]) / float64(nowTotal)
			sBase := float64(base.Fingerprints[fp]) / float64(baseTotal)
			if sNow >= identityNowShare && sBase < identityBaseShare {
				return fmt.Sprintf("fingerprint %q serves %.0f%% of this run's responses and %.0f%% of those of %s",
					fp, 100*sNow, 100*sBase, against), true
			}
		}
	}
	return "", false
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += max(v, 0)
	}
	return n
}

// detectIdentity compares the run's target and judge identities with the
// state's baselines.
func detectIdentity(id *IdentityState, in RunInput, seq int) *IdentityChange {
	var ch IdentityChange
	srcs := []struct {
		name string
		base *Baseline
		now  Distribution
	}{
		{"target", &id.Target, Distribution{Models: in.Models, Fingerprints: in.Fingerprints}},
		{"judge", &id.Judge, Distribution{Models: in.JudgeModels, Fingerprints: in.JudgeFingerprints}},
	}
	for _, s := range srcs {
		if s.base.Runs == 0 {
			continue
		}
		if reason, ok := identityShift(s.base.Distribution, s.now, s.base.describe(id.Last)); ok {
			ch.Changes = append(ch.Changes, SourceChange{
				Source: s.name, Reason: reason,
				Before: s.base.Distribution.clone(), After: s.now.clone(),
			})
		}
	}
	// The usage signature is the target's: its tokenizer and template.
	if reason, ok := usageShift(id.Usage, promptTokensOf(in), id.Usage.describe(id.Last)); ok {
		ch.Changes = append(ch.Changes, SourceChange{Source: "target", Reason: reason})
	}
	if len(ch.Changes) == 0 {
		return nil
	}
	ch.Run, ch.Seq, ch.At = in.RunID, seq, in.At
	return &ch
}

// updateBaselines pools this run into the identity baselines, or restarts
// them at this run when the identity changed.
func updateBaselines(id *IdentityState, in RunInput, changed *IdentityChange, bmax int) {
	if changed != nil {
		id.Usage = UsageBaseline{}
	}
	id.Usage.add(in.RunID, promptTokensOf(in), bmax)
	for _, s := range []struct {
		base *Baseline
		now  Distribution
	}{
		{&id.Target, Distribution{Models: in.Models, Fingerprints: in.Fingerprints}},
		{&id.Judge, Distribution{Models: in.JudgeModels, Fingerprints: in.JudgeFingerprints}},
	} {
		if changed != nil {
			*s.base = Baseline{}
		}
		if s.base.Runs >= bmax {
			continue
		}
		if s.base.From == 0 {
			s.base.From = in.RunID
		}
		s.base.To = in.RunID
		s.base.Models = addCounts(s.base.Models, s.now.Models)
		s.base.Fingerprints = addCounts(s.base.Fingerprints, s.now.Fingerprints)
		s.base.Runs++
	}
}

// describe names the runs a baseline pools for a reason: "runs 1–20 (the
// identity baseline)", or after an identity change "runs 30–49 (the
// identity adopted at run 30)", not "the baseline" for a fingerprint that
// was adopted later.
func (b Baseline) describe(last *IdentityChange) string {
	what := "the identity baseline"
	if last != nil {
		what = fmt.Sprintf("the identity adopted at run %d", last.Run)
	}
	switch b.From {
	case 0:
		return what
	case b.To:
		return fmt.Sprintf("run %d (%s)", b.From, what)
	}
	return fmt.Sprintf("runs %d–%d (%s)", b.From, b.To, what)
}

func addCounts(dst, src map[string]int) map[string]int {
	for k, v := range src {
		if k == "" || v <= 0 {
			continue
		}
		if dst == nil {
			dst = map[string]int{}
		}
		dst[k] += v
	}
	return dst
}

// CheckStatus reports the known-change-point check at one look.
type CheckStatus struct {
	ChangeRun int64 `json:"change_run"`
	Look      int   `json:"look"` // m, 1..M
	M         int   `json:"m"`
	// DPooled is the mean of the run differences since the change, Z its
	// standardised value D^(m)/√(SE_cur²/m + SE_base²); the check rejects
	// when Z ≤ −Critical (Critical = z_{1−α/M}).
	DPooled  float64 `json:"d_pooled"`
	Z        float64 `json:"z"`
	Critical float64 `json:"critical"`
	// MDE80 is the drop this check detects with 80 % power after M looks.
	MDE80 float64 `json:"mde80"`
	// Outcome is "running", "behaviour_changed" or "no_change".
	Outcome string `json:"outcome"`
}

// Check outcomes.
const (
	CheckRunning          = "running"
	CheckBehaviourChanged = "behaviour_changed"
	CheckNoChange         = "no_change"
)

// look adds one run to the check and evaluates it.
func (ck *Check) look(cfg Config, d, seCur, seBase float64, cur RunScores) CheckStatus {
	ck.Looks++
	ck.SumD += d
	ck.SumVarCur += seCur * seCur
	ck.SEBase = seBase
	ck.Pool.add(cur)
	return ck.status(cfg)
}

func (ck *Check) status(cfg Config) CheckStatus {
	m := float64(ck.Looks)
	crit := NormalQuantile(1 - cfg.Alpha/float64(cfg.M))
	st := CheckStatus{ChangeRun: ck.ChangeRun, Look: ck.Looks, M: cfg.M, Critical: crit, Outcome: CheckRunning}
	if ck.Looks == 0 {
		return st
	}
	meanVar := ck.SumVarCur / m
	st.DPooled = ck.SumD / m
	se := math.Sqrt(meanVar/m + ck.SEBase*ck.SEBase)
	if se > 0 {
		st.Z = st.DPooled / se
	}
	st.MDE80 = (crit + NormalQuantile(0.8)) * math.Sqrt(meanVar/float64(cfg.M)+ck.SEBase*ck.SEBase)
	switch {
	case st.Z <= -crit:
		st.Outcome = CheckBehaviourChanged
	case ck.Looks >= cfg.M:
		st.Outcome = CheckNoChange
	}
	return st
}

// identityAttribution names the party a change is attributed to.
func identityAttribution(source string, run int64) string {
	if source == "judge" {
		return fmt.Sprintf("scorer (judge identity changed at run %d)", run)
	}
	return fmt.Sprintf("provider (identity changed at run %d)", run)
}

// identityWho names whose identity changed, for messages: "provider"
// (the model under test), "judge" or "provider and judge".
func identityWho(source string) string {
	switch source {
	case "judge":
		return "judge"
	case "target+judge":
		return "provider and judge"
	}
	return "provider"
}

// AttributionSilent is the attribution of an alarm with no identity and no
// version change: our side is byte-for-byte the same.
const AttributionSilent = "silent provider change or provider incident"
