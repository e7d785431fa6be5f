package server

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Formatting for the dashboard. Times are shown in UTC, the daemon's
// scheduling zone, with the distance from now next to them.

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// fmtShortTime is the time of day when t is today (UTC), else the date too.
func fmtShortTime(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t, now = t.UTC(), now.UTC()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04:05")
	}
	if t.Year() == now.Year() {
		return t.Format("Jan 2 15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// fmtSpan says how long d is in the largest whole unit that fits.
func fmtSpan(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d d", int(d/(24*time.Hour)))
}

func fmtAgo(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	if s := fmtSpan(now.Sub(t)); s != "now" {
		if t.After(now) {
			return "in " + s
		}
		return s + " ago"
	}
	return "now"
}

func fmtIn(t, now time.Time) string {
	if t.IsZero() {
		return "not scheduled"
	}
	if t.Sub(now) < time.Second {
		return "due now"
	}
	return "in " + fmtSpan(t.Sub(now))
}

func fmtPct(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
}

func fmtPctPtr(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmtPct(*f)
}

// fmtPP prints a difference of rates in percentage points.
func fmtPP(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	return fmt.Sprintf("%+.1f pp", 100*f)
}

func fmtUSD(f float64) string {
	switch {
	case f == 0:
		return "$0"
	case math.Abs(f) < 0.01:
		return "$" + strconv.FormatFloat(f, 'f', 4, 64)
	}
	return "$" + strconv.FormatFloat(f, 'f', 2, 64)
}

func fmtNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

func fmtDuration(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d < time.Second {
		return fmt.Sprintf("%d ms", ms)
	}
	if d < time.Minute {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	}
	return d.Round(time.Second).String()
}

// shortHash keeps the first 8 characters of a version hash.
func shortHash(h string) string {
	if len(h) > 8 {
		return h[:8]
	}
	if h == "" {
		return "-"
	}
	return h
}

// fmtCounts prints a value -> count map as "a (3), b (1)", largest first.
func fmtCounts(m map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range m {
		all = append(all, kv{k, n})
	}
	// Small maps: insertion sort by count, then name.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && (all[j].n > all[j-1].n || all[j].n == all[j-1].n && all[j].k < all[j-1].k); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	parts := make([]string, len(all))
	for i, e := range all {
		parts[i] = fmt.Sprintf("%s (%d)", e.k, e.n)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
