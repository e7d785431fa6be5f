package main

import (
	"strings"
	"testing"
	"time"
)

// TestUnknownNamesEveryCommand: a misspelt suite, target or flag exits 2
// with a did-you-mean in every command, never an empty answer or Go's
// raw flag error.
func TestUnknownNamesEveryCommand(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "--config", cfg, "fqa"}, `evald history: no suite named "fqa" in ` + cfg},
		{[]string{"history", "--config", cfg, "--target", "prd"}, `(did you mean prod?)`},
		{[]string{"signoff", "--config", cfg, "--by", "a", "--reason", "b", "fqa"}, `evald signoff: no suite named "fqa" in ` + cfg + ` (did you mean faq?)`},
		{[]string{"accept", "--config", cfg, "--target", "prd", "--by", "a", "--reason", "b", "faq"}, `evald accept: no target named "prd" in ` + cfg + ` (did you mean prod?)`},
		{[]string{"accept", "--config", cfg, "--target", "prod", "--by", "a", "--reason", "b", "fqa"}, `(did you mean faq?)`},
		{[]string{"silence", "--config", cfg, "--target", "prd", "--by", "a", "--reason", "b", "faq"}, `(did you mean prod?)`},
		{[]string{"calibrate", "--config", cfg, "fqa"}, `(did you mean faq?)`},
		{[]string{"regrade", "--config", cfg, "--run", "1", "fqa"}, `(did you mean faq?)`},
		{[]string{"run", "--config", cfg, "--frmat", "json"}, "evald run: unknown flag --frmat (did you mean --format?)"},
		{[]string{"history", "--config", cfg, "--jsn"}, "evald history: unknown flag --jsn (did you mean --json?)"},
		{[]string{"rn", "faq"}, `evald: unknown command "rn" (did you mean run?)`},
		{[]string{"silence", "--config", cfg, "--target", "prod", "--by", "a", "--reason", "b", "--for", "40d", "faq"}, "at most 720h (30 days)"},
		{[]string{"silence", "--config", cfg, "--target", "prod", "--by", "a", "--reason", "b", "--for", "forever", "faq"}, "want a duration like 90s, 30m, 12h or 7d"},
	} {
		code, out, errOut := evald(t, tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("evald %v = exit %d, stdout %q, stderr %q; want %d and %q", tc.args, code, out, errOut, exitUsage, tc.want)
		}
		if strings.Contains(errOut, "flag provided but not defined") || strings.Contains(errOut, "parse error") {
			t.Errorf("evald %v printed Go's raw flag error: %q", tc.args, errOut)
		}
	}
	// A name that is right still works, and days are a duration.
	if code, _, errOut := evald(t, "silence", "--config", cfg, "--target", "prod", "--by", "a", "--reason", "b", "--for", "7d", "faq"); code != exitOK {
		t.Errorf("silence --for 7d = exit %d, %q; want 0", code, errOut)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"d", 0, false},
		{"3x", 0, false},
		{"-1d", 0, false},
		{"1dd", 0, false},
	} {
		got, err := parseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
