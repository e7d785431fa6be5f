// Package safefile opens the files a user's configuration points at
// (suites, prompts, datasets): regular files only, never anything under
// /proc, /sys or /dev, and never more than a size limit. A named pipe, a
// device or /proc/self/environ named as a prompt file is refused before a
// byte is read, so loading cannot hang, exhaust memory or copy the
// process's environment into a prompt.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultMaxBytes is the size limit of one file unless the caller sets
// another (suites[].max_file_bytes).
const DefaultMaxBytes = 64 << 20

// Errors a caller may branch on.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
)

// specialRoots hold kernel and device files, never data.
var specialRoots = []string{"/proc", "/sys", "/dev"}

// Check returns the size of name, or why it must not be read: it is not a
// regular file (after following symbolic links), lies under /proc, /sys or
// /dev, or is larger than max bytes (max <= 0: DefaultMaxBytes). Errors
// from the file system (no such file, permission denied) come back as
// *fs.PathError.
func Check(name string, max int64) (int64, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	fi, err := os.Stat(name)
	if err != nil {
		return 0, err
	}
	if real, err := filepath.EvalSymlinks(name); err == nil {
		if abs, err := filepath.Abs(real); err == nil {
			for _, root := range specialRoots {
				if abs == root || strings.HasPrefix(abs, root+string(filepath.Separator)) {
					where := "a system file under " + root
					if given, _ := filepath.Abs(name); given != abs {
						where = "it leads to " + abs + ", a system file under " + root
					}
					return 0, fmt.Errorf("%w: %s; evald reads only regular files", ErrNotRegular, where)
				}
			}
		}
	}
	return checkInfo(fi, max)
}

func checkInfo(fi fs.FileInfo, max int64) (int64, error) {
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%w (%s); evald reads only regular files", ErrNotRegular, kind(fi.Mode()))
	}
	if fi.Size() > max {
		return 0, fmt.Errorf("%w: %d bytes, over the limit of %d", ErrTooLarge, fi.Size(), max)
	}
	return fi.Size(), nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "a special file"
}

// Open opens name for reading after Check, and checks the opened file
// again (it may have been replaced meanwhile). The returned reader stops
// with ErrTooLarge past max bytes, should the file grow while read.
func Open(name string, max int64) (io.ReadCloser, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	if _, err := Check(name, max); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = checkInfo(fi, max)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &limited{f: f, left: max}, nil
}

// Read is Open and read it all.
func Read(name string, max int64) ([]byte, error) {
	rc, err := Open(name, max)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// FSRead reads name from fsys under the same rules, as far as an fs.FS
// can tell: a regular file within max bytes.
func FSRead(fsys fs.FS, name string, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if _, err := checkInfo(fi, max); err != nil {
		return nil, err
	}
	return fs.ReadFile(fsys, name)
}

type limited struct {
	f    *os.File
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.f.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w: it grew past the limit while read", ErrTooLarge)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.f.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limited) Close() error { return l.f.Close() }
