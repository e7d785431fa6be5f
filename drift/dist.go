package drift

import "math"

// Probability distributions used by the tests. Accuracy targets the
// reference vectors (relative 1e-9); most functions are good to ~1e-13.

// NormalCDF returns Φ(x), the standard normal distribution function.
func NormalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// NormalSF returns 1 − Φ(x) without cancellation.
func NormalSF(x float64) float64 { return 0.5 * math.Erfc(x/math.Sqrt2) }

// NormalQuantile returns Φ⁻¹(p) for p in (0, 1) (±Inf at 0 and 1, NaN
// outside). It uses Acklam's rational approximation refined by Halley steps.
func NormalQuantile(p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	}
	const plow = 0.02425
	var x float64
	switch {
	case p < plow:
		q := math.Sqrt(-2 * math.Log(p))
		x = (((((acklamC[0]*q+acklamC[1])*q+acklamC[2])*q+acklamC[3])*q+acklamC[4])*q + acklamC[5]) /
			((((acklamD[0]*q+acklamD[1])*q+acklamD[2])*q+acklamD[3])*q + 1)
	case p > 1-plow:
		q := math.Sqrt(-2 * math.Log1p(-p))
		x = -(((((acklamC[0]*q+acklamC[1])*q+acklamC[2])*q+acklamC[3])*q+acklamC[4])*q + acklamC[5]) /
			((((acklamD[0]*q+acklamD[1])*q+acklamD[2])*q+acklamD[3])*q + 1)
	default:
		q := p - 0.5
		r := q * q
		x = (((((acklamA[0]*r+acklamA[1])*r+acklamA[2])*r+acklamA[3])*r+acklamA[4])*r + acklamA[5]) * q /
			(((((acklamB[0]*r+acklamB[1])*r+acklamB[2])*r+acklamB[3])*r+acklamB[4])*r + 1)
	}
	// Halley refinement against the accurate erfc-based cdf. Work in the
	// tail that is below one half so the residual keeps its precision.
	for range 2 {
		var e float64
		if x < 0 {
			e = NormalCDF(x) - p
		} else {
			e = (1 - p) - NormalSF(x)
		}
		u := e * math.Sqrt(2*math.Pi) * math.Exp(x*x/2)
		x -= u / (1 + x*u/2)
	}
	return x
}

var (
	acklamA = [6]float64{-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
		1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00}
	acklamB = [5]float64{-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
		6.680131188771972e+01, -1.328068155288572e+01}
	acklamC = [6]float64{-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
		-2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00}
	acklamD = [4]float64{7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
		3.754408661907416e+00}
)

// RegIncBeta returns the regularized incomplete beta function I_x(a, b).
func RegIncBeta(a, b, x float64) float64 { return incBeta(a, b, x, 1-x) }

// incBeta is I_x(a, b) with y = 1 − x passed separately so callers that
// know y exactly (t tails) keep its precision.
func incBeta(a, b, x, y float64) float64 {
	switch {
	case x <= 0:
		return 0
	case y <= 0:
		return 1
	}
	lab, _ := math.Lgamma(a + b)
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log(y))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, y)/b
}

// betaCF evaluates the continued fraction of the incomplete beta function
// by the modified Lentz method.
func betaCF(a, b, x float64) float64 {
	const (
		maxIter = 10000
		eps     = 1e-16
		tiny    = 1e-300
	)
	qab, qap, qam := a+b, a+1, a-1
	c := 1.0
	d := 1 - qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= maxIter; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// StudentTCDF returns P(T ≤ t) for Student's t with nu degrees of freedom
// (nu > 0; +Inf gives the normal).
func StudentTCDF(t, nu float64) float64 {
	if math.IsInf(nu, 1) {
		return NormalCDF(t)
	}
	if t == 0 {
		return 0.5
	}
	t2 := t * t
	tail := 0.5 * incBeta(nu/2, 0.5, nu/(nu+t2), t2/(nu+t2)) // P(T > |t|)
	if t > 0 {
		return 1 - tail
	}
	return tail
}

// studentTSF returns P(T > t) without cancellation for large t.
func studentTSF(t, nu float64) float64 { return StudentTCDF(-t, nu) }

// studentTPDF is the density of Student's t.
func studentTPDF(t, nu float64) float64 {
	l1, _ := math.Lgamma((nu + 1) / 2)
	l2, _ := math.Lgamma(nu / 2)
	return math.Exp(l1 - l2 - 0.5*math.Log(nu*math.Pi) - (nu+1)/2*math.Log1p(t*t/nu))
}

// StudentTQuantile returns the p-quantile of Student's t with nu degrees of
// freedom, by safeguarded Newton iteration on [StudentTCDF].
func StudentTQuantile(p, nu float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1 || !(nu > 0):
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	case p == 0.5:
		return 0
	case math.IsInf(nu, 1):
		return NormalQuantile(p)
	case p < 0.5:
		return -StudentTQuantile(1-p, nu)
	}
	// p > 0.5 from here; the root is positive. Work with the upper tail.
	q := 1 - p
	switch nu {
	case 1:
		return math.Tan(math.Pi * (p - 0.5))
	case 2:
		return (2*p - 1) / math.Sqrt(2*p*q)
	}
	// Cornish–Fisher start, then bracket.
	z := NormalQuantile(p)
	t := z + (z*z*z+z)/(4*nu) + (5*math.Pow(z, 5)+16*z*z*z+3*z)/(96*nu*nu)
	lo, hi := 0.0, math.Max(2*t, 1)
	for studentTSF(hi, nu) > q {
		lo, hi = hi, 2*hi
	}
	if !(t > lo && t < hi) {
		t = (lo + hi) / 2
	}
	for range 200 {
		f := q - studentTSF(t, nu) // increasing in t
		if f > 0 {
			hi = t
		} else {
			lo = t
		}
		next := t - f/studentTPDF(t, nu)
		if !(next > lo && next < hi) {
			next = (lo + hi) / 2
		}
		if math.Abs(next-t) <= 1e-15*math.Max(1, math.Abs(t)) {
			return next
		}
		t = next
	}
	return t
}

// logChoose returns ln C(n, k).
func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// binomPMF returns P(X = k) for X ~ Binomial(n, p).
func binomPMF(k, n int, p float64) float64 {
	switch {
	case k < 0 || k > n:
		return 0
	case p == 0:
		if k == 0 {
			return 1
		}
		return 0
	case p == 1:
		if k == n {
			return 1
		}
		return 0
	}
	return math.Exp(logChoose(n, k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
}

// binomHalfPMF returns the whole pmf of Binomial(n, 1/2).
func binomHalfPMF(n int) []float64 {
	pmf := make([]float64, n+1)
	ln2n := float64(n) * math.Ln2
	for k := 0; k <= n/2; k++ {
		v := math.Exp(logChoose(n, k) - ln2n)
		pmf[k], pmf[n-k] = v, v
	}
	return pmf
}

// sumRange adds v[lo..hi] (inclusive, clipped), smallest terms first where
// the caller passes a tail.
func sumRange(v []float64, lo, hi int) float64 {
	lo = max(lo, 0)
	hi = min(hi, len(v)-1)
	s := 0.0
	for i := lo; i <= hi; i++ {
		s += v[i]
	}
	return s
}

// chi2SF1 returns P(χ²₁ > x).
func chi2SF1(x float64) float64 {
	if x <= 0 {
		return 1
	}
	return math.Erfc(math.Sqrt(x / 2))
}
