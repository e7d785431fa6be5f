// Command year builds a year of history with the real store code (8,760
// hourly runs x 200 samples of one suite on one target, 34-byte answers,
// two assertions each) and, with -retain, applies sample retention to a
// copy of it. bench/year.sh drives it and measures the rest.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/evald/evald/store"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("year", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "bench/out/year/year.db", "database `file` to build (must not exist) or, with -retain, to prune")
	runs := fs.Int("runs", 8760, "hourly runs, the last one ending -end-ago before now")
	samples := fs.Int("samples", 200, "samples per run")
	endAgo := fs.Duration("end-ago", 10*time.Minute, "how long before now the last run starts")
	retain := fs.Duration("retain", 0, "instead of building, delete the samples of runs older than this (as storage.retain_samples does), keeping the first 20 runs (an anchored drift reference) and the newest one")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx := context.Background()
	var err error
	if *retain > 0 {
		err = prune(ctx, *db, *retain, stdout)
	} else {
		err = build(ctx, *db, *runs, *samples, time.Now().Add(-*endAgo), stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "year:", err)
		return 1
	}
	return 0
}

func build(ctx context.Context, path string, runs, samples int, last time.Time, progress io.Writer) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists", path)
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	first := last.Add(-time.Duration(runs-1) * time.Hour)
	batch := make([]store.Sample, samples)
	for i := range runs {
		at := first.Add(time.Duration(i) * time.Hour)
		id, err := st.CreateRun(ctx, store.Run{Suite: "faq", Target: "prod", Trigger: "schedule", StartedAt: at,
			SuiteVersion: "sv1", PromptVersion: "pv1", TargetVersion: "tv1", Cases: samples})
		if err != nil {
			return err
		}
		pass := 0
		for c := range batch {
			ok := (c*7+i*3)%10 != 0 // 90% pass
			res := []store.AssertionResult{{Type: "icontains", Pass: ok, Score: b2f(ok), Weight: 1}, {Type: "not-icontains", Pass: true, Score: 1, Weight: 1}}
			if !ok {
				res[0].Reason = `expected "30 days" in the output`
			} else {
				pass++
			}
			batch[c] = store.Sample{CaseID: fmt.Sprintf("case-%03d", c), CaseIndex: c, Output: "You have 30 days to return an item.",
				FinishReason: "stop", LatencyMS: 50, PromptTokens: 40, CompletionTokens: 9, Model: "sim-1", Fingerprint: "fp_1",
				Attempts: 1, Pass: ok, Score: b2f(ok), Results: res}
		}
		if err := st.AddSamples(ctx, id, batch); err != nil {
			return err
		}
		pr := float64(pass) / float64(samples)
		err = st.FinishRun(ctx, store.Run{ID: id, Status: store.StatusPassed, FinishedAt: at.Add(2 * time.Second),
			ThresholdsJSON: `{"pass_rate":0.8}`, Cases: samples, Samples: samples, PassRate: &pr, MeanScore: &pr,
			PromptTokens: int64(40 * samples), CompletionTokens: int64(9 * samples), DurationMS: 2000,
			Detail: fmt.Sprintf(`{"valid_cases":%d,"models":{"sim-1":%d},"fingerprints":{"fp_1":%d}}`, samples, samples, samples)})
		if err != nil {
			return err
		}
		if err := st.SetVerdict(ctx, id, "ok", `{"kind":"ok"}`); err != nil {
			return err
		}
		if i%1000 == 999 {
			fmt.Fprintf(progress, "  %d of %d runs (%s)\n", i+1, runs, time.Since(start).Round(time.Second))
		}
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// prune deletes old samples as the daemon's retention does, ten runs to a
// transaction, then hands the space back, and prints what it took.
func prune(ctx context.Context, path string, retain time.Duration, stdout io.Writer) error {
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	newest, err := st.Runs(ctx, store.RunFilter{Production: true, Completed: true, Limit: 1})
	if err != nil {
		return err
	}
	oldest, err := st.History(ctx, store.RunFilter{Limit: 0, BeforeID: 21})
	if err != nil {
		return err
	}
	var keep store.Keep
	for _, r := range append(newest, oldest...) {
		keep.Runs = append(keep.Runs, r.ID)
	}
	start := time.Now()
	total := 0
	for {
		n, err := st.PruneSamples(ctx, time.Now().Add(-retain), keep, 10)
		if err != nil {
			return err
		}
		total += n
		if n < 10 {
			break
		}
	}
	pruned := time.Since(start)
	for {
		free, err := st.ReclaimSpace(ctx, 2048)
		if err != nil {
			return err
		}
		if free == 0 {
			break
		}
	}
	fmt.Fprintf(stdout, "retention: pruned the samples of %d runs in %s (%.1f ms per 10-run batch), space reclaimed in %s\n",
		total, pruned.Round(time.Millisecond), float64(pruned.Microseconds())/1000/float64(max(1, total/10)), (time.Since(start) - pruned).Round(time.Millisecond))
	return nil
}
