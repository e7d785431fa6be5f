package drift

import (
	"fmt"
	"math"
	"testing"
)

func TestNormalQuantile(t *testing.T) {
	for _, tc := range []struct{ p, want float64 }{
		{0.975, 1.959963984540054},
		{0.5, 0},
		{0.8, 0.8416212335729143},
		{1e-10, -6.361340902404056},
		{0.999, 3.090232306167813},
	} {
		got := NormalQuantile(tc.p)
		checkClose(t, fmt.Sprintf("NormalQuantile(%g)", tc.p), got, tc.want, relTol)
		checkClose(t, fmt.Sprintf("NormalQuantile(1-%g)", tc.p), NormalQuantile(1-tc.p), -tc.want, 1e-8)
	}
}

func TestStudentT(t *testing.T) {
	for _, tc := range []struct{ p, nu, want float64 }{
		// Reference values from mpmath (40 digits).
		{0.975, 1, 12.706204736174693},
		{0.975, 2, 4.3026527297494618},
		{0.975, 10, 2.2281388519862742},
		{0.975, 30, 2.0422724563012379},
		{0.995, 5, 4.0321429835552272},
		{0.975, 1999, 1.9611514201705616},
	} {
		t.Run(fmt.Sprintf("p%g_nu%g", tc.p, tc.nu), func(t *testing.T) {
			q := StudentTQuantile(tc.p, tc.nu)
			checkClose(t, "StudentTQuantile", q, tc.want, relTol)
			checkClose(t, "StudentTCDF(quantile)", StudentTCDF(q, tc.nu), tc.p, 1e-12)
			checkClose(t, "StudentTCDF(-quantile)", StudentTCDF(-q, tc.nu), 1-tc.p, 1e-9)
		})
	}
}

// TestCMHExactIsMcNemarMidP: with one sample per case on each side the
// exact conditional CMH is McNemar's exact test.
func TestCMHExactIsMcNemarMidP(t *testing.T) {
	for _, bc := range [][2]int{{3, 1}, {10, 2}, {7, 12}, {20, 8}, {0, 9}, {13, 0}} {
		b, c := bc[0], bc[1]
		t.Run(fmt.Sprintf("b%d_c%d", b, c), func(t *testing.T) {
			var s []Stratum
			for range b {
				s = append(s, Stratum{CurFail: 1, RefPass: 1})
			}
			for range c {
				s = append(s, Stratum{CurPass: 1, RefFail: 1})
			}
			for range 5 { // concordant strata carry no information
				s = append(s, Stratum{CurPass: 1, RefPass: 1}, Stratum{CurFail: 1, RefFail: 1})
			}
			drop, two := CMHExact(s)
			m := McNemar(b, c)
			checkClose(t, "pDrop", drop, m.PMidPDrop, relTol)
			checkClose(t, "pTwo", two, m.PMidP, relTol)
			if b+c > 0 {
				r := CMH(s)
				checkClose(t, "CMH chi2", r.Chi2, m.Chi2, relTol)
			}
		})
	}
}

// TestCMHExactBruteForce checks the convolution against enumeration.
// TestCMHExactNoInformation: with no informative stratum the law of T is
// a point mass and the mid-p of a drop is ½ (McNemar's convention for
// b+c = 0 says 1; the detector reports McNemar's there).
func TestCMHExactNoInformation(t *testing.T) {
	drop, two := CMHExact([]Stratum{{CurPass: 1, RefPass: 1}, {CurFail: 1, RefFail: 1}})
	if drop != 0.5 || two != 1 {
		t.Errorf("CMHExact(concordant) = %g, %g; want 0.5, 1", drop, two)
	}
}

func TestCMHExactBruteForce(t *testing.T) {
	strata := []Stratum{
		{CurPass: 2, CurFail: 1, RefPass: 3, RefFail: 3},
		{CurPass: 0, CurFail: 2, RefPass: 4, RefFail: 1},
		{CurPass: 1, CurFail: 1, RefPass: 1, RefFail: 2},
		{CurPass: 3, CurFail: 0, RefPass: 5, RefFail: 0}, // degenerate
	}
	// Enumerate the joint hypergeometric law of the current passes.
	type law map[int]float64
	total := law{0: 1}
	tObs := 0
	for _, s := range strata {
		r, m, n := s.CurPass+s.CurFail, s.CurPass+s.RefPass, s.CurPass+s.CurFail+s.RefPass+s.RefFail
		next := law{}
		for x := max(0, r+m-n); x <= min(r, m); x++ {
			px := math.Exp(logChoose(m, x) + logChoose(n-m, r-x) - logChoose(n, r))
			for t0, p := range total {
				next[t0+x] += p * px
			}
		}
		total = next
		tObs += s.CurPass
	}
	below, at := 0.0, total[tObs]
	for v, p := range total {
		if v < tObs {
			below += p
		}
	}
	drop, two := CMHExact(strata)
	checkClose(t, "pDrop", drop, below+at/2, 1e-12)
	checkClose(t, "pTwo", two, math.Min(1, 2*math.Min(below+at/2, 1-below-at/2)), 1e-12)
}

func TestCompareBinary(t *testing.T) {
	ref, cur := map[string][]float64{}, map[string][]float64{}
	for i := range 200 {
		id := fmt.Sprintf("c%03d", i)
		ref[id], cur[id] = []float64{1}, []float64{1}
		switch {
		case i < 12:
			cur[id] = []float64{0} // pass → fail
		case i < 15:
			ref[id] = []float64{0} // fail → pass
		case i >= 190:
			ref[id], cur[id] = []float64{0}, []float64{0}
		}
	}
	c := Compare(ref, cur, true)
	m := McNemar(12, 3)
	if got, want := c.Test, TestMcNemarMidP; got != want {
		t.Errorf("Test = %q, want %q", got, want)
	}
	checkClose(t, "PTwoSided", c.PTwoSided, m.PMidP, relTol)
	checkClose(t, "PDrop", c.PDrop, m.PMidPDrop, relTol)
	checkClose(t, "Delta", c.Delta, -9.0/200, relTol)
	if got, want := c.NPassToFail, 12; got != want {
		t.Errorf("NPassToFail = %d, want %d", got, want)
	}
	if got, want := c.NFailToPass, 3; got != want {
		t.Errorf("NFailToPass = %d, want %d", got, want)
	}
	// b + c ≥ 30: asymptotic McNemar.
	for i := 15; i < 40; i++ {
		cur[fmt.Sprintf("c%03d", i)] = []float64{0}
	}
	if got, want := Compare(ref, cur, true).Test, TestMcNemar; got != want {
		t.Errorf("Test = %q with b+c = 40, want %q", got, want)
	}
	// Several samples per case: CMH.
	cur["c100"] = []float64{1, 0, 1}
	if got := Compare(ref, cur, true).Test; got != TestCMH && got != TestCMHExact {
		t.Errorf("Test = %q with repeats, want a CMH test", got)
	}
}

func TestBHKeepsOrderAndTies(t *testing.T) {
	q := BH([]float64{0.04, 0.01, 0.04, 0.5})
	want := []float64{0.05333333333333334, 0.04, 0.05333333333333334, 0.5}
	for i := range q {
		checkClose(t, fmt.Sprintf("q[%d]", i), q[i], want[i], relTol)
	}
}

func TestSampleSize(t *testing.T) {
	// (1.645 + 0.842)² · 0.09 / 0.05² ≈ 222.6 → 223.
	if got, want := SampleSize(0.05, 0.09, 0.05, 0.2), 223; got != want {
		t.Errorf("SampleSize = %d, want %d", got, want)
	}
}
