package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/signtest"
	"github.com/evald/evald/store"
)

// enforcedAgentYAML is a two-turn agent suite; PASS_RATE and TURN2 are
// filled in per version of its files.
const enforcedAgentYAML = `name: agent
prompt:
  - role: system
    content: "You are the support agent."
tools:
  - type: function
    function:
      name: lookup_order
      description: Find an order
      parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
tool_results:
  lookup_order:
    - result: {status: shipped}
thresholds: {pass_rate: PASS_RATE}
defaultTest:
  assert:
    - type: is-valid-openai-tools-call
tests:
  - id: c1
    turns:
      - user: "Where is order A1?"
        assert:
          - type: trajectory:tool-used
            value: lookup_order
          - type: icontains
            value: shipped
      - user: "Thanks. Anything else?"
        assert:
          - type: icontains
            value: shipped
TURN2
`

func loadAgentVersion(t *testing.T, passRate, turn2 string) *evals.Suite {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.yaml")
	text := strings.NewReplacer("PASS_RATE", passRate, "TURN2", turn2).Replace(enforcedAgentYAML)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := evals.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// evaluateEnforced signs off signed, then runs files (a pending change) on
// an agent that always answers right.
func evaluateEnforced(t *testing.T, signed, files *evals.Suite) *Result {
	t.Helper()
	var broken atomic.Bool
	srv := samplingAgentServer(t, &broken, nil)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "evald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	proj := &configs.Project{
		Config: &configs.Config{
			Targets: []configs.Target{{Name: "prod", BaseURL: srv.URL + "/v1", Model: "m-1", Concurrency: 2, Timeout: 10 * time.Second, Retries: 1}},
			Suites:  []configs.SuiteRef{{File: "agent.yaml", Targets: []string{"prod"}, Schedule: "@hourly"}},
		},
		Suites: []*evals.Suite{signed},
	}
	signtest.Project(t, proj)
	proj.Suites = []*evals.Suite{files}
	d, err := New(Options{Project: proj, Store: st, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Evaluate(ctx, Request{Suite: "agent", Target: "prod", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	if !res.Governance.Pending() {
		t.Fatalf("the files' change is not pending: %+v", res.Governance)
	}
	return res
}

// TestEnforceAgentSuite: serve runs an agent suite with a pending change on
// its signed-off bar, with the suite's tools and each signed assertion on
// its own turn, whether the files add or drop a turn's assertion.
func TestEnforceAgentSuite(t *testing.T) {
	extra := "          - type: not-icontains\n            value: zzz"
	for _, tc := range []struct{ name, signedRate, signedTurn2, fileRate, fileTurn2 string }{
		{"files add a turn 2 assertion and lower the bar", "1.0", "", "0.5", extra},
		{"files drop a turn 2 assertion", "1.0", extra, "1.0", ""},
		{"files lower the bar only", "1.0", "", "0.5", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := evaluateEnforced(t, loadAgentVersion(t, tc.signedRate, tc.signedTurn2), loadAgentVersion(t, tc.fileRate, tc.fileTurn2))
			if res.Run.Status != store.StatusPassed || res.Run.PassRate == nil || *res.Run.PassRate != 1 {
				t.Errorf("an agent that answers right, on the signed bar: run %s, pass rate %v, error %q", res.Run.Status, res.Run.PassRate, res.Run.ErrorText)
			}
		})
	}
}

// TestEnforceRegroupsTurns: the signed-off assertions, kept in the set's
// sorted order, are regrouped by their turn, and compile with the suite's
// tools and its signed max_tool_steps.
func TestEnforceRegroupsTurns(t *testing.T) {
	extra := "          - type: not-icontains\n            value: zzz"
	signedSuite := loadAgentVersion(t, "1.0", extra)
	signedSuite.MaxToolSteps = 2
	signed := governance.FromSuite(signedSuite, nil)
	files := loadAgentVersion(t, "0.5", "")
	got, err := enforce(files, &signed)
	if err != nil {
		t.Fatal(err)
	}
	if got.MaxToolSteps != 2 {
		t.Errorf("max_tool_steps %d, want the signed 2", got.MaxToolSteps)
	}
	c := got.Cases[0]
	want := [][]string{
		{"icontains", "is-valid-openai-tools-call", "trajectory:tool-used"},
		{"icontains", "is-valid-openai-tools-call", "not-icontains"},
	}
	if len(c.Turns) != len(want) {
		t.Fatalf("turns %+v, want %d", c.Turns, len(want))
	}
	for k, tw := range want {
		turn := c.Turns[k]
		var types []string
		for _, a := range c.Asserts[turn.First:turn.End] {
			types = append(types, a.Spec().Type)
		}
		if strings.Join(types, " ") != strings.Join(tw, " ") || turn.User != files.Cases[0].Turns[k].User {
			t.Errorf("turn %d %q checks %v, want %v", k+1, turn.User, types, tw)
		}
	}
	if len(c.Asserts) != c.Turns[1].End {
		t.Errorf("%d assertions, the turns cover %d", len(c.Asserts), c.Turns[1].End)
	}
}
