package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	openai "github.com/sashabaranov/go-openai"
)

// DefaultEmbeddingModel is the model OpenAI.Embed asks for unless told
// otherwise (promptfoo's `similar` uses OpenAI embeddings too).
const DefaultEmbeddingModel = "text-embedding-3-small"

// WithEmbeddingModel returns a copy of o whose Embed asks for model.
func (o *OpenAI) WithEmbeddingModel(model string) *OpenAI {
	c := *o
	if model != "" {
		c.embedModel = model
	}
	return &c
}

// Embed returns one embedding per text from the endpoint's /embeddings, in
// the order of texts. The Response carries the returned model and the
// prompt tokens used.
func (o *OpenAI) Embed(ctx context.Context, texts []string) ([][]float64, Response, error) {
	hdr := &captured{}
	req := openai.EmbeddingRequestStrings{Input: texts, Model: openai.EmbeddingModel(o.embedModel)}
	resp, err := o.client.CreateEmbeddings(context.WithValue(ctx, captureKey{}, hdr), req)
	if err != nil {
		return nil, Response{}, classify(ctx, err, hdr.retryAfter, o.apiKey)
	}
	if err := checkTokens("prompt_tokens", resp.Usage.PromptTokens, o.maxTokens); err != nil {
		return nil, Response{}, err
	}
	if err := checkTokens("total_tokens", resp.Usage.TotalTokens, o.maxTokens); err != nil {
		return nil, Response{}, err
	}
	out := Response{Model: string(resp.Model), PromptTokens: resp.Usage.PromptTokens}
	vecs := make([][]float64, len(texts))
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(vecs) || vecs[d.Index] != nil {
			return nil, out, &CallError{Class: ClassBadReply, Status: http.StatusOK, Err: fmt.Errorf("embedding index %d out of place", d.Index)}
		}
		v := make([]float64, len(d.Embedding))
		for i, x := range d.Embedding {
			v[i] = float64(x)
		}
		vecs[d.Index] = v
	}
	for _, v := range vecs {
		if v == nil {
			return nil, out, &CallError{Class: ClassBadReply, Status: http.StatusOK, Err: errors.New("response lacks an embedding")}
		}
	}
	return vecs, out, nil
}
