package sim

import (
	"fmt"
	"hash/fnv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The simulator's fixed replies.
const (
	refusal   = "I don't know the answer to that."
	deflected = "I'm not sure, please contact support."
)

// templates phrase a fact's right side; one is chosen per (prompt, question).
var templates = []string{"%s", "Sure! %s", "Happy to help. %s"}

// stopWords are ignored when matching a question to a fact and when
// embedding text.
var stopWords = toSet(strings.Fields(`
	a an and are as at be but by can could did do does for from had has have
	how i if in into is it its me my of on or our so than that the their them
	then there these they this those to too was we were what when where which
	who whom why will with would you your yours
	about also any been being just may might more most much must only other
	over please shall should some such tell very want need like know
	question answer`))

func toSet(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// fact is one "left => right" line of a system prompt.
type fact struct {
	left  string
	right string
	words map[string]bool // keywords of left
}

// prompt is what the simulator reads from a chat request.
type prompt struct {
	system   string // all system and developer messages, joined
	question string // the last user message
	facts    []fact
}

// readPrompt extracts the system prompt, its facts and the question.
func readPrompt(msgs []message) prompt {
	var p prompt
	var system []string
	for _, m := range msgs {
		switch m.Role {
		case "system", "developer":
			system = append(system, m.text)
		case "user":
			p.question = m.text
		}
	}
	p.system = strings.Join(system, "\n")
	p.facts = parseFacts(p.system)
	return p
}

// parseFacts returns the "left => right" lines of text, in order. A line may
// be bulleted with "- " or "* "; lines with an empty side are skipped.
func parseFacts(text string) []fact {
	var facts []fact
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "- ")
		line = strings.TrimPrefix(line, "* ")
		left, right, ok := strings.Cut(line, "=>")
		if !ok {
			continue
		}
		left, right = strings.TrimSpace(left), strings.TrimSpace(right)
		if left == "" || right == "" {
			continue
		}
		facts = append(facts, fact{left: left, right: right, words: toSet(keywords(left))})
	}
	return facts
}

// words splits s into lower-cased runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// keywords returns the words of s that count for matching: three runes or
// more and not a stop word.
func keywords(s string) []string {
	var out []string
	for _, w := range words(s) {
		if utf8.RuneCountInString(w) >= 3 && !stopWords[w] {
			out = append(out, w)
		}
	}
	return out
}

// match returns the index of the fact sharing the most distinct keywords
// with question, the first on ties, or -1 when none shares any.
func match(facts []fact, question string) int {
	best, bestScore := -1, 0
	q := toSet(keywords(question))
	for i, f := range facts {
		score := 0
		for w := range f.words {
			if q[w] {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// answers returns the correct and the wrong answer to p.
func (p prompt) answers() (correct, wrong string) {
	i := match(p.facts, p.question)
	phrase := func(s string) string {
		t := templates[p.hash("template")%uint64(len(templates))]
		return fmt.Sprintf(t, s)
	}
	correct = refusal
	if i >= 0 {
		correct = phrase(p.facts[i].right)
	}
	// The wrong answer is another fact's answer, as a confused model would
	// give: any distinct right side other than the matched one.
	var others []string
	seen := map[string]bool{}
	if i >= 0 {
		seen[p.facts[i].right] = true
	}
	for _, f := range p.facts {
		if !seen[f.right] {
			seen[f.right] = true
			others = append(others, f.right)
		}
	}
	if len(others) == 0 {
		return correct, deflected
	}
	return correct, phrase(others[p.hash("wrong-pick")%uint64(len(others))])
}

// hash returns a well-mixed 64-bit hash of the system prompt, the question
// and salt.
func (p prompt) hash(salt string) uint64 {
	h := fnv.New64a()
	for _, s := range []string{salt, p.system, p.question} {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	return mix(h.Sum64())
}

// unit maps the prompt's hash for salt to [0, 1).
func (p prompt) unit(salt string) float64 {
	return float64(p.hash(salt)>>11) / (1 << 53)
}

// mix is the splitmix64 finaliser: it spreads FNV's weak high bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// tokens approximates a token count: a token per four runes, rounded up.
func tokens(s string) int {
	return (utf8.RuneCountInString(s) + 3) / 4
}
