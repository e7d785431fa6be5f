package store

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkAddSamples writes batches of 500 samples with 2 assertion
// results each, as row-at-a-time prepared inserts and as the multi-row
// inserts AddSamples uses, and reports samples/s.
func BenchmarkAddSamples(b *testing.B) {
	const batch = 500
	for _, bc := range []struct {
		name                   string
		sampleRows, resultRows int
	}{
		{"row-at-a-time", 1, 1},
		{"multi-row-8", 8, 16},
		{fmt.Sprintf("multi-row-%d-default", sampleRowsPerInsert), sampleRowsPerInsert, resultRowsPerInsert},
		{"multi-row-128", 128, 256},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			s, _ := openTest(b)
			id := newRun(b, s)
			samples := makeSamples(0, batch, 2)
			for b.Loop() {
				if err := s.addSamples(ctx, id, samples, bc.sampleRows, bc.resultRows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
