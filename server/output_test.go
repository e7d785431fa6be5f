package server

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evald/evald/api"
	"github.com/evald/evald/store"
)

// TestLongOutputsAreClipped: a run page and /api/runs/{id} serve at most
// MaxOutputShown bytes of an output, with a link to the whole of it.
func TestLongOutputsAreClipped(t *testing.T) {
	s, st := newServer(t, &fakeDaemon{})
	ctx := context.Background()
	id, err := st.CreateRun(ctx, store.Run{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 300<<10) // 600 KB, two bytes a character
	if err := st.AddSamples(ctx, id, []store.Sample{{CaseID: "big case", Repeat: 0, Output: long, Pass: false}}); err != nil {
		t.Fatal(err)
	}
	pr := 0.0
	if err := st.FinishRun(ctx, store.Run{ID: id, Status: "failed", FinishedAt: time.Now(), PassRate: &pr, MeanScore: &pr, Samples: 1, Cases: 1}); err != nil {
		t.Fatal(err)
	}
	runID := strconv.FormatInt(id, 10)
	link := "/runs/" + runID + "/output?case=big+case&repeat=0"

	code, page := get(t, s, "/runs/"+runID)
	if code != http.StatusOK {
		t.Fatalf("run page = %d", code)
	}
	if n := strings.Count(page, "é"); n > api.MaxOutputShown {
		t.Errorf("run page shows %d characters of the output, want at most %d bytes' worth", n, api.MaxOutputShown)
	}
	if !strings.Contains(html.UnescapeString(page), `href="`+link+`">full output</a>`) {
		t.Errorf("run page lacks the full-output link %s", link)
	}

	code, body := get(t, s, "/api/runs/"+runID)
	if code != http.StatusOK {
		t.Fatalf("GET /api/runs/%s = %d", runID, code)
	}
	var got struct {
		Samples []api.Sample `json:"samples"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Samples) != 1 {
		t.Fatalf("decode: %v (%d samples)", err, len(got.Samples))
	}
	if sm := got.Samples[0]; len(sm.Output) > api.MaxOutputShown || !strings.HasPrefix(long, sm.Output) || sm.OutputURL != link {
		t.Errorf("API sample: %d bytes, url %q; want at most %d bytes, a prefix, and %q", len(sm.Output), sm.OutputURL, api.MaxOutputShown, link)
	}

	code, full := get(t, s, link)
	if code != http.StatusOK || full != long {
		t.Errorf("GET %s = %d, %d bytes; want the whole %d-byte output", link, code, len(full), len(long))
	}
	if code, _ := get(t, s, "/runs/"+runID+"/output?case=nope&repeat=0"); code != http.StatusNotFound {
		t.Errorf("unknown sample = %d, want 404", code)
	}
}
