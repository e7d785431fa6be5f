//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHostilePromptFilesRefusedAtLoad: a device, a named pipe or the
// process's environment named as a prompt file is refused before a byte is
// read (no hang, no memory blow-up, no key copied into a prompt): exit 2,
// naming the file and why.
func TestHostilePromptFilesRefusedAtLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(dir string) string
		want string
	}{
		{"dev-zero", func(string) string { return "/dev/zero" }, "cannot read /dev/zero: not a regular file: a system file under /dev"},
		{"named-pipe", func(dir string) string {
			p := filepath.Join(dir, "prompts", "pipe.txt")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, "pipe.txt: not a regular file (a named pipe)"},
		{"proc-environ", func(string) string { return "/proc/self/environ" }, "cannot read /proc/self/environ: not a regular file: it leads to /proc/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OPENAI_API_KEY", "sk-must-not-travel")
			cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
			dir := filepath.Dir(cfg)
			edit(t, filepath.Join(dir, "suites/faq.yaml"), "file://../prompts/faq.txt", "file://"+tc.path(dir))
			for _, args := range [][]string{{"validate", "--config", cfg}, {"run", "--config", cfg, "faq"}} {
				code, _, errOut := evald(t, args...)
				if code != exitUsage || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "faq.yaml:4: prompt[0].content") {
					t.Errorf("evald %s = exit %d, stderr %q; want %d naming faq.yaml:4 and %q", args[0], code, errOut, exitUsage, tc.want)
				}
			}
		})
	}
}

// TestOversizedFilesSayWhy: a dataset over suites[].max_file_bytes, and a
// YAML suite too big to parse, are refused with the reason and the way out.
func TestOversizedFilesSayWhy(t *testing.T) {
	cfg := project(t, "http://127.0.0.1:1/v1", "0.9")
	dir := filepath.Dir(cfg)
	rows := strings.Repeat(`{"vars":{"question":"q"},"assert":[{"type":"contains","value":"x"}]}`+"\n", 100)
	if err := os.WriteFile(filepath.Join(dir, "suites", "cases.jsonl"), []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	edit(t, filepath.Join(dir, "suites/faq.yaml"), "tests:\n", "tests:\n  - file://cases.jsonl\n")
	edit(t, cfg, "    targets: [prod]\n", "    targets: [prod]\n    max_file_bytes: 1000\n")
	code, _, errOut := evald(t, "validate", "--config", cfg)
	if want := "cases.jsonl: file too large: 6900 bytes, over the limit of 1000 (suites[].max_file_bytes in evald.yaml sets the limit)"; code != exitUsage || !strings.Contains(errOut, want) {
		t.Errorf("validate = exit %d, stderr %q; want %q", code, errOut, want)
	}

	big := filepath.Join(dir, "suites", "faq.yaml")
	f, err := os.OpenFile(big, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("description: >\n")
	line := "  " + strings.Repeat("x", 1000) + "\n"
	for range 9 << 10 {
		f.WriteString(line)
	}
	f.Close()
	edit(t, cfg, "    max_file_bytes: 1000\n", "")
	code, _, errOut = evald(t, "validate", "--config", cfg)
	if want := "a YAML or JSON document is limited to 8388608 bytes"; code != exitUsage || !strings.Contains(errOut, want) || !strings.Contains(errOut, "JSONL or CSV dataset") {
		t.Errorf("validate of a 9 MB suite = exit %d, stderr %q; want %q", code, errOut, want)
	}
}
