// Package pdtest is a local stand-in for PagerDuty's Events API v2
// (POST /v2/enqueue) for tests: it checks events as PagerDuty documents
// them and answers in its wire format, 202 {status, message, dedup_key}
// for an accepted event, 400 {status, message, errors} for an invalid one,
// and any status a test scripts (429 rate limits, 5xx outages). It owns
// nothing else and is imported by tests only.
package pdtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// Event is an Events API v2 request as the server decoded it.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload"`
	Links       []Link   `json:"links"`
	Client      string   `json:"client"`
	ClientURL   string   `json:"client_url"`
}

// Payload is a trigger's payload.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp"`
	Component     string         `json:"component"`
	Group         string         `json:"group"`
	Class         string         `json:"class"`
	CustomDetails map[string]any `json:"custom_details"`
}

// Link is a link sent with an event.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Server is a running stand-in. URL + "/v2/enqueue" takes events.
type Server struct {
	*httptest.Server
	// RoutingKey is the only routing key accepted (400 otherwise).
	RoutingKey string

	mu       sync.Mutex
	accepted []Event
	requests int
	script   []Reply
}

// Reply is a scripted answer: the status and, for 429, the Retry-After
// header ("" none).
type Reply struct {
	Status     int
	RetryAfter string
}

// New starts a server that accepts routingKey; it closes with the test.
func New(t testing.TB, routingKey string) *Server {
	t.Helper()
	s := &Server{RoutingKey: routingKey}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// EnqueueURL is the endpoint to configure as alerts.pagerduty.url.
func (s *Server) EnqueueURL() string { return s.URL + "/v2/enqueue" }

// Script makes the next requests get these replies, in order, whatever
// they hold; the request after them is handled as usual.
func (s *Server) Script(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Accepted returns the events answered 202, in order.
func (s *Server) Accepted() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted)
}

// Requests counts every request received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

var severities = []string{"critical", "error", "warning", "info"}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	w.Header().Set("Content-Type", "application/json")
	if len(s.script) > 0 {
		rep := s.script[0]
		s.script = s.script[1:]
		if rep.RetryAfter != "" {
			w.Header().Set("Retry-After", rep.RetryAfter)
		}
		w.WriteHeader(rep.Status)
		fmt.Fprintf(w, `{"status":"unavailable","message":"scripted %d"}`, rep.Status)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var ev Event
	var problems []string
	if err := json.Unmarshal(body, &ev); err != nil {
		problems = append(problems, "Event object is not valid JSON")
	}
	if ev.RoutingKey != s.RoutingKey {
		problems = append(problems, "'routing_key' is invalid")
	}
	if len(ev.DedupKey) > 255 {
		problems = append(problems, "'dedup_key' must be at most 255 characters")
	}
	switch ev.EventAction {
	case "trigger":
		switch p := ev.Payload; p {
		case nil:
			problems = append(problems, "'payload' is missing or blank")
		default:
			if p.Summary == "" || len([]rune(p.Summary)) > 1024 {
				problems = append(problems, "'payload.summary' is missing or longer than 1024 characters")
			}
			if p.Source == "" {
				problems = append(problems, "'payload.source' is missing or blank")
			}
			if !slices.Contains(severities, p.Severity) {
				problems = append(problems, "'payload.severity' is invalid (expected one of critical, error, warning, info)")
			}
		}
	case "acknowledge", "resolve":
		if ev.DedupKey == "" {
			problems = append(problems, "'dedup_key' is required for "+ev.EventAction)
		}
	default:
		problems = append(problems, "'event_action' is invalid")
	}
	if len(problems) > 0 {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": problems})
		return
	}
	s.accepted = append(s.accepted, ev)
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}
