// Package redact removes secrets from text that leaves the process: error
// messages, stored error texts, alerts. A secret is replaced in its usual
// encodings too (URL query and path escaping, JSON/Go string escaping),
// since a server echoing a key back may have encoded it.
package redact

import (
	"net/url"
	"strconv"
	"strings"
)

// Mark is what a redacted secret reads as.
const Mark = "<secret>"

// Text replaces every secret of at least 4 bytes, and its usual encodings,
// with Mark. Shorter secrets are left alone: replacing them would mangle
// ordinary text and hides nothing worth hiding.
func Text(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) < 4 {
			continue
		}
		quoted := strconv.Quote(secret)
		for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), quoted[1 : len(quoted)-1]} {
			s = strings.ReplaceAll(s, form, Mark)
		}
	}
	return s
}
