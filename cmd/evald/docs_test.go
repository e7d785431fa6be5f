package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The docs' commands, run as written: these helpers read a Markdown
// file's code blocks and split their command lines as sh would (quotes,
// $VAR, a trailing backslash continuing the line, # comments), so that
// tests run exactly what the docs say.

var fence = regexp.MustCompile("(?ms)^```([a-z]*)\n(.*?)^```")

// codeBlocks returns the bodies of the file's code blocks of language lang.
func codeBlocks(t *testing.T, file, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", file))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range fence.FindAllStringSubmatch(string(b), -1) {
		if m[1] == lang {
			out = append(out, m[2])
		}
	}
	return out
}

// shellLines joins continued lines and drops comments and blank lines.
func shellLines(block string) []string {
	var out []string
	cur := ""
	for _, l := range strings.Split(block, "\n") {
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		cur += l
		if w := strings.TrimSpace(cur); w != "" && !strings.HasPrefix(w, "#") {
			out = append(out, w)
		}
		cur = ""
	}
	return out
}

// shellWords splits a command line as sh does for the simple commands
// the docs use: words, "double" and 'single' quotes, $VAR and ${VAR}
// from getenv, and a # comment. A trailing & is dropped (background is
// the caller's business) and reported.
func shellWords(line string, getenv func(string) string) (words []string, background bool) {
	var w strings.Builder
	inWord, dq, sq := false, false, false
	flush := func() {
		if inWord {
			words = append(words, w.String())
		}
		w.Reset()
		inWord = false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case sq:
			if c == '\'' {
				sq = false
			} else {
				w.WriteByte(c)
			}
		case c == '\'' && !dq:
			sq, inWord = true, true
		case c == '"':
			dq, inWord = !dq, true
		case c == '$':
			j := i + 1
			name := ""
			if j < len(line) && line[j] == '{' {
				k := strings.IndexByte(line[j:], '}')
				name, i = line[j+1:j+k], j+k
			} else {
				for j < len(line) && (line[j] == '_' || line[j] >= 'A' && line[j] <= 'Z' || line[j] >= 'a' && line[j] <= 'z' || line[j] >= '0' && line[j] <= '9') {
					j++
				}
				name, i = line[i+1:j], j-1
			}
			w.WriteString(getenv(name))
			inWord = true
		case dq:
			w.WriteByte(c)
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			flush()
			return words, background
		case c == '&':
			flush()
			background = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words, background
}

func TestShellWords(t *testing.T) {
	env := map[string]string{"USER": "ann", "EMPTY": ""}
	for _, tc := range []struct {
		in   string
		want string
		bg   bool
	}{
		{`evald run faq`, `evald|run|faq`, false},
		{`evald signoff --by "$USER" --reason "first bar for faq" faq   # records`, `evald|signoff|--by|ann|--reason|first bar for faq|faq`, false},
		{`evald run --server "$EMPTY" --x 'a b'`, `evald|run|--server||--x|a b`, false},
		{`evald sim &                           # the simulated endpoint`, `evald|sim`, true},
	} {
		got, bg := shellWords(tc.in, func(k string) string { return env[k] })
		if strings.Join(got, "|") != tc.want || bg != tc.bg {
			t.Errorf("shellWords(%q) = %q, %v; want %q, %v", tc.in, got, bg, tc.want, tc.bg)
		}
	}
}

// TestCIHeadlineCommand: docs/ci.md's first command, as written, with
// neither EVALD_URL nor EVALD_TOKEN set, gates against the local
// database instead of exiting 2.
func TestCIHeadlineCommand(t *testing.T) {
	base, _ := countingSim(t)
	p := newGateProj(t, base, gateOpts{prodFacts: 30})
	if code, _, errOut := evald(t, "run", "--config", p.cfg); code != exitOK {
		t.Fatalf("production run = exit %d: %s", code, errOut)
	}
	lines := shellLines(codeBlocks(t, "docs/ci.md", "sh")[0])
	if len(lines) != 1 {
		t.Fatalf("docs/ci.md's first sh block has %d commands, want 1: %q", len(lines), lines)
	}
	words, _ := shellWords(lines[0], func(string) string { return "" })
	if words[0] != "evald" {
		t.Fatalf("docs/ci.md's headline is not an evald command: %q", words)
	}
	t.Chdir(p.dir)
	code, out, errOut := evald(t, words[1:]...)
	if code != exitOK || out != "" || !strings.Contains(errOut, "--server is empty: the baseline comes from the local database") {
		t.Fatalf("%q = exit %d, stdout %q, stderr %q; want 0 and a note", lines[0], code, out, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(p.dir, "evald-report.md")); err != nil || !strings.Contains(string(b), "### evald: facts on prod (candidate)") {
		t.Errorf("evald-report.md = %q, %v; want the candidate's report", b, err)
	}
}
