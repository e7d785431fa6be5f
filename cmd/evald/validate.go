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
	fmt.Fprintf(stdout, "%s: ok (%s, %s, %s)\n", pf.file(), plural(len(proj.Config.Targets), "target"), plural(len(proj.Suites), "suite"), plural(cases, "case"))
	for _, s := range proj.Suites {
		fmt.Fprintf(stdout, "  %-20s %3d cases x %d  suite %s  prompt %s\n", s.Name, len(s.Cases), s.Repeats, s.Version[:12], s.PromptVersion[:12])
	}
	return nil
}

// plural is "1 suite", "2 suites".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
