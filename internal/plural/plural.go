// Package plural writes counts of things in English: "1 run", "2 runs".
package plural

import "strconv"

// N is n followed by noun, with an s unless n is 1: N(1, "case") is
// "1 case", N(3, "reference run") is "3 reference runs". Nouns whose
// plural is not noun+"s" are not for it.
func N(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}
