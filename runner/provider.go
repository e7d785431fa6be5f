package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evald/evald/evals"
)

// Provider sends one chat request to a model endpoint. Sampling parameters
// belong to the provider (they are part of the target version); the runner
// only supplies the messages.
type Provider interface {
	Complete(ctx context.Context, messages []evals.Message) (Response, error)
}

// Response is one model answer with what the endpoint told us about itself.
type Response struct {
	Text             string
	FinishReason     string
	Model            string // the model id the endpoint returned
	Fingerprint      string // system_fingerprint, when the endpoint sends one
	PromptTokens     int
	CompletionTokens int
	// RequestID is the endpoint's request-id header, when it sends one
	// (Anthropic does): what its support asks for about one answer.
	RequestID string
	// ToolCalls are the tool calls the model answered with (nil for a
	// plain answer).
	ToolCalls []ToolCallRequest
}

// ToolCallRequest is one tool call of a model's answer, as the endpoint
// sent it: Arguments is the JSON text of the arguments.
type ToolCallRequest struct {
	ID        string
	Name      string
	Arguments string
}

// Error classes recorded on samples that did not get a usable answer.
const (
	ClassTimeout   = "timeout"
	ClassRateLimit = "rate_limited"
	ClassServer    = "server_error"
	ClassBadReply  = "bad_response"
	ClassRefused   = "refused_by_policy"
	ClassClient    = "client_error"
	// ClassUnreachable: no answer because the endpoint could not be
	// reached (connection refused, DNS failure, TLS error).
	ClassUnreachable = "unreachable"
	ClassCanceled    = "canceled"
	ClassNoResponse  = "no_response"
)

// CallError is a failed call, classified for retries and for the record.
type CallError struct {
	Class  string
	Status int // HTTP status, 0 when there was none
	// RetryAfter is the delay the endpoint asked for (Retry-After or retry-after-ms), 0 if none.
	RetryAfter time.Duration
	// Reason refines the class where one class has several causes
	// (ReasonTooLarge), "" otherwise.
	Reason string
	Err    error
	// final marks an error that sending again would only repeat.
	final bool
}

func (e *CallError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (HTTP %d): %v", e.Class, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Class, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed if sent again:
// timeouts, 429s, 5xx, broken bodies and connection failures are; 4xx,
// policy refusals and bodies over the size limit are not.
func (e *CallError) Retryable() bool {
	if e.final {
		return false
	}
	switch e.Class {
	case ClassTimeout, ClassRateLimit, ClassServer, ClassBadReply, ClassUnreachable:
		return true
	}
	return false
}

// Missing reports whether a sample that ended with this class is missing data
// (never scored) rather than behaviour. A policy refusal is the model's
// behaviour and is scored like any answer.
func Missing(class string) bool {
	return class != "" && class != ClassRefused
}

// classOf returns the error class of err ("" for nil).
func classOf(err error) string {
	if err == nil {
		return ""
	}
	var ce *CallError
	if errors.As(err, &ce) {
		return ce.Class
	}
	if errors.Is(err, context.Canceled) {
		return ClassCanceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ClassTimeout
	}
	return ClassServer
}
