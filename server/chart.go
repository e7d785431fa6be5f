package server

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Inline SVG charts. The geometry is computed here and the markup is
// written by the "chart" template, so every text in a chart (tooltips,
// labels) goes through html/template's escaping. Numbers are formatted
// with one decimal: the viewBox is a few hundred units wide.

// chartView is one SVG chart as the "chart" template draws it.
type chartView struct {
	Class      string // "spark" or "plot"
	Label      string // aria-label: what the chart says, in words
	W, H       int
	FrameX     string // plot area, for the frame and the grid
	FrameY     string
	FrameW     string
	FrameH     string
	FrameRight string
	FrameBot   string
	YTicks     []tickView
	XTicks     []tickView
	Bands      []pathView
	Paths      []pathView
	HLines     []hlineView
	Markers    []markerView
	Bars       []barView
	Points     []pointView
}

type tickView struct {
	Pos   string // x for an x tick, y for a y tick
	Label string
}

type pathView struct {
	D, Class string
}

type hlineView struct {
	Y, X1, X2, LabelX string
	Label, Class      string
	Dy                string // label offset from the line: above by default
}

type barView struct {
	X, Y1, Y2 string
	Class     string
}

// pointView is a data point: a shape with a tooltip, linking to a run.
type pointView struct {
	D, Class, Tip, Href string
}

// markerView is a vertical line at an event, with its glyph on top when
// Glyph is set.
type markerView struct {
	X, Y1, Y2    string
	GlyphY       string
	Glyph, Class string
	Tip, Href    string
}

// plot maps times and values into a chart's viewBox.
type plot struct {
	w, h       float64
	l, r, t, b float64 // padding
	t0, t1     time.Time
	y0, y1     float64
}

func (p plot) x(t time.Time) float64 {
	if !p.t1.After(p.t0) {
		return p.l + (p.w-p.l-p.r)/2
	}
	return p.l + (p.w-p.l-p.r)*float64(t.Sub(p.t0))/float64(p.t1.Sub(p.t0))
}

func (p plot) y(v float64) float64 {
	if p.y1 == p.y0 {
		return p.t + (p.h-p.t-p.b)/2
	}
	v = math.Max(p.y0, math.Min(p.y1, v))
	return p.t + (p.h-p.t-p.b)*(1-(v-p.y0)/(p.y1-p.y0))
}

func (p plot) view(class, label string) chartView {
	return chartView{
		Class: class, Label: label, W: int(p.w), H: int(p.h),
		FrameX: f1(p.l), FrameY: f1(p.t), FrameW: f1(p.w - p.l - p.r), FrameH: f1(p.h - p.t - p.b),
		FrameRight: f1(p.w - p.r), FrameBot: f1(p.h - p.b),
	}
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// circle is the path of a circle of radius r at (x, y).
func circle(x, y, r float64) string {
	return "M" + f1(x-r) + "," + f1(y) + "a" + f1(r) + "," + f1(r) + " 0 1,0 " + f1(2*r) + ",0a" + f1(r) + "," + f1(r) + " 0 1,0 " + f1(-2*r) + ",0Z"
}

// triangle is the path of a downward triangle centred at (x, y): a worse run.
func triangle(x, y, r float64) string {
	return "M" + f1(x-r) + "," + f1(y-r*0.8) + "L" + f1(x+r) + "," + f1(y-r*0.8) + "L" + f1(x) + "," + f1(y+r) + "Z"
}

// cross is an x at (x, y): a run that measured nothing.
func cross(x, y, r float64) string {
	return "M" + f1(x-r) + "," + f1(y-r) + "L" + f1(x+r) + "," + f1(y+r) + "M" + f1(x-r) + "," + f1(y+r) + "L" + f1(x+r) + "," + f1(y-r)
}

// polyline joins the points into a path, starting a new stroke after each
// NaN (a gap).
func polyline(xs, ys []float64) string {
	var b strings.Builder
	pen := false
	for i := range xs {
		if math.IsNaN(ys[i]) {
			pen = false
			continue
		}
		if pen {
			b.WriteByte('L')
		} else {
			b.WriteByte('M')
		}
		b.WriteString(f1(xs[i]) + "," + f1(ys[i]))
		pen = true
	}
	return b.String()
}

// stepline draws a value that holds until the next point.
func stepline(xs, ys []float64) string {
	var b strings.Builder
	pen := false
	for i := range xs {
		if math.IsNaN(ys[i]) {
			pen = false
			continue
		}
		if pen {
			b.WriteString("H" + f1(xs[i]) + "V" + f1(ys[i]))
		} else {
			b.WriteString("M" + f1(xs[i]) + "," + f1(ys[i]))
		}
		pen = true
	}
	return b.String()
}

// band is the closed area between lo and hi, broken at NaNs.
func band(xs, lo, hi []float64) string {
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		for i := start; i < end; i++ {
			if i == start {
				b.WriteByte('M')
			} else {
				b.WriteByte('L')
			}
			b.WriteString(f1(xs[i]) + "," + f1(hi[i]))
		}
		for i := end - 1; i >= start; i-- {
			b.WriteString("L" + f1(xs[i]) + "," + f1(lo[i]))
		}
		b.WriteByte('Z')
		start = -1
	}
	for i := range xs {
		if math.IsNaN(lo[i]) || math.IsNaN(hi[i]) {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(xs))
	return b.String()
}

// Steps for time ticks, with the layout of their labels.
var timeSteps = []struct {
	d      time.Duration
	layout string
}{
	{time.Second, "15:04:05"}, {5 * time.Second, "15:04:05"}, {10 * time.Second, "15:04:05"},
	{15 * time.Second, "15:04:05"}, {30 * time.Second, "15:04:05"},
	{time.Minute, "15:04"}, {2 * time.Minute, "15:04"}, {5 * time.Minute, "15:04"}, {10 * time.Minute, "15:04"},
	{15 * time.Minute, "15:04"}, {30 * time.Minute, "15:04"},
	{time.Hour, "15:04"}, {2 * time.Hour, "15:04"}, {3 * time.Hour, "15:04"}, {6 * time.Hour, "Jan 2 15:04"},
	{12 * time.Hour, "Jan 2 15:04"},
	{24 * time.Hour, "Jan 2"}, {2 * 24 * time.Hour, "Jan 2"}, {7 * 24 * time.Hour, "Jan 2"},
	{14 * 24 * time.Hour, "Jan 2"}, {28 * 24 * time.Hour, "Jan 2"}, {56 * 24 * time.Hour, "Jan 2"},
	{91 * 24 * time.Hour, "Jan 2006"},
}

// timeTicks returns at most max ticks between p.t0 and p.t1 at a round
// step, labelled in UTC.
func (p plot) timeTicks(max int) []tickView {
	span := p.t1.Sub(p.t0)
	if span <= 0 {
		return []tickView{{Pos: f1(p.x(p.t0)), Label: p.t0.UTC().Format("15:04:05")}}
	}
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if int(span/s.d) < max {
			step = s
			break
		}
	}
	var out []tickView
	for t := p.t0.UTC().Truncate(step.d); !t.After(p.t1); t = t.Add(step.d) {
		if t.Before(p.t0) {
			continue
		}
		out = append(out, tickView{Pos: f1(p.x(t)), Label: t.Format(step.layout)})
	}
	return out
}
