package alerts

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/evald/evald/internal/redact"
)

// Redacted is what a secret prints as.
const Redacted = redact.Mark

// Secret holds a credential: a Slack webhook URL or bot token, a webhook
// URL or its HMAC secret. It prints, marshals and logs as "<secret>"; only
// Reveal returns the value, at the one place that sends it.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String prints "<secret>".
func (s Secret) String() string { return Redacted }

// GoString prints "<secret>" for %#v too.
func (s Secret) GoString() string { return Redacted }

// Format prints "<secret>" whatever the verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON encodes "<secret>".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText encodes "<secret>" (YAML, XML, map keys).
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue logs "<secret>".
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// RedactURL keeps a URL's scheme and host and hides the rest (a Slack
// webhook's path is its credential; so may be a query string or user
// info). A URL that does not parse is hidden entirely.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Redacted
	}
	return u.Scheme + "://" + u.Host + "/" + Redacted
}

// urlSecrets lists the parts of a secret URL that must not appear in an
// error either: a receiver may echo its path or query back in a response.
func urlSecrets(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	if u.User != nil {
		out = append(out, u.User.Username())
	}
	if uri := u.RequestURI(); uri != "/" {
		out = append(out, uri, u.EscapedPath())
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
		for _, vs := range u.Query() {
			out = append(out, vs...)
		}
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 16 {
			out = append(out, seg)
		}
	}
	return out
}
