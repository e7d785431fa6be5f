package main

// tableB is docs/power-tables.md Table B: the LLR-CUSUM (d_min = 5 pp,
// z_g = 2, B = 20, H = ln 8760) at the Gaussian level, 4 000 replicates
// per row, k = 1. The theory of bar 3.
var tableB = []tableBRow{
	{N: 50, P: 0.7, DPP: 2, Rho: 0.0, SERunPP: 6.48, P1: 0.000, P4: 0.000, P24: 0.004, Delay: 174.5, Lorden: 190.6},
	{N: 50, P: 0.7, DPP: 5, Rho: 0.0, SERunPP: 6.48, P1: 0.000, P4: 0.000, P24: 0.114, Delay: 69.1, Lorden: 30.5},
	{N: 50, P: 0.7, DPP: 10, Rho: 0.0, SERunPP: 6.48, P1: 0.000, P4: 0.000, P24: 0.888, Delay: 16.6, Lorden: 7.6},
	{N: 50, P: 0.9, DPP: 2, Rho: 0.0, SERunPP: 4.24, P1: 0.000, P4: 0.000, P24: 0.021, Delay: 171.4, Lorden: 81.7},
	{N: 50, P: 0.9, DPP: 5, Rho: 0.0, SERunPP: 4.24, P1: 0.000, P4: 0.002, P24: 0.613, Delay: 27.7, Lorden: 13.1},
	{N: 50, P: 0.9, DPP: 10, Rho: 0.0, SERunPP: 4.24, P1: 0.000, P4: 0.199, P24: 1.000, Delay: 6.6, Lorden: 3.3},
	{N: 200, P: 0.7, DPP: 2, Rho: 0.0, SERunPP: 3.24, P1: 0.000, P4: 0.000, P24: 0.026, Delay: 176.7, Lorden: 47.7},
	{N: 200, P: 0.7, DPP: 5, Rho: 0.0, SERunPP: 3.24, P1: 0.000, P4: 0.024, P24: 0.825, Delay: 17.9, Lorden: 7.6},
	{N: 200, P: 0.7, DPP: 10, Rho: 0.0, SERunPP: 3.24, P1: 0.000, P4: 0.762, P24: 1.000, Delay: 3.8, Lorden: 1.9},
	{N: 200, P: 0.9, DPP: 2, Rho: 0.0, SERunPP: 2.12, P1: 0.000, P4: 0.004, P24: 0.081, Delay: 148.5, Lorden: 20.4},
	{N: 200, P: 0.9, DPP: 5, Rho: 0.0, SERunPP: 2.12, P1: 0.006, P4: 0.409, P24: 0.997, Delay: 6.1, Lorden: 3.3},
	{N: 200, P: 0.9, DPP: 10, Rho: 0.0, SERunPP: 2.12, P1: 0.280, P4: 1.000, P24: 1.000, Delay: 1.8, Lorden: 0.8},
	{N: 1000, P: 0.7, DPP: 2, Rho: 0.0, SERunPP: 1.45, P1: 0.000, P4: 0.009, P24: 0.117, Delay: 132.2, Lorden: 9.5},
	{N: 1000, P: 0.7, DPP: 5, Rho: 0.0, SERunPP: 1.45, P1: 0.108, P4: 0.893, P24: 1.000, Delay: 2.8, Lorden: 1.5},
	{N: 1000, P: 0.7, DPP: 10, Rho: 0.0, SERunPP: 1.45, P1: 0.974, P4: 1.000, P24: 1.000, Delay: 1.0, Lorden: 0.4},
	{N: 1000, P: 0.9, DPP: 2, Rho: 0.0, SERunPP: 0.95, P1: 0.009, P4: 0.049, P24: 0.271, Delay: 78.5, Lorden: 4.1},
	{N: 1000, P: 0.9, DPP: 5, Rho: 0.0, SERunPP: 0.95, P1: 0.648, P4: 0.999, P24: 1.000, Delay: 1.4, Lorden: 0.7},
	{N: 1000, P: 0.9, DPP: 10, Rho: 0.0, SERunPP: 0.95, P1: 1.000, P4: 1.000, P24: 1.000, Delay: 1.0, Lorden: 0.2},
	{N: 50, P: 0.7, DPP: 2, Rho: 0.7, SERunPP: 3.55, P1: 0.000, P4: 0.000, P24: 0.036, Delay: 163.9, Lorden: 57.2},
	{N: 50, P: 0.7, DPP: 5, Rho: 0.7, SERunPP: 3.55, P1: 0.000, P4: 0.026, P24: 0.813, Delay: 17.8, Lorden: 9.2},
	{N: 50, P: 0.7, DPP: 10, Rho: 0.7, SERunPP: 3.55, P1: 0.001, P4: 0.547, P24: 1.000, Delay: 4.6, Lorden: 2.3},
	{N: 50, P: 0.9, DPP: 2, Rho: 0.7, SERunPP: 2.32, P1: 0.000, P4: 0.013, P24: 0.183, Delay: 106.2, Lorden: 24.5},
	{N: 50, P: 0.9, DPP: 5, Rho: 0.7, SERunPP: 2.32, P1: 0.016, P4: 0.386, P24: 0.991, Delay: 6.5, Lorden: 3.9},
	{N: 50, P: 0.9, DPP: 10, Rho: 0.7, SERunPP: 2.32, P1: 0.230, P4: 0.969, P24: 1.000, Delay: 2.2, Lorden: 1.0},
	{N: 200, P: 0.7, DPP: 2, Rho: 0.7, SERunPP: 1.77, P1: 0.000, P4: 0.015, P24: 0.139, Delay: 122.6, Lorden: 14.3},
	{N: 200, P: 0.7, DPP: 5, Rho: 0.7, SERunPP: 1.77, P1: 0.039, P4: 0.653, P24: 0.999, Delay: 4.3, Lorden: 2.3},
	{N: 200, P: 0.7, DPP: 10, Rho: 0.7, SERunPP: 1.77, P1: 0.646, P4: 1.000, P24: 1.000, Delay: 1.4, Lorden: 0.6},
	{N: 200, P: 0.9, DPP: 2, Rho: 0.7, SERunPP: 1.16, P1: 0.012, P4: 0.084, P24: 0.446, Delay: 47.2, Lorden: 6.1},
	{N: 200, P: 0.9, DPP: 5, Rho: 0.7, SERunPP: 1.16, P1: 0.398, P4: 0.965, P24: 1.000, Delay: 2.0, Lorden: 1.0},
	{N: 200, P: 0.9, DPP: 10, Rho: 0.7, SERunPP: 1.16, P1: 0.966, P4: 1.000, P24: 1.000, Delay: 1.0, Lorden: 0.2},
	{N: 1000, P: 0.7, DPP: 2, Rho: 0.7, SERunPP: 0.79, P1: 0.010, P4: 0.074, P24: 0.383, Delay: 59.0, Lorden: 2.9},
	{N: 1000, P: 0.7, DPP: 5, Rho: 0.7, SERunPP: 0.79, P1: 0.826, P4: 1.000, P24: 1.000, Delay: 1.2, Lorden: 0.5},
	{N: 1000, P: 0.7, DPP: 10, Rho: 0.7, SERunPP: 0.79, P1: 1.000, P4: 1.000, P24: 1.000, Delay: 1.0, Lorden: 0.1},
	{N: 1000, P: 0.9, DPP: 2, Rho: 0.7, SERunPP: 0.52, P1: 0.038, P4: 0.147, P24: 0.616, Delay: 27.9, Lorden: 1.2},
	{N: 1000, P: 0.9, DPP: 5, Rho: 0.7, SERunPP: 0.52, P1: 0.981, P4: 1.000, P24: 1.000, Delay: 1.0, Lorden: 0.2},
	{N: 1000, P: 0.9, DPP: 10, Rho: 0.7, SERunPP: 0.52, P1: 1.000, P4: 1.000, P24: 1.000, Delay: 1.0, Lorden: 0.0},
}

type tableBRow struct {
	N                    int
	P, DPP, Rho, SERunPP float64
	P1, P4, P24, Delay   float64
	Lorden               float64
}

// lookupTableB returns the Table B row of a k = 1 binary cell.
func lookupTableB(sc Scenario) (tableBRow, bool) {
	if sc.K != 1 || sc.Continuous {
		return tableBRow{}, false
	}
	for _, r := range tableB {
		if r.N == sc.N && r.P == sc.P && r.Rho == sc.Rho && r.DPP == 100*sc.Drop {
			return r, true
		}
	}
	return tableBRow{}, false
}
