package drift

import "math"

// Stratum is one case's 2×2 table for the Cochran–Mantel–Haenszel test:
// rows current and reference, columns pass and fail.
type Stratum struct {
	CurPass, CurFail, RefPass, RefFail int
}

// CMHResult is the Cochran–Mantel–Haenszel test of "no change" with cases
// as strata, without continuity correction.
type CMHResult struct {
	// T is the number of current passes, E its expectation and V its
	// variance under no change (conditional on every stratum's margins).
	T, E, V float64
	// Z = (T−E)/√V; negative means the current run passes less.
	Z, Chi2 float64
	// PTwoSided is the χ²₁ tail of Z², PDrop = Φ(Z) the one-sided p of a drop.
	PTwoSided, PDrop float64
	// Informative counts strata that carry information (both rows and both
	// columns non-empty).
	Informative int
}

// CMH computes the asymptotic Cochran–Mantel–Haenszel test. With one
// sample per case on each side it equals McNemar's uncorrected χ².
func CMH(strata []Stratum) CMHResult {
	var r CMHResult
	for _, s := range strata {
		t, e, v, ok := cmhTerm(s)
		r.T += t
		r.E += e
		r.V += v
		if ok {
			r.Informative++
		}
	}
	r.finish()
	return r
}

// cmhTerm returns one stratum's contributions to T, E and V.
func cmhTerm(s Stratum) (t, e, v float64, informative bool) {
	r := float64(s.CurPass + s.CurFail)
	m := float64(s.CurPass + s.RefPass)
	n := float64(s.CurPass + s.CurFail + s.RefPass + s.RefFail)
	t = float64(s.CurPass)
	if n < 2 {
		return t, t, 0, false
	}
	e = r * m / n
	v = r * (n - r) * m * (n - m) / (n * n * (n - 1))
	return t, e, v, v > 0
}

func (r *CMHResult) finish() {
	if r.V <= 0 {
		r.PTwoSided, r.PDrop = 1, 0.5
		return
	}
	r.Z = (r.T - r.E) / math.Sqrt(r.V)
	r.Chi2 = r.Z * r.Z
	r.PTwoSided = chi2SF1(r.Chi2)
	r.PDrop = NormalCDF(r.Z)
}

// CMHExact returns the exact conditional distribution's mid-p values of
// the stratified test: the law of T is the convolution of the strata's
// hypergeometric laws. pDrop = P(T < t) + P(T = t)/2; pTwo doubles the
// smaller mid-p tail (capped at 1). With one sample per case on each side
// it is exactly McNemar's mid-p.
func CMHExact(strata []Stratum) (pDrop, pTwo float64) {
	var c cmhConv
	for _, s := range strata {
		c.size(s)
	}
	for _, s := range strata {
		c.add(s)
	}
	return c.midP()
}

// cmhConv accumulates the convolution of hypergeometric laws in one
// buffer: call size for every stratum, then add for every stratum. Only
// strata with a non-degenerate law enter the convolution.
type cmhConv struct {
	law  []float64 // law[j] = P(T_informative = lo + j)
	n    int       // entries in use
	span int       // total support width, from size
	lo   int       // smallest reachable informative T
	tObs int       // observed T over informative strata
	h    []float64 // scratch: one stratum's law
}

func hyperRange(s Stratum) (r, m, n, xlo, xhi int) {
	r = s.CurPass + s.CurFail
	m = s.CurPass + s.RefPass
	n = r + s.RefPass + s.RefFail
	return r, m, n, max(0, r+m-n), min(r, m)
}

func (c *cmhConv) size(s Stratum) {
	_, _, _, xlo, xhi := hyperRange(s)
	c.span += xhi - xlo
}

func (c *cmhConv) add(s Stratum) {
	r, m, n, xlo, xhi := hyperRange(s)
	if xlo == xhi {
		return
	}
	if c.law == nil {
		c.law = make([]float64, c.span+1)
		c.law[0], c.n = 1, 1
	}
	// Hypergeometric pmf by its ratio recurrence, then normalised.
	h := c.h[:0]
	p, tot := 1.0, 0.0
	for x := xlo; x <= xhi; x++ {
		h = append(h, p)
		tot += p
		p *= float64((m-x)*(r-x)) / float64((x+1)*(n-m-r+x+1))
	}
	for j := range h {
		h[j] /= tot
	}
	c.h = h
	// In-place convolution, highest index first.
	w := len(h)
	newN := c.n + w - 1
	for i := newN - 1; i >= 0; i-- {
		acc := 0.0
		for j := max(0, i-c.n+1); j < w && j <= i; j++ {
			acc += h[j] * c.law[i-j]
		}
		c.law[i] = acc
	}
	c.n = newN
	c.lo += xlo
	c.tObs += s.CurPass
}

func (c *cmhConv) midP() (pDrop, pTwo float64) {
	if c.law == nil {
		return 0.5, 1
	}
	law := c.law[:c.n]
	k := c.tObs - c.lo
	below := sumRange(law, 0, k-1)
	above := sumRange(law, k+1, len(law)-1)
	at := law[k]
	pDrop = below + at/2
	pUp := above + at/2
	pTwo = math.Min(1, 2*math.Min(pDrop, pUp))
	return pDrop, pTwo
}
