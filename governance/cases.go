package governance

// DroppedCases returns the case ids of before that after no longer holds, in
// before's order. A suite file that drops cases is a change that is reported
// and audited (ActionSuiteCasesShrunk): removing the cases that fail is a
// way to raise a pass rate without touching a threshold.
func DroppedCases(before, after []string) []string {
	kept := make(map[string]bool, len(after))
	for _, id := range after {
		kept[id] = true
	}
	var out []string
	for _, id := range before {
		if !kept[id] {
			out = append(out, id)
		}
	}
	return out
}
