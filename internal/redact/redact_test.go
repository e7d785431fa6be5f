package redact

import "testing"

func TestText(t *testing.T) {
	const key = "sk-a/b+c\"d"
	for _, tc := range []struct{ in, want string }{
		{"Incorrect API key provided: " + key + ".", "Incorrect API key provided: <secret>."},
		{"GET /v1?key=sk-a%2Fb%2Bc%22d", "GET /v1?key=<secret>"},
		{"path /sk-a%2Fb+c%22d/x", "path /<secret>/x"},
		{`{"auth":"Bearer sk-a/b+c\"d"}`, `{"auth":"Bearer <secret>"}`},
		{"nothing to hide", "nothing to hide"},
	} {
		if got := Text(tc.in, key); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Text("a key abc", "abc", ""); got != "a key abc" {
		t.Errorf("Text with a 3-byte secret = %q, want the text unchanged", got)
	}
	if got := Text("one sk-1111 two sk-2222", "sk-1111", "sk-2222"); got != "one <secret> two <secret>" {
		t.Errorf("Text with two secrets = %q", got)
	}
}
