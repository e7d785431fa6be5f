package scoring

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenize splits text into words as a Penn Treebank tokenizer does (the one
// js-rouge uses, which rouge-n must agree with):
//   - white space separates words;
//   - , ; @ # $ % & ? ! " and brackets stand alone;
//   - runs of two or more dots ("...") and of two or more hyphens ("--")
//     stand alone;
//   - only the period that ends the text is split off ("in 30 days." gives
//     "days" and "."; a period mid-text stays with its word, as in js-rouge);
//   - the clitics 's 'm 'd 'll 're 've n't and a closing ' are split off.
//
// It treats text as one sentence, like js-rouge; callers lower-case first.
func tokenize(text string) []string {
	finalDot := finalPeriod(text)
	var out []string
	start := -1 // start of the current word
	flush := func(end int) {
		if start >= 0 {
			out = appendWord(out, text[start:end])
			start = -1
		}
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsSpace(r):
			flush(i)
		case strings.ContainsRune(`,;@#$%&?!"()[]{}<>`, r):
			flush(i)
			out = append(out, text[i:i+size])
		case r == '.' && i+1 < len(text) && text[i+1] == '.', r == '-' && i+1 < len(text) && text[i+1] == '-':
			flush(i)
			j := i
			for j < len(text) && text[j] == text[i] {
				j++
			}
			if r == '.' {
				out = append(out, "...")
			} else {
				out = append(out, "--")
			}
			i = j
			continue
		case i == finalDot:
			flush(i)
			out = append(out, ".")
		default:
			if start < 0 {
				start = i
			}
		}
		i += size
	}
	flush(len(text))
	return out
}

// finalPeriod is the index of the period that ends the text (before any
// closing brackets, quotes and white space), or -1. A period after another
// period is part of an ellipsis, not a full stop.
func finalPeriod(text string) int {
	i := len(text) - 1
	for i >= 0 && (isSpaceByte(text[i]) || strings.IndexByte(`])}>"'`, text[i]) >= 0) {
		i--
	}
	if i < 1 || text[i] != '.' || text[i-1] == '.' {
		return -1
	}
	return i
}

// clitics are split off the end of a word, longest first.
var clitics = []string{"n't", "'ll", "'re", "'ve", "'s", "'m", "'d"}

// appendWord adds w, split into stem and clitic or closing quote.
func appendWord(out []string, w string) []string {
	for _, c := range clitics {
		if len(w) > len(c) && strings.HasSuffix(w, c) {
			return append(out, w[:len(w)-len(c)], c)
		}
	}
	if len(w) > 1 && w[len(w)-1] == '\'' && w[len(w)-2] != '\'' {
		return append(out, w[:len(w)-1], "'")
	}
	return append(out, w)
}
