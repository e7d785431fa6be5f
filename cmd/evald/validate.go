package main

import (
	"context"
	"fmt"
	"io"
)

func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("validate", stdout, stderr)
	var pf projectFlags
	pf.register(fs)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	proj, err := pf.load()
	if err != nil {
		return err
	}
	cases := 0
	for _, s := range proj.Suites {
		cases += len(s.Cases)
	}
	fmt.Fprintf(stdout, "%s: ok (%d targets, %d suites, %d cases)\n", pf.file(), len(proj.Config.Targets), len(proj.Suites), cases)
	for _, s := range proj.Suites {
		fmt.Fprintf(stdout, "  %-20s %3d cases x %d  suite %s  prompt %s\n", s.Name, len(s.Cases), s.Repeats, s.Version[:12], s.PromptVersion[:12])
	}
	return nil
}
