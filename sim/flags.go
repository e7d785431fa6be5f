package sim

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// RegisterFlags defines the simulator's flags on fs, storing into o. The
// flags' defaults are o's current values (or the package defaults where o
// leaves a field zero). An explicit --wrong-rate 0 or --drift-share 0 means
// none, not the default.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	if o.Model == "" {
		o.Model = DefaultModel
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = DefaultRetryAfter
	}
	fs.StringVar(&o.Model, "model", o.Model, "model `id` reported before the drift")
	fs.StringVar(&o.DriftModel, "drift-model", o.DriftModel, "model `id` reported after the drift (default: the model followed by \""+driftModelSuffix+"\")")
	fs.DurationVar(&o.Latency, "latency", o.Latency, "mean `latency` of a chat answer")
	fs.DurationVar(&o.Jitter, "jitter", o.Jitter, "spread the latency uniformly over latency ± `jitter`")
	fs.Var(&shareFlag{p: &o.FailRate}, "fail-rate", "`share` of chat requests answered 500")
	fs.Var(&shareFlag{p: &o.Rate429}, "rate429", "`share` of chat requests answered 429 with Retry-After")
	fs.DurationVar(&o.RetryAfter, "retry-after", o.RetryAfter, "`delay` the 429 answers ask for")
	fs.Var(&shareFlag{p: &o.TimeoutRate}, "timeout-rate", "`share` of chat requests never answered (until the client gives up)")
	fs.Var(&shareFlag{p: &o.GarbageRate}, "garbage-rate", "`share` of chat requests answered 200 with malformed JSON")
	fs.Var(&shareFlag{p: &o.Noise}, "noise", "`share` of answers flipped between right and wrong at random")
	fs.Var(&shareFlag{p: &o.WrongRate, def: DefaultWrongRate}, "wrong-rate", "`share` of (system prompt, question) pairs always answered wrong")
	fs.IntVar(&o.DriftAfter, "drift-after", o.DriftAfter, "silently update the model after `n` answered chat requests (0: never)")
	fs.Var(&shareFlag{p: &o.DriftShare, def: DefaultDriftShare}, "drift-share", "`share` of (system prompt, question) pairs answered wrong after the update")
	fs.BoolVar(&o.DriftSilent, "drift-silent", o.DriftSilent, "the update keeps the model id and fingerprints (another model behind the same name)")
	fs.IntVar(&o.JudgeDriftAfter, "judge-drift-after", o.JudgeDriftAfter, "as a judge, silently update after `n` answered grading requests: new model id and fingerprint, stricter verdicts (0: never)")
	fs.Var(&shareFlag{p: &o.JudgeDriftShare, def: DefaultJudgeDriftShare}, "judge-drift-share", "`share` of passing llm-rubric verdicts the updated judge fails")
	fs.IntVar(&o.TemplateAfter, "template-after", o.TemplateAfter, "change the chat template after `n` answered chat requests: fewer prompt tokens reported for the same requests, same answers (0: never)")
	fs.IntVar(&o.GreedyAfter, "greedy-after", o.GreedyAfter, "decode greedily after `n` answered chat requests: each pair's answer fixed, flipped with the noise's probability, so the mean stays put (0: never)")
	fs.IntVar(&o.MoveAfter, "move-after", o.MoveAfter, "move cases both ways after `n` answered chat requests, mean unchanged (0: never)")
	fs.Var(&shareFlag{p: &o.MoveShare, def: DefaultMoveShare}, "move-share", "`share` of wrong pairs that --move-after turns right (as many right pairs turn wrong)")
	fs.StringVar(&o.Hostile, "hostile", o.Hostile, "answer every chat request in hostile `mode`: "+strings.Join(HostileModes, ", "))
	fs.IntVar(&o.HostileBytes, "hostile-bytes", o.HostileBytes, "body size in `bytes` of --hostile huge-body (default 50 MB)")
	fs.StringVar(&o.RedirectTo, "redirect-to", o.RedirectTo, "base `URL` --hostile redirect sends requests to")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "`seed` of the random faults, noise, jitter and fingerprints")
}

// shareFlag is a flag.Value for a share in [0, 1]. With def set, the field
// follows the Options convention: 0 means def and a negative value none, so
// an explicit 0 is stored as -1.
type shareFlag struct {
	p   *float64
	def float64
}

func (f *shareFlag) String() string {
	if f.p == nil {
		return "0"
	}
	v := *f.p
	if f.def != 0 {
		v = defaultedShare(v, f.def)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (f *shareFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= 1) {
		return fmt.Errorf("want a share between 0 and 1, got %q", s)
	}
	if v == 0 && f.def != 0 {
		v = -1
	}
	*f.p = v
	return nil
}
