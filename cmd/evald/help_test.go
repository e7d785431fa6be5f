package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestHelp: help asked for goes to stdout with exit 0 and shows the
// command's usage line with its arguments, what it does and its flags;
// a usage error goes to stderr with exit 2.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"run", "--help"}, []string{"usage: evald run [flags] [SUITE...]\n\nrun the suites named (every suite of the config when none is)", "\nflags:\n", "-baseline"}, []string{"Usage of"}},
		{[]string{"run", "-h"}, []string{"usage: evald run [flags] [SUITE...]"}, nil},
		{[]string{"help", "run"}, []string{"usage: evald run [flags] [SUITE...]", "-baseline"}, nil},
		{[]string{"audit", "--help"}, []string{"usage: evald audit log [--json] [flags]\n       evald audit verify [flags]\n", "-json"}, nil},
		{[]string{"help", "audit", "verify"}, []string{"usage: evald audit verify [flags]\n", "-db"}, []string{"-json"}},
		{[]string{"silence", "list", "--help"}, []string{"usage: evald silence list [flags]\n\nlist every silence", "-config"}, []string{"-target", "-reason"}},
		{[]string{"silence", "--help"}, []string{"usage: evald silence --target T --by NAME --reason TEXT [--for 24h] [flags] SUITE\n       evald silence list [flags]\n", "-target"}, nil},
		{[]string{"history", "-h"}, []string{"usage: evald history [flags] [SUITE]", "list stored runs"}, nil},
		{[]string{"help", "version"}, []string{"usage: evald version\n\nprint evald's version\n"}, []string{"flags:"}},
		{[]string{"--help"}, []string{"usage: evald COMMAND", "  version   print evald's version"}, nil},
		{[]string{"help"}, []string{"usage: evald COMMAND"}, nil},
	} {
		code, out, errOut := evald(t, tc.args...)
		if code != exitOK || errOut != "" {
			t.Errorf("evald %v = exit %d, stderr %q; want 0 and help on stdout", tc.args, code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("evald %v lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("evald %v has %q:\n%s", tc.args, n, out)
			}
		}
	}

	// --config's default is said once.
	_, out, _ := evald(t, "history", "--help")
	i := strings.Index(out, "-config")
	line, _, _ := strings.Cut(out[i:], "\n  -")
	if n := strings.Count(line, "default"); n != 1 {
		t.Errorf("-config's help says default %d times: %q", n, line)
	}

	for _, args := range [][]string{{}, {"run", "--bogus"}, {"help", "nosuch"}, {"version", "extra"}} {
		code, out, errOut := evald(t, args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "usage: evald") && !strings.Contains(errOut, "takes no arguments") {
			t.Errorf("evald %v = exit %d, stdout %q, stderr %q; want %d with the usage on stderr", args, code, out, errOut, exitUsage)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := evald(t, args...)
		if code != exitOK || !strings.HasPrefix(out, "evald ") || strings.Count(out, "\n") != 1 || errOut != "" {
			t.Errorf("evald %v = exit %d, %q %q; want one line 'evald VERSION'", args, code, out, errOut)
		}
	}
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{nil, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}}}, "devel abc123"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}, "devel abc123 (modified)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
	} {
		if got := versionOf(tc.bi); got != tc.want {
			t.Errorf("versionOf(%+v) = %q, want %q", tc.bi, got, tc.want)
		}
	}
}
