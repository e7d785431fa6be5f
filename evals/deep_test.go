package evals

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// TestDeepNestingNamesALine: a 3,000-deep block nesting, or a deeper flow
// one, is refused with a line, never without one.
func TestDeepNestingNamesALine(t *testing.T) {
	var block strings.Builder
	block.WriteString("name: deep\nprompt:\n  - role: user\n    content: hi\ntests:\n  - vars:\n")
	indent := "      "
	for i := range 3000 {
		block.WriteString(indent + "k" + strings.Repeat("x", i%3) + ":\n")
		indent += " "
	}
	block.WriteString(indent + "x: 1\n")
	flow := "name: deep\nprompt:\n  - role: user\n    content: hi\ntests:\n  - vars: {a: " + strings.Repeat("[", 12000) + strings.Repeat("]", 12000) + "}\n"
	line := regexp.MustCompile(`^s\.yaml:[1-9][0-9]*: `)
	for name, text := range map[string]string{"block": block.String(), "flow": flow} {
		_, err := Parse(fstest.MapFS{"s.yaml": {Data: []byte(text)}}, "s.yaml")
		if err == nil {
			t.Errorf("%s: a nesting this deep loaded", name)
			continue
		}
		for _, msg := range strings.Split(err.Error(), "\n") {
			if !line.MatchString(msg) {
				t.Errorf("%s: problem %q names no line", name, msg)
			}
		}
	}
}
