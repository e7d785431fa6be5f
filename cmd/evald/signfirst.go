package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/evald/evald/configs"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/governance"
)

// signFirst records the first sign-off of every suite of proj that has
// none, by by for reason, in the record file at path (appended, created
// when missing), and makes path proj's record. The local git identity of
// path's folder is recorded with each entry when there is one.
func signFirst(ctx context.Context, proj *configs.Project, path, by, reason string) error {
	ident, _ := daemon.GitIdentity(ctx, filepath.Dir(path))
	rec := proj.Record
	var lines []byte
	done := map[string]bool{}
	for _, s := range proj.Suites {
		if s == nil || done[s.Name] || rec.Latest(s.Name) != nil {
			continue
		}
		done[s.Name] = true
		e, err := governance.NewRecordEntry(nil, s.Name, proj.GovernedSet(s), by, ident, reason, time.Now())
		if err != nil {
			return fmt.Errorf("sign off %s: %w", s.Name, err)
		}
		if rec, err = rec.With(e); err != nil {
			return fmt.Errorf("sign off %s: %w", s.Name, err)
		}
		lines = append(lines, e.Marshal()...)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("record the first sign-offs: %w", err)
	}
	if _, err := f.Write(lines); err != nil {
		f.Close()
		return fmt.Errorf("record the first sign-offs in %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("record the first sign-offs in %s: %w", path, err)
	}
	if rec == nil {
		rec = &governance.Record{}
	}
	rec.File = path
	proj.Record, proj.RecordFile = rec, path
	return nil
}
