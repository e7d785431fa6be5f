package evals

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// source reads a suite's files. Names are what errors print: the path as
// the user gave it (LoadFile) or the name inside the fs.FS (Parse).
type source interface {
	read(name string) ([]byte, error)
	// resolve returns the name of ref (a file:// path with the scheme
	// removed) relative to the folder of the file from.
	resolve(from, ref string) (string, error)
}

// fsSource reads from an fs.FS; references may not leave it.
type fsSource struct{ fsys fs.FS }

func (s fsSource) read(name string) ([]byte, error) { return fs.ReadFile(s.fsys, name) }

func (s fsSource) resolve(from, ref string) (string, error) {
	if path.IsAbs(ref) {
		return "", errors.New("must be relative to the referring file")
	}
	p := path.Join(path.Dir(from), ref)
	if !fs.ValidPath(p) {
		return "", errors.New("leads outside the file system the suite was loaded from")
	}
	return p, nil
}

// osSource reads real files; relative references resolve against the
// referring file's folder and keep the form the user gave (relative stays
// relative), so errors print short, familiar paths.
type osSource struct{}

func (osSource) read(name string) ([]byte, error) { return os.ReadFile(name) }

func (osSource) resolve(from, ref string) (string, error) {
	ref = filepath.FromSlash(ref)
	if filepath.IsAbs(ref) {
		return ref, nil
	}
	return filepath.Join(filepath.Dir(from), ref), nil
}

const fileScheme = "file://"

// fileRef returns the path of a file:// reference.
func fileRef(s string) (string, bool) {
	if !strings.HasPrefix(s, fileScheme) {
		return "", false
	}
	return s[len(fileScheme):], true
}

// readErr shortens a read error: the path is printed already.
func readErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return fmt.Sprint(err)
}
