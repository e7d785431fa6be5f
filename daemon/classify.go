package daemon

import (
	"fmt"
	"github.com/evald/evald/evals"
	"github.com/evald/evald/runner"
	"github.com/evald/evald/store"
)

// classifyInput is what classify judges a finished run by.
type classifyInput struct {
	Suite   *evals.Suite
	Summary runner.Summary
	// Cases are the sample writer's tallies, one per suite case, in order.
	Cases []CaseFailure
	Gov   ThresholdCheck
	// Candidate and Role say what the run measured (Request.Candidate and
	// Request.role); they go to the detail.
	Candidate bool
	Role      string
	Judge     *JudgeDetail
	// Gate is the comparison of a candidate with its baseline (nil when
	// there is none).
	Gate *gateDecision
}

// classification is a finished run's status and what the run keeps in its
// detail. The drift detector may still turn a production run's passed or
// failed into regressed (withVerdict).
type classification struct {
	Status            store.Status
	ErrorText         string
	ThresholdFailures []evals.ThresholdFailure
	FailedCases       []CaseFailure
	Detail            Detail
}

// classify decides a finished run's status from its outcome, its
// thresholds and, for a gate's candidate, the comparison with its
// baseline, and lists the cases that did not pass every sample.
func classify(in classifyInput) classification {
	var c classification
	for i, tally := range in.Cases {
		if tally.Samples > 0 && tally.Passed < tally.Samples {
			tally.ID = in.Suite.Cases[i].ID
			c.FailedCases = append(c.FailedCases, tally)
		}
	}
	sum := in.Summary
	switch sum.Outcome {
	case runner.Interrupted:
		c.Status = store.StatusInterrupted
	case runner.Errored:
		c.Status = store.StatusErrored
		if sum.TimedOut > 0 {
			c.ErrorText = fmt.Sprintf("the suite's timeout of %s ran out after %d samples", sum.TimedOut, sum.Samples)
		}
	default:
		c.ThresholdFailures = in.Suite.Thresholds.Check(sum.PassRate, sum.MeanScore, sum.ValidCases > 0)
		c.Status = store.StatusPassed
		if len(c.ThresholdFailures) > 0 {
			c.Status = store.StatusFailed
		}
	}
	var gate *GateVerdict
	if g := in.Gate; g != nil {
		gate = g.Verdict
		if judged := c.Status == store.StatusPassed || c.Status == store.StatusFailed; judged {
			switch {
			case g.Untrustworthy:
				c.Status, c.ErrorText = store.StatusErrored, g.Verdict.Message
			case g.Verdict.Regressed():
				c.Status = store.StatusRegressed
			}
		}
	}
	c.Detail = Detail{
		ThresholdFailures: c.ThresholdFailures,
		Models:            sum.Models,
		Fingerprints:      sum.Fingerprints,
		ErrorsByClass:     sum.ErrorsByClass,
		WhyMissing:        runner.ErrorSummary(sum.ErrorsByClass, sum.FirstErrors),
		ValidCases:        sum.ValidCases,
		FailedCases:       c.FailedCases,
		PendingSignoff:    in.Gov.Changes,
		SignoffHash:       in.Gov.Signed.Hash,
		Candidate:         in.Candidate,
		GateRole:          in.Role,
		Gate:              gate,
		Judge:             in.Judge,
	}
	return c
}
