package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// strictJudge wraps the simulator: it counts the judge's chat requests and,
// while strict is set, turns every passing verdict of the judge into a
// failing one, as a judge that changed would.
type strictJudge struct {
	strict atomic.Bool
	chats  atomic.Int64
}

func (s *strictJudge) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req struct {
			Model string `json:"model"`
		}
		judging := json.Unmarshal(body, &req) == nil && req.Model == "sim-judge" && r.URL.Path == "/v1/chat/completions"
		if !judging {
			next.ServeHTTP(w, r)
			return
		}
		s.chats.Add(1)
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		out := rec.Body.Bytes()
		if s.strict.Load() {
			out = bytes.ReplaceAll(out, []byte(`\"pass\":true`), []byte(`\"pass\":false`))
		}
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.WriteHeader(rec.Code)
		w.Write(out)
	})
}

// TestRegrade: the same judge agrees with its grades and leaves the run,
// its samples and the drift state as they were (only its spend is
// recorded, see TestBudgetCountsRegrades), even with its grades in the
// cache; a stricter judge disagrees and the flipped case is named.
func TestRegrade(t *testing.T) {
	ctx := context.Background()
	var sj strictJudge
	d, st := gateDaemon(t, judgeProject(t, simURL(t, sj.wrap)))
	res, err := d.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerManual})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	id := res.Run.ID
	runBefore, _ := st.Run(ctx, id)
	samplesBefore, _ := st.Samples(ctx, id)
	stateBefore, lastBefore, _ := st.LoadDriftState(ctx, "refunds", "prod")
	chats := sj.chats.Load()

	rep, err := d.Regrade(ctx, id, "refunds", RegradeOptions{})
	if err != nil {
		t.Fatalf("Regrade: %v", err)
	}
	if got := sj.chats.Load() - chats; got != 2 {
		t.Errorf("judge chat requests of the regrade = %d, want 2 (the grade cache holds them, but a regrade asks again)", got)
	}
	if rep.Status != RegradeAgree || rep.NPassToFail+rep.NFailToPass != 0 || rep.Samples.Compared != 3 {
		t.Errorf("Regrade by the same judge = %s, flips %d/%d, compared %d; want agree, 0/0, 3: %s",
			rep.Status, rep.NPassToFail, rep.NFailToPass, rep.Samples.Compared, rep.Conclusion)
	}
	if rep.JudgeThen == nil || rep.JudgeThen.TargetVersion != rep.JudgeNow.TargetVersion || rep.JudgeVersionChanged {
		t.Errorf("judge then %+v, now %+v: want the same recorded judge", rep.JudgeThen, rep.JudgeNow)
	}
	if len(rep.JudgeNow.Models) == 0 || rep.CostUSD <= 0 || rep.Tokens.Prompt == 0 {
		t.Errorf("judge now %+v, cost %v, tokens %+v: want the models the judge returned and a paid regrade", rep.JudgeNow, rep.CostUSD, rep.Tokens)
	}
	if *rep.Stored.PassRate != *rep.Regraded.PassRate || *rep.Stored.PassRate != *runBefore.PassRate {
		t.Errorf("pass rates stored %v, regraded %v, run %v: want all equal", *rep.Stored.PassRate, *rep.Regraded.PassRate, *runBefore.PassRate)
	}

	sj.strict.Store(true)
	rep, err = d.Regrade(ctx, id, "refunds", RegradeOptions{})
	if err != nil {
		t.Fatalf("Regrade: %v", err)
	}
	if rep.Status != RegradeDisagree || rep.NPassToFail != 1 || len(rep.PassToFail) != 1 || rep.PassToFail[0].CaseID != "window" {
		t.Errorf("Regrade by a stricter judge = %s, pass->fail %+v; want disagree naming window: %s", rep.Status, rep.PassToFail, rep.Conclusion)
	}

	// Nothing stored changed.
	runAfter, _ := st.Run(ctx, id)
	samplesAfter, _ := st.Samples(ctx, id)
	stateAfter, lastAfter, _ := st.LoadDriftState(ctx, "refunds", "prod")
	if diff := cmp.Diff(runBefore, runAfter); diff != "" {
		t.Errorf("the run changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(samplesBefore, samplesAfter); diff != "" {
		t.Errorf("the samples changed (-before +after):\n%s", diff)
	}
	if !bytes.Equal(stateBefore, stateAfter) || lastBefore != lastAfter {
		t.Errorf("the drift state changed")
	}
}

func TestRegradeRefusals(t *testing.T) {
	ctx := context.Background()
	proj := judgeProject(t, simURL(t, nil))
	d, _ := gateDaemon(t, proj)
	res, err := d.Evaluate(ctx, Request{Suite: "refunds", Target: "prod", Trigger: TriggerManual})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	id := res.Run.ID
	if _, err := d.Regrade(ctx, id+1, "refunds", RegradeOptions{}); !errors.Is(err, ErrUnknown) {
		t.Errorf("Regrade(unknown run) = %v, want ErrUnknown", err)
	}
	// A suite the config lacks is an unknown name before any run is read.
	if _, err := d.Regrade(ctx, id, "refnds", RegradeOptions{}); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "did you mean refunds?") {
		t.Errorf("Regrade(unknown suite) = %v, want ErrUnknown with a did-you-mean", err)
	}

	// The suite's version moves on (as after an edit of the file).
	suite := proj.Suites[0]
	old := suite.Version
	suite.Version = "0123456789abcdef0123456789abcdef"
	_, err = d.Regrade(ctx, id, "refunds", RegradeOptions{})
	if !errors.Is(err, ErrSuiteChanged) || !errors.Is(err, ErrCannotRegrade) {
		t.Fatalf("Regrade(changed suite) = %v, want ErrSuiteChanged", err)
	}
	for _, v := range []string{old[:12], "0123456789ab"} {
		if !bytes.Contains([]byte(err.Error()), []byte(v)) {
			t.Errorf("Regrade(changed suite) = %q, want both versions named (%s)", err, v)
		}
	}
	rep, err := d.Regrade(ctx, id, "refunds", RegradeOptions{AllowSuiteChange: true})
	if err != nil || !rep.SuiteChanged || rep.Status != RegradeAgree {
		t.Errorf("Regrade(changed suite, allowed) = %+v, %v; want an agreeing report marked suite_changed", rep, err)
	}
}
