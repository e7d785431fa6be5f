package scoring

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxQuoted is how much of a model output (or a long expected value) a
// failure reason quotes, in runes.
const maxQuoted = 80

// truncate shortens s to at most n runes, marking a cut with "…". Invalid
// UTF-8 counts one rune per bad byte.
func truncate(s string, n int) string {
	if len(s) <= n { // fewer bytes than n: fewer runes too
		return s
	}
	i, runes := 0, 0
	for i < len(s) && runes < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		runes++
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + "…"
}

// quote renders s as a Go-quoted string on one line, truncated to n runes.
func quote(s string, n int) string {
	return strconv.Quote(truncate(s, n))
}

// got is the " (got …)" suffix that quotes the start of the output.
func got(out Output) string {
	if out.Text == "" {
		return " (got empty output)"
	}
	return " (got " + quote(out.Text, maxQuoted) + ")"
}

// expect builds "expected output to <what>" or, for a failed not- form,
// "expected output not to <what>".
func expect(negated bool, what string) string {
	if negated {
		return "expected output not to " + what
	}
	return "expected output to " + what
}

// quoteList renders up to a few values as "a", "b", … for a reason.
func quoteList(vals []string) string {
	const maxItems = 5
	var b strings.Builder
	for i, v := range vals {
		if i == maxItems {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(v, 40))
	}
	return b.String()
}
