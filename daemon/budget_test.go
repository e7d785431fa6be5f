package daemon

import (
	"context"
	"testing"
)

// TestBudgetCountsJudge: the daily budget of a suite counts what its judge
// spent grading, not only the model under test: a budget the tested model
// alone stays under is spent once grading is added.
func TestBudgetCountsJudge(t *testing.T) {
	proj := judgeProject(t, simURL(t, nil))
	d, _ := gateDaemon(t, proj)
	res, err := d.Evaluate(context.Background(), Request{Suite: "refunds", Target: "prod", Trigger: TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	tested, judged := res.Summary.CostUSD, res.Summary.JudgeCostUSD
	if tested <= 0 || judged <= 0 {
		t.Fatalf("run cost %v, judge cost %v; want both positive", tested, judged)
	}
	k := runKey{suite: "refunds", target: "prod"}
	proj.Config.Suites[0].BudgetUSDPerDay = tested + judged/2
	if !d.overBudget(k) {
		t.Errorf("budget $%v with $%v spent on the model and $%v on its judge: not over, want over", tested+judged/2, tested, judged)
	}
	proj.Config.Suites[0].BudgetUSDPerDay = 2 * (tested + judged)
	if d.overBudget(k) {
		t.Errorf("budget $%v with $%v spent in all: over, want not", 2*(tested+judged), tested+judged)
	}
}
