package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/evald/evald/evals"
)

// logBuffer collects log lines from any goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// line returns the first logged line with msg="<msg>".
func (l *logBuffer) line(msg string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for line := range strings.Lines(l.b.String()) {
		if strings.Contains(line, `msg="`+msg+`"`) {
			return line
		}
	}
	return ""
}

// TestRunLogLines: a production run's lines carry no empty role, and its
// end says the drift verdict; a candidate's say its role.
func TestRunLogLines(t *testing.T) {
	logs := &logBuffer{}
	h := newHarness(t, testProject([]*evals.Suite{testSuite("faq", 2)}, []string{"prod"}, ""),
		func(string) *fakeProvider { return &fakeProvider{} },
		func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	if _, err := h.d.Evaluate(context.Background(), Request{Suite: "faq", Target: "prod", Trigger: TriggerSchedule}); err != nil {
		t.Fatal(err)
	}
	started, finished := logs.line("run started"), logs.line("run finished")
	if started == "" || strings.Contains(started, "role=") {
		t.Errorf("run started = %q, want a line without an empty role", started)
	}
	if !strings.Contains(finished, "verdict=warming_up") || strings.Contains(finished, "role=") {
		t.Errorf("run finished = %q, want verdict=warming_up and no role", finished)
	}

	logs = &logBuffer{}
	h.d.log = slog.New(slog.NewTextHandler(logs, nil))
	if _, err := h.d.Gate(context.Background(), GateRequest{Suite: "faq", Target: "prod", Model: "m-2"}); err != nil {
		t.Fatal(err)
	}
	started, finished = logs.line("run started"), logs.line("run finished")
	if !strings.Contains(started, "role=candidate") || !strings.Contains(finished, "role=candidate") || strings.Contains(finished, "verdict=") {
		t.Errorf("candidate's lines = %q, %q; want role=candidate, and no drift verdict", started, finished)
	}
}
