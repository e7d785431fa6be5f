package alerts

import (
	"strings"
	"unicode/utf8"
)

// SlackTextRunes is how much of an input or output a Slack message shows.
const SlackTextRunes = 300

// mrkdwnEscaper escapes the three characters Slack's mrkdwn treats as
// control characters (https://api.slack.com/reference/surfaces/formatting#escaping):
// with them escaped, text cannot form a link (<https://x|y>), a mention
// (<!channel>, <@U123>) or a channel reference.
var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes untrusted text inert in Slack mrkdwn.
func Escape(s string) string { return mrkdwnEscaper.Replace(s) }

// Truncate cuts s to at most n runes, marking the cut with "…". Invalid
// UTF-8 is replaced so that the JSON stays valid.
func Truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return s[:i] + "…"
}

// codeBlock shows untrusted text verbatim in a mrkdwn code block: cut to
// SlackTextRunes, escaped, and with backtick runs broken so that the text
// cannot close the block and bring formatting back.
func codeBlock(s string) string {
	s = Truncate(s, SlackTextRunes)
	if strings.TrimSpace(s) == "" {
		return "_(empty)_"
	}
	s = Escape(s)
	s = strings.ReplaceAll(s, "`", "ˋ") // U+02CB: looks like a backtick, is not one
	return "```" + s + "```"
}

// inline shows untrusted text on one line, cut to n runes and escaped,
// with backticks neutralised so that it cannot open a code block.
func inline(s string, n int) string {
	s = Escape(Truncate(strings.Join(strings.Fields(s), " "), n))
	return strings.ReplaceAll(s, "`", "ˋ")
}

// code shows an untrusted name (case id, model, fingerprint) as inline
// code, where mrkdwn applies no formatting.
func code(s string) string {
	s = inline(s, 120)
	if s == "" {
		return "_(none)_"
	}
	return "`" + s + "`"
}
