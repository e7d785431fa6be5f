package sim

import (
	"encoding/json"
)

// The judge's own silent update (Options.JudgeDriftAfter): after that many
// answered grading requests, grading replies report another model id and
// fingerprint, and the judge grows stricter: a share of the verdicts that
// would pass (Options.JudgeDriftShare, chosen by hashing the grading
// request, so the same request always gets the same verdict) fail instead.
// Answers to ordinary questions are untouched, so a test can change the
// scorer while the model under test stays the same.

const (
	// DefaultJudgeDriftShare is the share of passing verdicts the updated
	// judge fails when Options.JudgeDriftShare is zero.
	DefaultJudgeDriftShare = 0.3

	// judgeDriftModelSuffix makes the judge's model id after its update.
	judgeDriftModelSuffix = "-judge-update"
	// fpJudgeAfter is the fingerprint of every grading reply after the
	// judge's update.
	fpJudgeAfter = "fp_sim_judge"
)

// judgeDrifted counts one answered grading request and reports whether the
// judge's update has happened before it.
func (s *Server) judgeDrifted() bool {
	n := s.graded.Add(1)
	return s.judgeUpdated.Load() || s.opts.JudgeDriftAfter > 0 && n > int64(s.opts.JudgeDriftAfter)
}

// JudgeDrifted reports whether the judge's scripted update has happened,
// so that the next grading reply comes from the updated judge.
func (s *Server) JudgeDrifted() bool {
	return s.judgeUpdated.Load() || s.opts.JudgeDriftAfter > 0 && s.graded.Load() >= int64(s.opts.JudgeDriftAfter)
}

// UpdateJudge makes the judge's update happen now, whatever
// Options.JudgeDriftAfter says: every later grading reply comes from the
// updated judge. It is for a caller that counts something other than
// grading requests (`evald demo` counts runs, since a daemon serves most
// grades from its cache and asks the judge far less than once a sample).
func (s *Server) UpdateJudge() { s.judgeUpdated.Store(true) }

// stricter returns the updated judge's verdict for the grading request p,
// given the verdict the judge gave before its update. A verdict that is not
// a JSON object with a boolean "pass" is returned as it is.
func (s *Server) stricter(verdict string, p prompt) string {
	var v struct {
		Reason string  `json:"reason"`
		Pass   *bool   `json:"pass"`
		Score  float64 `json:"score"`
	}
	if json.Unmarshal([]byte(verdict), &v) != nil || v.Pass == nil || !*v.Pass {
		return verdict
	}
	if p.unit("judge-drift") >= s.opts.JudgeDriftShare {
		return verdict
	}
	b, _ := json.Marshal(struct { // strings, a bool and a float always encode
		Reason string  `json:"reason"`
		Pass   bool    `json:"pass"`
		Score  float64 `json:"score"`
	}{"The output only partly meets the rubric.", false, min(v.Score, 0.25)})
	return string(b)
}
