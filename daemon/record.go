package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/evald/evald/governance"
	"github.com/evald/evald/internal/safefile"
)

// readRecord reads and verifies the sign-off record at path (at most
// governance.MaxRecordBytes); a missing file is an empty record.
func readRecord(path string) (*governance.Record, error) {
	b, err := safefile.Read(path, governance.MaxRecordBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return &governance.Record{File: path}, nil
	}
	if err != nil {
		return nil, &governance.RecordError{File: path, Err: err}
	}
	return governance.ParseRecord(b, path)
}

// appendRecord appends e as one line to the record at path, creating the
// file when needed.
func appendRecord(path string, e governance.RecordEntry) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("record the sign-off: %w", err)
	}
	if _, err := f.Write(e.Marshal()); err != nil {
		f.Close()
		return fmt.Errorf("record the sign-off in %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("record the sign-off in %s: %w", path, err)
	}
	return nil
}

// gitTimeout bounds each git command.
const gitTimeout = 5 * time.Second

// git runs git with args in dir and returns its trimmed output; "" when
// git is not installed, dir is not in a repository, or git fails.
func git(ctx context.Context, dir string, args ...string) string {
	if _, err := exec.LookPath("git"); err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// GitIdentity returns the git user of the folder dir as "Name <email>",
// and the name alone; both "" without git or a configured user.
func GitIdentity(ctx context.Context, dir string) (ident, name string) {
	name = git(ctx, dir, "config", "user.name")
	email := git(ctx, dir, "config", "user.email")
	switch {
	case name != "" && email != "":
		return name + " <" + email + ">", name
	case name != "":
		return name, name
	case email != "":
		return "<" + email + ">", ""
	}
	return "", ""
}

// gitAuthor returns the author name of the last commit that changed file,
// or "" when there is none (no git, no repository, never committed).
func gitAuthor(ctx context.Context, file string) string {
	if file == "" {
		return ""
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return ""
	}
	return git(ctx, filepath.Dir(abs), "log", "-1", "--format=%an", "--", filepath.Base(abs))
}
