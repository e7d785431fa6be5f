package runner

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrorSummary says why samples went missing, class by class (the most
// frequent first): the count and the first error's text, as in
// "unreachable 6: cannot connect to 127.0.0.1:9: connect: connection refused".
func ErrorSummary(byClass map[string]int, first map[string]string) string {
	classes := slices.SortedFunc(maps.Keys(byClass), func(a, b string) int {
		return cmp.Or(cmp.Compare(byClass[b], byClass[a]), cmp.Compare(a, b))
	})
	parts := make([]string, 0, len(classes))
	for _, c := range classes {
		if byClass[c] == 0 {
			continue
		}
		p := fmt.Sprintf("%s %d", c, byClass[c])
		if t := ErrorDetail(c, first[c]); t != "" {
			p += ": " + t
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// ErrorDetail is a sample's error text without its class prefix ("HTTP
// 401: Incorrect API key provided ..." for "client_error (HTTP 401):
// Incorrect ..."), shortened to one line of at most 300 characters.
func ErrorDetail(class, text string) string {
	text = strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(text, class+" ("); ok {
		if status, msg, ok := strings.Cut(rest, "): "); ok {
			text = strings.TrimSpace(status + ": " + msg)
		} else {
			text = strings.TrimSuffix(strings.TrimSuffix(rest, ":"), ")")
		}
	} else if rest, ok := strings.CutPrefix(text, class+": "); ok {
		text = rest
	}
	text = strings.TrimPrefix(strings.TrimSuffix(text, ":"), "HTTP 200: ") // a 200 says nothing
	text, _, _ = strings.Cut(text, "\n")
	if r := []rune(text); len(r) > 300 {
		text = string(r[:300]) + "…"
	}
	return text
}
