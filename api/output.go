package api

import (
	"fmt"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/evald/evald/store"
)

// MaxOutputShown is the most of one sample's output the dashboard and the
// JSON API serve inline; past it they link to the full output
// (GET /runs/{id}/output?case=ID&repeat=N). An answer may be as long as its
// target's max_response_bytes (4 MiB by default), and a run holds many.
const MaxOutputShown = 16 << 10

// ClipOutput returns at most MaxOutputShown bytes of the sample's output,
// cut at a character boundary, and the path of the whole output when it
// was cut ("" otherwise).
func ClipOutput(sm store.Sample) (shown, full string) {
	s := sm.Output
	if len(s) <= MaxOutputShown {
		return s, ""
	}
	cut := MaxOutputShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	q := url.Values{"case": {sm.CaseID}, "repeat": {strconv.Itoa(sm.Repeat)}}
	return s[:cut], fmt.Sprintf("/runs/%d/output?%s", sm.RunID, q.Encode())
}
