package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// cmdVersion prints the version this binary was built from.
func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stdout, stderr)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("takes no arguments (got %q)", pos)
	}
	bi, _ := debug.ReadBuildInfo() // nil when it has none
	fmt.Fprintf(stdout, "evald %s\n", versionOf(bi))
	return nil
}

// versionOf is the main module's version as the go command recorded it
// (a tag, or a pseudo-version for a build from a checkout), else "devel"
// with the VCS revision when the build has one: `go run` and `go test`
// record no module version.
func versionOf(bi *debug.BuildInfo) string {
	if bi == nil {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	v := "devel"
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		v += " " + rev
		if modified == "true" {
			v += " (modified)"
		}
	}
	return v
}
