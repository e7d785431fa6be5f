package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/evald/evald/daemon"
	"github.com/evald/evald/store"
)

// JUnit XML, as the common JUnit XSD (the Ant/Jenkins schema CI systems
// read) has it: testsuites > testsuite(name, tests, failures, errors,
// skipped, time) > testcase(classname, name, time) > failure(message, type)
// or error(message, type). One testsuite per (suite, target) run, one
// testcase per case, plus one per governed threshold and, for a
// candidate, one for the comparison with its baseline.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func seconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'f', 3, 64) }

// junitOf builds the document for the runs of one `evald run`.
func junitOf(reps []*runReport) junitSuites {
	doc := junitSuites{Name: "evald run"}
	totalMS := 0.0
	for _, rep := range reps {
		s := junitSuiteOf(rep)
		doc.Suites = append(doc.Suites, s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		totalMS += float64(rep.res.Run.DurationMS)
	}
	doc.Time = seconds(totalMS)
	return doc
}

func junitSuiteOf(rep *runReport) junitSuite {
	res := rep.res
	r := res.Run
	class := r.Suite + "." + r.Target
	s := junitSuite{Name: r.Suite + " on " + r.Target, Time: seconds(float64(r.DurationMS))}
	s.Properties = []junitProperty{
		{"run_id", strconv.FormatInt(r.ID, 10)}, {"status", string(r.Status)}, {"candidate", strconv.FormatBool(rep.candidate)},
		{"suite_version", r.SuiteVersion}, {"prompt_version", r.PromptVersion}, {"target_version", r.TargetVersion},
	}
	if r.Status == store.StatusRefused {
		s.Cases = append(s.Cases, junitCase{ClassName: class + ".governance", Name: "thresholds signed off", Time: seconds(0),
			Error: &junitProblem{Message: "refused: the suite's thresholds differ from the signed-off ones", Type: "refused",
				Text: "To put them in force, record who and why: " + rep.cmd.signoff(r.Suite)}})
	}
	for _, c := range rep.cases {
		tc := junitCase{ClassName: class, Name: c.ID, Time: seconds(c.LatencyMS)}
		switch {
		case c.Samples == 0 && c.Missing > 0:
			tc.Error = &junitProblem{Message: fmt.Sprintf("no usable answer in %d attempts (%s)", c.Missing, strings.Join(c.Errors, ", ")), Type: "no_answer"}
		case c.Samples == 0:
			tc.Skipped = &junitSkipped{Message: "not run"}
		case c.Passed < c.Samples:
			msg := fmt.Sprintf("%d of %d samples failed", c.Samples-c.Passed, c.Samples)
			if len(c.Reasons) > 0 {
				msg += ": " + strings.Join(c.Reasons, "; ")
			}
			tc.Failure = &junitProblem{Message: msg, Type: "assertion", Text: "source: " + c.Source + "\nanswer: " + c.Output}
		}
		s.Cases = append(s.Cases, tc)
	}
	if r.Status != store.StatusRefused {
		for _, t := range []struct {
			metric string
			want   *float64
		}{{"pass_rate", res.Suite.Thresholds.PassRate}, {"mean_score", res.Suite.Thresholds.MeanScore}} {
			if t.want == nil {
				continue
			}
			tc := junitCase{ClassName: class + ".thresholds", Name: fmt.Sprintf("%s >= %.3f", t.metric, *t.want), Time: seconds(0)}
			for _, f := range res.ThresholdFailures {
				if f.Metric == t.metric {
					tc.Failure = &junitProblem{Message: f.String(), Type: "threshold"}
				}
			}
			s.Cases = append(s.Cases, tc)
		}
	}
	if g := res.Gate; g != nil {
		tc := junitCase{ClassName: class + ".gate", Name: "no regression against " + baselineName(g), Time: seconds(0)}
		switch g.Decision {
		case daemon.DecisionRegressed:
			tc.Failure = &junitProblem{Message: g.Message, Type: "regression", Text: regressedText(g)}
		case daemon.DecisionNoComparison:
			tc.Error = &junitProblem{Message: g.Message, Type: "no_comparison"}
		}
		s.Cases = append(s.Cases, tc)
	}
	if r.Status == store.StatusErrored || r.Status == store.StatusInterrupted {
		msg := "the run could not be completed: " + incompleteWhy(rep)
		s.Cases = append(s.Cases, junitCase{ClassName: class, Name: "run completed", Time: seconds(0),
			Error: &junitProblem{Message: msg, Type: string(r.Status)}})
	}
	for _, c := range s.Cases {
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	return s
}

func regressedText(g *daemon.GateVerdict) string {
	var b strings.Builder
	for _, c := range g.RegressedCases {
		fmt.Fprintf(&b, "%s: %d/%d -> %d/%d passed; answer: %s", c.ID, c.BaselinePassed, c.BaselineSamples, c.CandidatePassed, c.CandidateSamples, c.CandidateOutput)
		if len(c.Reasons) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(c.Reasons, "; "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func writeJUnit(w io.Writer, reps []*runReport) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitOf(reps)); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
