package strictyaml

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Deref follows aliases.
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports whether n is absent or a null scalar (null, ~ or empty).
func IsNull(n *yaml.Node) bool {
	n = Deref(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Key joins a field path and a key.
func Key(field, k string) string {
	if field == "" {
		return k
	}
	return field + "." + k
}

// Index joins a field path and a list index.
func Index(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

// Shown renders a node's value for "(got ...)": scalars as written (strings
// quoted, null as null), collections by kind, long values clipped.
func Shown(n *yaml.Node) string {
	n = Deref(n)
	if n == nil {
		return ""
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!str":
		return strconv.Quote(Clip(n.Value))
	case "!!null":
		return "null"
	}
	return Clip(n.Value)
}

// Clip shortens s to 60 characters (runes) and "...".
func Clip(s string) string {
	const max = 60
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "..."
	}
	return s
}

// Suggest returns " (did you mean x?)" for a near miss, else the known keys.
func Suggest(name string, known []string) string {
	best, dist := "", 3
	for _, k := range known {
		if dd := editDistance(strings.ToLower(name), k); dd < dist {
			best, dist = k, dd
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
