package server

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evald/evald/store"
)

// TestAPIRunsPages: the next link walks every run exactly once, newest
// first, a run's detail comes only with detail=1, and a bad cursor is a
// 400.
func TestAPIRunsPages(t *testing.T) {
	ctx := context.Background()
	s, st := newServer(t, &fakeDaemon{})
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var runs []store.Run
	for i := range 1234 {
		at := t0.Add(time.Duration(i) * time.Minute)
		target := "prod"
		if i%2 == 1 {
			target = "staging"
		}
		runs = append(runs, store.Run{Suite: "faq", Target: target, Trigger: "schedule", Status: store.StatusPassed,
			StartedAt: at, FinishedAt: at.Add(time.Second), Detail: `{"valid_cases":3}`})
	}
	if err := st.ImportRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	all, err := st.Runs(ctx, store.RunFilter{Target: "staging", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, r := range all {
		want = append(want, r.ID)
	}

	linkRE := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	var got []int64
	next, pages := "/api/runs?target=staging&limit=250", 0
	for next != "" {
		resp, body := fetch(t, s, next)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d %s", next, resp.StatusCode, body)
		}
		var page []struct {
			RunID  int64           `json:"run_id"`
			Detail json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatalf("GET %s: %v\n%s", next, err, body)
		}
		if len(page) > 250 {
			t.Fatalf("GET %s: %d runs, want at most 250", next, len(page))
		}
		for _, r := range page {
			if r.Detail != nil {
				t.Fatalf("GET %s: run %d carries detail %s without detail=1", next, r.RunID, r.Detail)
			}
			got = append(got, r.RunID)
		}
		next = ""
		if l := resp.Header.Get("Link"); l != "" {
			m := linkRE.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link header %q, want <URL>; rel=\"next\"", l)
			}
			next = m[1]
		}
		if pages++; pages > 10 {
			t.Fatal("the next links do not end")
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("runs reached through the next links (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("%d runs in pages of 250 took %d pages, want 3 (no empty last page)", len(want), pages)
	}

	resp, body := fetch(t, s, "/api/runs?limit=2&detail=1")
	var withDetail []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &withDetail); err != nil || len(withDetail) != 2 || string(withDetail[0]["detail"]) != `{"valid_cases":3}` {
		t.Errorf("GET /api/runs?limit=2&detail=1 = %d %s, want two runs with their detail", resp.StatusCode, body)
	}
	if resp, body := fetch(t, s, "/api/runs?suite=none"); resp.StatusCode != 200 || strings.TrimSpace(body) != "[]" || resp.Header.Get("Link") != "" {
		t.Errorf("GET /api/runs?suite=none = %d %q (Link %q), want an empty list and no next link", resp.StatusCode, body, resp.Header.Get("Link"))
	}
	for _, q := range []string{"before=0", "before=x", "detail=yes"} {
		if resp, body := fetch(t, s, "/api/runs?"+q); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /api/runs?%s = %d %s, want 400", q, resp.StatusCode, body)
		}
	}
}
