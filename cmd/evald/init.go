package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/governance"
)

// initFiles are what `evald init` writes: a config against `evald sim`'s
// default address, a suite, its prompt and a small dataset. The prompt's
// "question words => answer" lines are what the simulator answers from.
var initFiles = []struct{ name, body string }{
	{"evald.yaml", `# evald's configuration: see docs/formats.md.
storage:
  sqlite: evald.db
targets:
  - name: local
    base_url: http://127.0.0.1:8090/v1   # evald sim's default address; any OpenAI-compatible endpoint
    model: sim-1
    timeout: 10s
suites:
  - file: suites/support.yaml
    targets: [local]
    schedule: "@every 5m"
`},
	{"suites/support.yaml", `name: support
description: Support answers give the right facts
prompt:
  - role: system
    content: file://../prompts/support-system.txt
  - role: user
    content: "Customer question: {{question}}"
repeats: 2
defaultTest:
  assert:
    - type: not-icontains
      value: "as an ai"
tests:
  - id: refund-window
    vars: {question: "What is the refund window in days?"}
    assert:
      - type: contains
        value: "30 days"
  - file://../datasets/support.jsonl
thresholds:
  pass_rate: 0.9
drift:
  # Three cases can only see large drops. Lower this as you add cases:
  # evald validate prints the smallest drop the suite can catch.
  min_effect: 0.2
`},
	{"prompts/support-system.txt", `You answer customer questions in one sentence.
refund return window days => You have 30 days to return an item.
shipping delivery time => Delivery takes 3 to 5 business days.
warranty guarantee => Every product has a two-year warranty.
`},
	{"datasets/support.jsonl", `{"id": "shipping", "vars": {"question": "What is the delivery time for shipping?"}, "assert": [{"type": "icontains", "value": "business days"}]}
{"id": "warranty", "vars": {"question": "Is there a warranty guarantee?"}, "assert": [{"type": "contains", "value": "two-year"}]}
`},
}

func cmdInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("init", stdout, stderr)
	by := flags.String("by", "", "who records the suite's first sign-off (default: the git user of the folder, else the login name)")
	pos, err := parseArgs(flags, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErr("takes at most one folder (got %q)", pos)
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
	}
	// Nothing is written when any file is there already.
	var exist []string
	for _, f := range append(initFiles, struct{ name, body string }{governance.RecordFile, ""}) {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if _, err := os.Lstat(p); err == nil {
			exist = append(exist, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return usageErr("%w", err)
		}
	}
	if len(exist) > 0 {
		return usageErr("refusing to overwrite %s: init a new folder, or move them away", strings.Join(exist, ", "))
	}
	for _, f := range initFiles {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeNew(p, f.body); err != nil {
			return err
		}
	}
	cfg := filepath.Join(dir, "evald.yaml")
	proj, err := configs.Load(cfg)
	if err != nil {
		return fmt.Errorf("the files init wrote do not load: %w", err)
	}
	signer := strings.TrimSpace(*by)
	if signer == "" {
		signer = localUser(ctx, dir)
	}
	if err := signFirst(ctx, proj, filepath.Join(dir, governance.RecordFile), signer, "first bar, written by evald init"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s, %s, %s and %s in %s\n", initFiles[0].name, initFiles[1].name, initFiles[2].name, initFiles[3].name, dir)
	fmt.Fprintf(stdout, "recorded the first sign-off of suite support by %s in %s (commit it with the suite)\n", signer, governance.RecordFile)
	run := "evald run --config " + cfg
	w := max(len(run), len("evald sim &")) + 2
	fmt.Fprintf(stdout, "next:\n  %-*s# the simulated endpoint the config points at\n  %-*s# exit 0: every case passes\n", w, "evald sim &", w, run)
	return nil
}

// writeNew creates the file at path with body, failing if it exists.
func writeNew(path, body string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return usageErr("%w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// localUser names the person at the keyboard: the folder's git user, else
// the login name, else "evald init".
func localUser(ctx context.Context, dir string) string {
	if _, name := daemon.GitIdentity(ctx, dir); name != "" {
		return name
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "evald init"
}
