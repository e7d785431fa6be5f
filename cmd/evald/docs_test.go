package main

import (
	"bufio"
	"context"
	"io"
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

// startSim runs `evald sim` (the command's own code) on a free port of
// 127.0.0.1 until the test ends, and returns its address.
func startSim(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- cmdSim(ctx, []string{"--addr", "127.0.0.1:0"}, pw, io.Discard); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("evald sim: %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	m := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/v1`).FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("evald sim printed %q (%v), want its address", line, err)
	}
	return m[1]
}

// TestREADMEQuickStart walks README.md's quick start as a new user would,
// in a temp folder, so the README cannot drift from the binary: every
// command of its sh blocks runs as written (in-process), every file it
// shows is written as shown, and each command must exit as its comment
// says (`# exit N`, else 0). What a test cannot do as written is
// substituted, and only that: `evald sim &` is the sim this test started
// on a free port, so the sim's default address (127.0.0.1:8090) and the
// real endpoint (https://api.openai.com/v1) in commands and files read as
// that port; `go install`/`go build` are skipped (this test is the
// binary); `evald serve`, which runs until stopped, is checked for its
// usage only.
func TestREADMEQuickStart(t *testing.T) {
	simAddr := startSim(t)
	local := func(s string) string {
		s = strings.ReplaceAll(s, "127.0.0.1:8090", simAddr)
		return strings.ReplaceAll(s, "https://api.openai.com/v1", "http://"+simAddr+"/v1")
	}
	if os.Getenv("USER") == "" {
		t.Setenv("USER", "readme-walker")
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "## Quick start with your own endpoint")
	end := strings.Index(text[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README.md has no quick start section")
	}
	section := text[start : start+1+end]
	t.Chdir(t.TempDir())

	// The section, in order: prose, and code blocks with the paragraph
	// before each. A paragraph that starts with `a/path` names the file
	// the block holds.
	fileName := regexp.MustCompile("^`([A-Za-z0-9_./-]+\\.[a-z]+)`")
	pos, ran, wrote := 0, 0, 0
	for _, m := range fence.FindAllStringSubmatchIndex(section, -1) {
		before := strings.TrimSpace(section[pos:m[0]])
		pos = m[1]
		para := before[strings.LastIndex(before, "\n\n")+1:]
		para = strings.TrimSpace(para)
		lang, body := section[m[2]:m[3]], section[m[4]:m[5]]
		if strings.HasPrefix(para, "Or write the files yourself") {
			t.Chdir(t.TempDir()) // "in a new folder"
		}
		if lang != "sh" {
			f := fileName.FindStringSubmatch(para)
			if f == nil {
				t.Fatalf("README.md: a %s block after %q names no file", lang, para)
			}
			if err := os.MkdirAll(filepath.Dir(f[1]), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f[1], []byte(local(body)), 0o644); err != nil {
				t.Fatal(err)
			}
			wrote++
			continue
		}
		for _, line := range shellLines(body) {
			for _, cmd := range strings.Split(line, " && ") {
				readmeCommand(t, cmd, simAddr, local)
				ran++
			}
		}
	}
	if ran < 12 || wrote < 5 {
		t.Errorf("the walk ran %d commands and wrote %d files; README.md's quick start has more", ran, wrote)
	}
}

var exitComment = regexp.MustCompile(`#\s*exit (\d)`)

// readmeCommand runs one README command line (see TestREADMEQuickStart).
func readmeCommand(t *testing.T, line, simAddr string, local func(string) string) {
	t.Helper()
	words, _ := shellWords(local(line), os.Getenv)
	want := exitOK
	if m := exitComment.FindStringSubmatch(line); m != nil {
		want = int(m[1][0] - '0')
	}
	switch {
	case len(words) == 0:
		// A comment: the one that says how to point evald.yaml at a local
		// endpoint is done as it says.
		if c := strings.TrimSpace(line); strings.HasPrefix(c, "# in evald.yaml: base_url: ") && strings.HasSuffix(c, "and no api_key_env") {
			b, err := os.ReadFile("evald.yaml")
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, l := range strings.Split(string(b), "\n") {
				switch strings.TrimSpace(strings.SplitN(l, ":", 2)[0]) {
				case "api_key_env":
					continue
				case "base_url":
					l = l[:strings.Index(l, "base_url:")] + "base_url: http://" + simAddr + "/v1"
				}
				out = append(out, l)
			}
			if err := os.WriteFile("evald.yaml", []byte(strings.Join(out, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	case words[0] == "go":
	case words[0] == "cd":
		t.Chdir(words[1])
	case words[0] == "export":
		k, v, _ := strings.Cut(words[1], "=")
		t.Setenv(k, v)
	case words[0] != "evald":
		t.Fatalf("README.md: %q is not an evald command", line)
	case len(words) > 1 && words[1] == "sim":
		// Started by the test, on a free port.
	case len(words) > 1 && words[1] == "serve":
		if code, _, errOut := evald(t, "serve", "-h"); code != exitOK {
			t.Errorf("evald serve -h = exit %d: %s", code, errOut)
		}
	default:
		code, out, errOut := evald(t, words[1:]...)
		t.Logf("%s: exit %d", line, code)
		if code != want {
			t.Fatalf("README.md: %q = exit %d, want %d\nstdout:\n%s\nstderr:\n%s", line, code, want, out, errOut)
		}
		if words[1] == "init" {
			// init writes evald sim's default address: this sim's.
			cfg := filepath.Join(words[len(words)-1], "evald.yaml")
			b, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cfg, []byte(local(string(b))), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestREADMESaysFirstBuildIsSlow: the first `go run` compiles evald and
// its dependencies for a minute or two with nothing printed; the README
// says so right after the command, so a new user does not think it hung.
func TestREADMESaysFirstBuildIsSlow(t *testing.T) {
	blocks := codeBlocks(t, "README.md", "sh")
	if len(blocks) == 0 || !strings.Contains(blocks[0], "go run ./cmd/evald demo") {
		t.Fatalf("README.md's first command is not the demo: %q", blocks)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	after := text[strings.Index(text, blocks[0])+len(blocks[0]):]
	para := after[:strings.Index(after, "\n\n## ")]
	if !strings.Contains(para, "minute or two") || !strings.Contains(para, "compiles") {
		t.Errorf("README.md does not say, after the demo command, that the first go run compiles for a minute or two:\n%s", para)
	}
}
