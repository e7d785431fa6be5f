package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Tolerances of testdata/stats-vectors.json: relative 1e-9 (absolute 1e-12
// near zero); power values relative 1e-6.
const (
	relTol   = 1e-9
	absTol   = 1e-12
	powerTol = 1e-6
)

type vectorFile struct {
	McNemar struct {
		Vectors []struct {
			B, C              int
			PExactTwoSided    float64 `json:"p_exact_two_sided"`
			PMidpTwoSided     float64 `json:"p_midp_two_sided"`
			PExactOneSided    float64 `json:"p_exact_one_sided_drop"`
			PMidpOneSidedDrop float64 `json:"p_midp_one_sided_drop"`
			PChi2Uncorrected  float64 `json:"p_chi2_uncorrected"`
			PChi2Yates        float64 `json:"p_chi2_yates"`
		} `json:"vectors"`
	} `json:"mcnemar"`
	CMH struct {
		Vectors []struct {
			Name      string     `json:"name"`
			Tables    [][][2]int `json:"tables"`
			T         float64    `json:"T_current_passes"`
			E, V, Z   float64
			Chi2      float64 `json:"chi2"`
			PTwoSided float64 `json:"p_two_sided"`
			PDrop     float64 `json:"p_one_sided_drop"`
		} `json:"vectors"`
	} `json:"cmh_stratified_mcnemar"`
	Wilcoxon struct {
		Vectors []map[string]json.RawMessage `json:"vectors"`
	} `json:"wilcoxon_signed_rank"`
	BH struct {
		Vectors []struct {
			P      []float64 `json:"p"`
			Q      []float64 `json:"q"`
			Reject []bool    `json:"reject_at_0.05"`
		} `json:"vectors"`
	} `json:"benjamini_hochberg"`
	PairedCI struct {
		Vectors []struct {
			Kind        string      `json:"kind"`
			N11         int         `json:"n11"`
			N10         int         `json:"n10"`
			N01         int         `json:"n01"`
			N00         int         `json:"n00"`
			Diff        float64     `json:"diff"`
			SE          float64     `json:"se"`
			Lo95        float64     `json:"lo95"`
			Hi95        float64     `json:"hi95"`
			Current     [][]float64 `json:"current"`
			Baseline    [][]float64 `json:"baseline"`
			DI          []float64   `json:"d_i"`
			MeanDiff    float64     `json:"mean_diff"`
			T           float64     `json:"t"`
			DF          int         `json:"df"`
			PDropT      float64     `json:"p_one_sided_drop_t"`
			PDropNormal float64     `json:"p_one_sided_drop_normal"`
			Lo95T       float64     `json:"lo95_t"`
			Hi95T       float64     `json:"hi95_t"`
		} `json:"vectors"`
	} `json:"paired_difference_ci"`
	Wilson struct {
		Vectors []struct {
			X, N   int
			Alpha  float64
			Lo, Hi float64
		} `json:"vectors"`
	} `json:"wilson_interval"`
	CUSUM struct {
		Vectors []struct {
			Kind   string    `json:"kind"`
			Name   string    `json:"name"`
			X      []float64 `json:"x"`
			Target float64   `json:"target"`
			K      float64   `json:"k"`
			Hh     float64   `json:"h"`
			Dbar   []float64 `json:"Dbar"`
			SECur  []float64 `json:"se_cur"`
			SEBase []float64 `json:"se_base"`
			DMin   float64   `json:"dmin"`
			ZGuard float64   `json:"zguard"`
			H      float64   `json:"H"`
			G      []float64 `json:"g"`
			S      []float64 `json:"S"`
			Alarms []int     `json:"alarm_indices"`
			First  *int      `json:"first_alarm"`
		} `json:"vectors"`
	} `json:"cusum"`
	Power struct {
		Vectors []struct {
			N      int     `json:"N"`
			P10    float64 `json:"p10"`
			P01    float64 `json:"p01"`
			Alpha  float64 `json:"alpha_one_sided"`
			Exact  float64 `json:"power_exact"`
			MidP   float64 `json:"power_midp"`
			Normal float64 `json:"power_normal_connor"`
		} `json:"vectors"`
	} `json:"mcnemar_power"`
	Count int `json:"count"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	b, err := os.ReadFile("testdata/stats-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// close reports whether got is within rel of want (or absTol near zero).
func close(got, want, rel float64) bool {
	if got == want {
		return true
	}
	d := math.Abs(got - want)
	return d <= absTol || d <= rel*math.Abs(want)
}

func checkClose(t *testing.T, name string, got, want, rel float64) {
	t.Helper()
	if !close(got, want, rel) {
		t.Errorf("%s = %.17g, want %.17g (rel err %.3g)", name, got, want, math.Abs(got-want)/math.Max(math.Abs(want), 1e-300))
	}
}

func TestVectorCount(t *testing.T) {
	v := loadVectors(t)
	n := len(v.McNemar.Vectors) + len(v.CMH.Vectors) + len(v.Wilcoxon.Vectors) + len(v.BH.Vectors) +
		len(v.PairedCI.Vectors) + len(v.Wilson.Vectors) + len(v.CUSUM.Vectors) + len(v.Power.Vectors)
	if got, want := n, v.Count; got != want {
		t.Errorf("vectors checked = %d, want %d (every vector of every group)", got, want)
	}
}

func TestMcNemarVectors(t *testing.T) {
	for _, tc := range loadVectors(t).McNemar.Vectors {
		t.Run(fmt.Sprintf("b%d_c%d", tc.B, tc.C), func(t *testing.T) {
			r := McNemar(tc.B, tc.C)
			checkClose(t, "PExact", r.PExact, tc.PExactTwoSided, relTol)
			checkClose(t, "PMidP", r.PMidP, tc.PMidpTwoSided, relTol)
			checkClose(t, "PExactDrop", r.PExactDrop, tc.PExactOneSided, relTol)
			checkClose(t, "PMidPDrop", r.PMidPDrop, tc.PMidpOneSidedDrop, relTol)
			checkClose(t, "PChi2", r.PChi2, tc.PChi2Uncorrected, relTol)
			checkClose(t, "PChi2Yates", r.PChi2Yates, tc.PChi2Yates, relTol)
		})
	}
}

func TestCMHVectors(t *testing.T) {
	for _, tc := range loadVectors(t).CMH.Vectors {
		t.Run(tc.Name, func(t *testing.T) {
			strata := make([]Stratum, len(tc.Tables))
			for i, tb := range tc.Tables {
				strata[i] = Stratum{CurPass: tb[0][0], CurFail: tb[0][1], RefPass: tb[1][0], RefFail: tb[1][1]}
			}
			r := CMH(strata)
			checkClose(t, "T", r.T, tc.T, relTol)
			checkClose(t, "E", r.E, tc.E, relTol)
			checkClose(t, "V", r.V, tc.V, relTol)
			checkClose(t, "Z", r.Z, tc.Z, relTol)
			checkClose(t, "Chi2", r.Chi2, tc.Chi2, relTol)
			checkClose(t, "PTwoSided", r.PTwoSided, tc.PTwoSided, relTol)
			checkClose(t, "PDrop", r.PDrop, tc.PDrop, relTol)
		})
	}
}

func TestWilcoxonVectors(t *testing.T) {
	for _, raw := range loadVectors(t).Wilcoxon.Vectors {
		var name string
		var d []float64
		if err := json.Unmarshal(raw["name"], &name); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw["d"], &d); err != nil {
			t.Fatal(err)
		}
		for _, zm := range []string{ZeroWilcox, ZeroPratt} {
			for _, alt := range []string{AltTwoSided, AltLess} {
				key := zm + "_" + alt
				var want struct {
					Method    string  `json:"method"`
					Statistic float64 `json:"statistic"`
					P         float64 `json:"p"`
				}
				if err := json.Unmarshal(raw[key], &want); err != nil {
					t.Fatalf("%s %s: %v", name, key, err)
				}
				t.Run(name+"/"+key, func(t *testing.T) {
					r := Wilcoxon(d, zm, alt, want.Method)
					if got, want := r.Method, want.Method; got != want {
						t.Errorf("Method = %q, want %q", got, want)
					}
					checkClose(t, "Statistic", r.Statistic, want.Statistic, relTol)
					checkClose(t, "P", r.P, want.P, relTol)
				})
			}
		}
	}
}

// TestWilcoxonAuto: the automatic method picks exact only without zeros or
// ties and n ≤ 50, as the vectors' convention says.
func TestWilcoxonAuto(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    []float64
		want string
	}{
		{"no ties", []float64{0.12, -0.05, 0.3, 0.22, -0.11}, MethodExact},
		{"zero", []float64{0.12, 0, 0.3}, MethodApprox},
		{"tie", []float64{0.1, -0.1, 0.3}, MethodApprox},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := Wilcoxon(tc.d, ZeroWilcox, AltLess, MethodAuto).Method, tc.want; got != want {
				t.Errorf("Wilcoxon(%v).Method = %q, want %q", tc.d, got, want)
			}
		})
	}
}

func TestBHVectors(t *testing.T) {
	for i, tc := range loadVectors(t).BH.Vectors {
		t.Run(fmt.Sprintf("v%d_m%d", i, len(tc.P)), func(t *testing.T) {
			q := BH(tc.P)
			for j := range q {
				checkClose(t, fmt.Sprintf("q[%d]", j), q[j], tc.Q[j], relTol)
				if got, want := q[j] <= 0.05, tc.Reject[j]; got != want {
					t.Errorf("reject[%d] = %v, want %v", j, got, want)
				}
			}
		})
	}
}

func TestPairedCIVectors(t *testing.T) {
	for i, tc := range loadVectors(t).PairedCI.Vectors {
		t.Run(fmt.Sprintf("%s_%d", tc.Kind, i), func(t *testing.T) {
			switch tc.Kind {
			case "binary_wald":
				diff, se, lo, hi := PairedWald(tc.N11, tc.N10, tc.N01, tc.N00)
				checkClose(t, "diff", diff, tc.Diff, relTol)
				checkClose(t, "se", se, tc.SE, relTol)
				checkClose(t, "lo95", lo, tc.Lo95, relTol)
				checkClose(t, "hi95", hi, tc.Hi95, relTol)
			case "clustered_paired_mean":
				r := PairedT(tc.Current, tc.Baseline)
				if got, want := len(r.D), len(tc.DI); got != want {
					t.Fatalf("len(D) = %d, want %d", got, want)
				}
				for j := range r.D {
					checkClose(t, fmt.Sprintf("d[%d]", j), r.D[j], tc.DI[j], relTol)
				}
				checkClose(t, "mean_diff", r.Mean, tc.MeanDiff, relTol)
				checkClose(t, "se", r.SE, tc.SE, relTol)
				checkClose(t, "t", r.T, tc.T, relTol)
				if got, want := r.DF, tc.DF; got != want {
					t.Errorf("df = %d, want %d", got, want)
				}
				checkClose(t, "p_one_sided_drop_t", r.PDropT, tc.PDropT, relTol)
				checkClose(t, "p_one_sided_drop_normal", r.PDropZ, tc.PDropNormal, relTol)
				checkClose(t, "lo95_t", r.Lo, tc.Lo95T, relTol)
				checkClose(t, "hi95_t", r.Hi, tc.Hi95T, relTol)
				// The detector's Compare reaches the same numbers from maps,
				// except that it floors SE_tot at 1/(2N) (§2.1).
				ref, cur := map[string][]float64{}, map[string][]float64{}
				for j := range tc.Current {
					id := fmt.Sprintf("case-%03d", j)
					ref[id], cur[id] = tc.Baseline[j], tc.Current[j]
				}
				c := Compare(ref, cur, false)
				n := float64(len(tc.DI))
				se := math.Max(tc.SE, 1/(2*n))
				q := StudentTQuantile(0.975, n-1)
				checkClose(t, "Compare.Delta", c.Delta, tc.MeanDiff, relTol)
				checkClose(t, "Compare.SE", c.SE, se, relTol)
				checkClose(t, "Compare.PDrop", c.PDrop, StudentTCDF(tc.MeanDiff/se, n-1), relTol)
				checkClose(t, "Compare.CILow", c.CILow, tc.MeanDiff-q*se, relTol)
				checkClose(t, "Compare.CIHigh", c.CIHigh, tc.MeanDiff+q*se, relTol)
				if se == tc.SE {
					checkClose(t, "Compare.PDrop", c.PDrop, tc.PDropT, relTol)
					checkClose(t, "Compare.CILow", c.CILow, tc.Lo95T, relTol)
				}
			default:
				t.Fatalf("unknown kind %q", tc.Kind)
			}
		})
	}
}

func TestWilsonVectors(t *testing.T) {
	for _, tc := range loadVectors(t).Wilson.Vectors {
		t.Run(fmt.Sprintf("x%d_n%d_a%g", tc.X, tc.N, tc.Alpha), func(t *testing.T) {
			lo, hi := Wilson(tc.X, tc.N, tc.Alpha)
			checkClose(t, "lo", lo, tc.Lo, relTol)
			checkClose(t, "hi", hi, tc.Hi, relTol)
		})
	}
}

func TestCUSUMVectors(t *testing.T) {
	for i, tc := range loadVectors(t).CUSUM.Vectors {
		name := tc.Name
		if name == "" {
			name = fmt.Sprintf("dmin%g_zguard%g", tc.DMin, tc.ZGuard)
		}
		t.Run(fmt.Sprintf("%s_%d_%s", tc.Kind, i, name), func(t *testing.T) {
			var s []float64
			var alarms []int
			switch tc.Kind {
			case "tabular_lower":
				s, alarms = TabularCUSUMLower(tc.X, tc.Target, tc.K, tc.Hh)
			case "llr_gaussian":
				var g []float64
				s, g, alarms = LLRCUSUM(tc.Dbar, tc.SECur, tc.SEBase, tc.DMin, tc.ZGuard, tc.H)
				for j := range g {
					checkClose(t, fmt.Sprintf("g[%d]", j), g[j], tc.G[j], relTol)
				}
			default:
				t.Fatalf("unknown kind %q", tc.Kind)
			}
			for j := range s {
				checkClose(t, fmt.Sprintf("S[%d]", j), s[j], tc.S[j], relTol)
			}
			if alarms == nil {
				alarms = []int{}
			}
			if diff := cmp.Diff(tc.Alarms, alarms); diff != "" {
				t.Errorf("alarm indices (-want +got):\n%s", diff)
			}
			first := -1
			if len(alarms) > 0 {
				first = alarms[0]
			}
			want := -1
			if tc.First != nil {
				want = *tc.First
			}
			if got := first; got != want {
				t.Errorf("first alarm = %d, want %d", got, want)
			}
		})
	}
}

func TestMcNemarPowerVectors(t *testing.T) {
	for _, tc := range loadVectors(t).Power.Vectors {
		t.Run(fmt.Sprintf("N%d_p10_%g_p01_%g_a%g", tc.N, tc.P10, tc.P01, tc.Alpha), func(t *testing.T) {
			r := McNemarPower(tc.N, tc.P10, tc.P01, tc.Alpha)
			checkClose(t, "Exact", r.Exact, tc.Exact, powerTol)
			checkClose(t, "MidP", r.MidP, tc.MidP, powerTol)
			checkClose(t, "Normal", r.Normal, tc.Normal, powerTol)
		})
	}
}
