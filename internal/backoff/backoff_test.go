package backoff

import (
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	for _, tt := range []struct {
		name        string
		base, limit time.Duration
		n           int
		rnd         float64
		want        time.Duration
	}{
		{"first retry, low jitter", time.Second, time.Minute, 0, 0, 500 * time.Millisecond},
		{"first retry, high jitter", time.Second, time.Minute, 0, 0.5, 750 * time.Millisecond},
		{"doubled twice", time.Second, time.Minute, 2, 0, 2 * time.Second},
		{"capped", time.Second, time.Minute, 10, 0, 30 * time.Second},
		{"capped far out", time.Second, time.Minute, 1 << 20, 0, 30 * time.Second},
		{"no base", 0, time.Minute, 3, 0, 30 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Delay(tt.base, tt.limit, tt.n, func() float64 { return tt.rnd }); got != tt.want {
				t.Errorf("Delay(%v, %v, %d, %v) = %v, want %v", tt.base, tt.limit, tt.n, tt.rnd, got, tt.want)
			}
		})
	}
	for range 100 {
		if d := Delay(time.Second, time.Minute, 3, nil); d < 4*time.Second || d >= 8*time.Second {
			t.Fatalf("Delay(1s, 1m, 3, nil) = %v, want in [4s, 8s)", d)
		}
	}
}
