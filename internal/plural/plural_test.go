package plural

import "testing"

func TestN(t *testing.T) {
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{0, "run", "0 runs"},
		{1, "run", "1 run"},
		{2, "reference run", "2 reference runs"},
		{-1, "case", "-1 cases"},
	} {
		if got := N(tc.n, tc.noun); got != tc.want {
			t.Errorf("N(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}
