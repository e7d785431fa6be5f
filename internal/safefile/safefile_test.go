//go:build linux

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "innocent.txt")
	if err := os.Symlink("/proc/self/environ", link); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(big, make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       error
		text       string
	}{
		{"dev-zero", "/dev/zero", ErrNotRegular, "under /dev"},
		{"dev-urandom", "/dev/urandom", ErrNotRegular, "under /dev"},
		{"environ", "/proc/self/environ", ErrNotRegular, "under /proc"},
		{"symlink-to-environ", link, ErrNotRegular, "under /proc"},
		{"sys", "/sys/kernel/mm/transparent_hugepage/enabled", ErrNotRegular, "under /sys"},
		{"named-pipe", fifo, ErrNotRegular, "a named pipe"},
		{"directory", dir, ErrNotRegular, "a directory"},
		{"too-large", big, ErrTooLarge, "2048 bytes, over the limit of 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Lstat(tc.path); err != nil {
				t.Skipf("%s: %v", tc.path, err)
			}
			_, err := Read(tc.path, 1024)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("Read(%s) = %v, want %v containing %q", tc.path, err, tc.want, tc.text)
			}
		})
	}
}

func TestReadsARegularFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "prompt.txt")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(p, 5); err != nil || string(got) != "hello" {
		t.Errorf("Read = %q, %v, want hello", got, err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read(missing) = %v, want ErrNotExist", err)
	}
}
