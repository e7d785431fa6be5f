package evals

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/evald/evald/internal/safefile"
)

// source reads a suite's files. Names are what errors print: the path as
// the user gave it (LoadFile) or the name inside the fs.FS (Parse).
type source interface {
	// read returns the file, refused when it is not a regular file or is
	// larger than max bytes (see safefile).
	read(name string, max int64) ([]byte, error)
	// open is read as a stream, for datasets.
	open(name string, max int64) (io.ReadCloser, error)
	// resolve returns the name of ref (a file:// path with the scheme
	// removed) relative to the folder of the file from.
	resolve(from, ref string) (string, error)
}

// fsSource reads from an fs.FS; references may not leave it.
type fsSource struct{ fsys fs.FS }

func (s fsSource) read(name string, max int64) ([]byte, error) {
	return safefile.FSRead(s.fsys, name, max)
}

func (s fsSource) open(name string, max int64) (io.ReadCloser, error) {
	data, err := s.read(name, max)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

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

func (osSource) read(name string, max int64) ([]byte, error) { return safefile.Read(name, max) }

func (osSource) open(name string, max int64) (io.ReadCloser, error) { return safefile.Open(name, max) }

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
	var ex *explained
	switch {
	case errors.As(err, &ex):
		return ex.Error()
	case errors.Is(err, safefile.ErrTooLarge):
		return err.Error() + " (suites[].max_file_bytes in evald.yaml sets the limit)"
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return fmt.Sprint(err)
}

// MaxYAMLBytes bounds a file parsed as one YAML (or JSON) document: a
// suite file, a .yaml or .json dataset, a prompt file. Parsing builds a
// node per value, some 40 times the file's size in memory, so such a file
// is held to less than a streamed dataset (JSONL, CSV) is.
const MaxYAMLBytes = 8 << 20

// readYAML reads a file to be parsed as one YAML document.
func (l *loader) readYAML(name string) ([]byte, error) {
	limit := int64(MaxYAMLBytes)
	if l.maxBytes > 0 {
		limit = min(limit, l.maxBytes)
	}
	data, err := l.src.read(name, limit)
	if errors.Is(err, safefile.ErrTooLarge) && limit == MaxYAMLBytes {
		err = &explained{fmt.Errorf("%w; a YAML or JSON document is limited to %d bytes (parsing it takes some 40 times that in memory): keep large case lists in a JSONL or CSV dataset, read as a stream", err, limit)}
	}
	return data, err
}

// explained is an error whose text says all there is to say.
type explained struct{ error }

func (e *explained) Unwrap() error { return e.error }
