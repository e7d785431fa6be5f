package scoring

import (
	"context"
	"fmt"
	"math"
)

// similar passes when the cosine similarity of the embeddings of the output
// and of the value (a text, or a list of texts: the best one counts, as in
// promptfoo) is at least the threshold (default 0.75). The embeddings come
// from the judge target's /v1/embeddings. The score is the similarity,
// clamped to [0,1]; the not- form passes below the threshold. Embeddings
// that are missing, of unequal length or zero are a missing grade.
type similarGrader struct {
	refs []string
	min  float64
}

const defaultSimilar = 0.75

func compileSimilar(s Spec) (grader, error) {
	var refs []string
	if t, ok := scalarText(s.Value); ok && t != "" {
		refs = []string{t}
	} else if _, isList := s.Value.([]any); isList {
		list, err := textList(s)
		if err != nil {
			return nil, err
		}
		refs = list
	} else {
		return nil, badValue(s, "want the expected text, or a list of texts")
	}
	th, err := threshold(s, defaultSimilar, -1, 1, "must be between -1 and 1 (the lowest cosine similarity that passes)")
	if err != nil {
		return nil, err
	}
	return &similarGrader{refs: refs, min: th}, nil
}

func (g *similarGrader) grade(ctx context.Context, j Judge, out Output) (outcome, string, string) {
	texts := append([]string{out.Text}, g.refs...)
	vecs, _, err := j.Embed(ctx, texts)
	if err != nil {
		return outcome{}, "", "embedding failed: " + err.Error()
	}
	if len(vecs) != len(texts) {
		return outcome{}, "", fmt.Sprintf("embedding failed: got %d embeddings for %d texts", len(vecs), len(texts))
	}
	best := math.Inf(-1)
	for _, v := range vecs[1:] {
		sim, ok := cosine(vecs[0], v)
		if !ok {
			return outcome{}, "", fmt.Sprintf("embedding failed: unusable vectors (lengths %d and %d, or zero)", len(vecs[0]), len(v))
		}
		best = max(best, sim)
	}
	why := fmt.Sprintf("similarity %.3f is below %s", best, jsNumber(g.min))
	if best >= g.min {
		why = fmt.Sprintf("similarity %.3f reaches %s", best, jsNumber(g.min))
	}
	return outcome{ok: best >= g.min, score: best}, why, ""
}

// cosine is the cosine similarity of two vectors of the same non-zero length
// and non-zero norms.
func cosine(a, b []float64) (float64, bool) {
	if len(a) == 0 || len(a) != len(b) {
		return 0, false
	}
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 || math.IsNaN(dot) || math.IsInf(dot, 0) {
		return 0, false
	}
	return dot / (math.Sqrt(na) * math.Sqrt(nb)), true
}
