package testfiles

import "strings"

// RefundPrompt is a prompt, a YAML list of messages, whose system message
// holds the one fact the simulator answers refund questions from: asked
// about the refund window, returns or items, it says "you have 30 days to
// return an item". Suites take it under their prompt key.
const RefundPrompt = `- role: system
  content: |
    Answer from these facts.
    refund window return item => you have 30 days to return an item
- role: user
  content: "{{question}}"
`

// JudgeTargets is the targets and judge of an evald.yaml whose suites are
// graded by a judge: target prod (model sim-1) answers at ProdURL and
// target grader (model sim-judge) judges at GraderURL. Prod costs $1 and
// $2 a million prompt and answer tokens, grader a hundred times that, so
// that the judge's spend stands apart from the run's in every sum.
type JudgeTargets struct {
	ProdURL, GraderURL string
	// Prod and Grader are further keys of each target, one "key: value"
	// a line, as evald.yaml spells them (retries, timeout, params...).
	Prod, Grader string
}

// YAML renders the targets list and the judge key, at the top level of an
// evald.yaml; the test writes its storage and suites around it.
func (j JudgeTargets) YAML() string {
	var b strings.Builder
	b.WriteString("targets:\n")
	target := func(name, url, model, keys, price string) {
		b.WriteString("  - name: " + name + "\n")
		b.WriteString("    base_url: " + url + "\n")
		b.WriteString("    model: " + model + "\n")
		for line := range strings.Lines(keys) {
			b.WriteString("    " + strings.TrimRight(line, "\n") + "\n")
		}
		b.WriteString("    price: " + price + "\n")
	}
	target("prod", j.ProdURL, "sim-1", j.Prod, "{input_per_mtok: 1, output_per_mtok: 2}")
	target("grader", j.GraderURL, "sim-judge", j.Grader, "{input_per_mtok: 100, output_per_mtok: 200}")
	b.WriteString("judge: grader\n")
	return b.String()
}
