package daemon

import (
	"fmt"
	"time"

	"github.com/evald/evald/alerts"
	"github.com/evald/evald/store"
)

func storeFilter(k runKey, limit int) store.RunFilter {
	return store.RunFilter{Suite: k.suite, Target: k.target, Limit: limit}
}

// overBudget reports whether the suite has spent its budget_usd_per_day
// (UTC day, all targets, what its judge spent grading included), counting
// and logging the skip when it has. Budgets are per suite only: a judge
// target's grading is charged to the suite it graded.
func (d *Daemon) overBudget(k runKey) bool {
	p := d.Project()
	budget := 0.0
	for i, s := range p.Suites {
		if s.Name == k.suite {
			budget = p.Config.Suites[i].BudgetUSDPerDay
		}
	}
	if budget <= 0 {
		return false
	}
	now := d.opts.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	spent, err := d.store.CostSince(d.runCtx, k.suite, day)
	if err != nil {
		d.log.Error("read today's spend; running anyway", "suite", k.suite, "err", err)
		return false
	}
	if spent < budget {
		return false
	}
	d.metrics.skipped.WithLabelValues(k.suite, k.target, "budget").Inc()
	d.raise(d.runCtx, k.suite, k.target, alerts.KindBudgetExhausted, &alerts.Event{
		Kind: alerts.KindBudgetExhausted, Suite: k.suite, Target: k.target, At: now,
		Summary: fmt.Sprintf("spent $%.2f of the $%.2f daily budget; scheduled runs are skipped until midnight UTC", spent, budget),
	}, "")
	d.log.Warn("daily budget spent; scheduled run skipped", "suite", k.suite, "target", k.target,
		"spent_usd", spent, "budget_usd", budget)
	return true
}
