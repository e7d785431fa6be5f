package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// Embedding dimensions: the default and the most a request may ask for.
const (
	embeddingDim    = 64
	maxEmbeddingDim = 4096
	embeddingModel  = "sim-embed-1"
)

type embeddingRequest struct {
	Input          json.RawMessage `json:"input"`
	Model          string          `json:"model"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     int             `json:"dimensions"`
}

type embeddingObject struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

// embeddings serves POST /v1/embeddings: deterministic hashed
// bag-of-words vectors, so that texts sharing words and word pieces have a
// high cosine similarity. It has no latency and no faults: it feeds
// scorers, not the system under test.
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	var req embeddingRequest
	if !decodeBody(w, r, &req) {
		return
	}
	texts, err := embeddingInputs(req.Input)
	if err != nil {
		badRequest(w, "input", "Invalid 'input': "+err.Error())
		return
	}
	dim := req.Dimensions
	switch {
	case dim == 0:
		dim = embeddingDim
	case dim < 0 || dim > maxEmbeddingDim:
		badRequest(w, "dimensions", fmt.Sprintf("Invalid 'dimensions': %d; expected a value between 1 and %d.", dim, maxEmbeddingDim))
		return
	}
	if f := req.EncodingFormat; f != "" && f != "float" && f != "base64" {
		badRequest(w, "encoding_format", fmt.Sprintf("Invalid 'encoding_format': %q; expected float or base64.", f))
		return
	}
	model := req.Model
	if model == "" {
		model = embeddingModel
	}
	data := make([]embeddingObject, len(texts))
	n := 0
	for i, t := range texts {
		v := embed(t, dim)
		data[i] = embeddingObject{Object: "embedding", Index: i, Embedding: v}
		if req.EncodingFormat == "base64" {
			data[i].Embedding = encodeBase64(v)
		}
		n += tokens(t)
	}
	writeJSON(w, http.StatusOK, struct {
		Object string            `json:"object"`
		Data   []embeddingObject `json:"data"`
		Model  string            `json:"model"`
		Usage  embeddingUsage    `json:"usage"`
	}{"list", data, model, embeddingUsage{n, n}})
}

type embeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// embeddingInputs accepts OpenAI's input forms: a string, an array of
// strings, an array of token ids or an array of such arrays (token ids are
// embedded as the words "t<id>").
func embeddingInputs(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, fmt.Errorf("missing input")
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil && len(many) > 0 {
		return many, nil
	}
	var ids []int
	if json.Unmarshal(raw, &ids) == nil && len(ids) > 0 {
		return []string{tokenText(ids)}, nil
	}
	var lists [][]int
	if json.Unmarshal(raw, &lists) == nil && len(lists) > 0 {
		out := make([]string, len(lists))
		for i, l := range lists {
			out[i] = tokenText(l)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a string, an array of strings or token arrays, not empty")
}

func tokenText(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(" t")
		b.WriteString(strconv.Itoa(id))
	}
	return b.String()
}

// embed returns the L2-normalised hashed bag of text's words (weight 1)
// and of their character trigrams (weight 0.5, so "refund" and "refunds"
// stay close). Each feature lands in one of dim buckets with a hashed sign.
// Text without words embeds as the zero vector.
func embed(text string, dim int) []float32 {
	v := make([]float64, dim)
	add := func(feature string, weight float64) {
		h := fnv.New64a()
		_, _ = h.Write([]byte(feature))
		x := mix(h.Sum64())
		if x>>63 == 1 {
			weight = -weight
		}
		v[x%uint64(dim)] += weight
	}
	for _, w := range words(text) {
		if stopWords[w] {
			continue
		}
		add("w:"+w, 1)
		rs := []rune(" " + w + " ")
		for i := 0; i+3 <= len(rs); i++ {
			add("g:"+string(rs[i:i+3]), 0.5)
		}
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, dim)
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// encodeBase64 encodes v as OpenAI does: little-endian float32s, base64.
func encodeBase64(v []float32) string {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(buf)
}
