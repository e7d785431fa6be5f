package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// PagerDutySinkName is the PagerDuty sink's name.
const PagerDutySinkName = "pagerduty"

// PagerDuty's Events API v2 limits a summary to this many characters.
const pagerDutySummaryMax = 1024

// PagerDuty sends incidents to PagerDuty's Events API v2: a "trigger" on
// open, update and renotify, a "resolve" when the incident resolves, each
// with dedup_key = the incident id, so that PagerDuty keeps one alert per
// incident and a retried event changes nothing. Only incidents whose kind
// or severity SeverityMap maps are sent. 2xx is success; 429 and 5xx are
// retried (429 honouring Retry-After); 400 (an invalid event) and other
// 4xx are permanent. Redirects are not followed.
type PagerDuty struct {
	RoutingKey Secret
	// URL is the Events API v2 endpoint.
	URL string
	// SeverityMap maps a kind ("missed_run") or a severity ("page", "info")
	// to PagerDuty's critical, error, warning or info; the kind's entry
	// wins. Unmapped incidents are not sent.
	SeverityMap map[string]string
	// DashboardURL is the dashboard's root (server.public_url; "" none),
	// sent as client_url.
	DashboardURL string
	// Client defaults to a client with DefaultHTTPTimeout.
	Client *http.Client
	// Now reads a 429's Retry-After date against (default time.Now).
	Now func() time.Time
}

var (
	_ Sink             = (*PagerDuty)(nil)
	_ IncidentAudience = (*PagerDuty)(nil)
)

// Name returns PagerDutySinkName.
func (s *PagerDuty) Name() string { return PagerDutySinkName }

// severity is the PagerDuty severity of an incident ("" when unmapped).
func (s *PagerDuty) severity(k Kind, sev Severity) string {
	if v, ok := s.SeverityMap[string(k)]; ok {
		return v
	}
	return s.SeverityMap[string(sev)]
}

// WantsIncident takes the opening, updates, re-pages and resolution of the
// incidents it maps to a severity. A resolution is sent even when evald
// resolves quietly: whatever PagerDuty holds under the key must close.
func (s *PagerDuty) WantsIncident(k Kind, sev Severity, d Decision) bool {
	if s.severity(k, sev) == "" {
		return false
	}
	switch d.Action {
	case ActionOpen, ActionUpdate, ActionRenotify, ActionResolve:
		return true
	}
	return false
}

// PagerDutyEvent is the body of an Events API v2 request.
type PagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"` // trigger, resolve
	DedupKey    string            `json:"dedup_key"`
	Payload     *PagerDutyPayload `json:"payload,omitempty"`
	Links       []PagerDutyLink   `json:"links,omitempty"`
	Client      string            `json:"client,omitempty"`
	ClientURL   string            `json:"client_url,omitempty"`
}

// PagerDutyPayload is a trigger's payload.
type PagerDutyPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// PagerDutyLink is a link shown with the alert.
type PagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// PagerDutyResponse is what the Events API v2 answers.
type PagerDutyResponse struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key"`
	Errors   []string `json:"errors"`
}

// NewPagerDutyEvent builds the event of a notice, without the routing key.
func (s *PagerDuty) NewPagerDutyEvent(n Notice) PagerDutyEvent {
	ev := PagerDutyEvent{EventAction: "trigger", DedupKey: n.Incident.ID, Client: "evald", ClientURL: s.DashboardURL}
	if n.Action == ActionResolve {
		ev.EventAction = "resolve"
		return ev
	}
	e := n.Event
	summary := what(n)
	if e.Summary != "" {
		summary += " — " + strings.Join(strings.Fields(e.Summary), " ")
	}
	if e.Error != "" {
		summary += ": " + strings.Join(strings.Fields(e.Error), " ")
	}
	source := n.Incident.Target
	if source == "" {
		source = "evald"
	}
	ev.Payload = &PagerDutyPayload{
		Summary: Truncate(summary, pagerDutySummaryMax), Source: source,
		Severity: s.severity(n.Incident.Kind, n.Incident.Severity), Timestamp: e.At.UTC().Format(time.RFC3339),
		Component: n.Incident.Target, Group: n.Incident.Suite, Class: string(n.Incident.Kind),
		CustomDetails: pagerDutyDetails(n),
	}
	if e.RunURL != "" {
		ev.Links = append(ev.Links, PagerDutyLink{Href: e.RunURL, Text: fmt.Sprintf("Run %d on the evald dashboard", e.RunID)})
	} else if s.DashboardURL != "" {
		ev.Links = append(ev.Links, PagerDutyLink{Href: s.DashboardURL, Text: "evald dashboard"})
	}
	return ev
}

// pagerDutyDetails is the evidence a responder needs, as plain data:
// PagerDuty shows custom_details as key/value text. Model output stays
// out (the flipped cases are named by id only).
func pagerDutyDetails(n Notice) map[string]any {
	e := n.Event
	d := map[string]any{"incident_id": n.Incident.ID, "action": string(n.Action), "reason": string(n.Reason),
		"opened_at": n.Incident.OpenedAt.UTC().Format(time.RFC3339)}
	set := func(k string, v any, ok bool) {
		if ok {
			d[k] = v
		}
	}
	set("suite", n.Incident.Suite, n.Incident.Suite != "")
	set("target", n.Incident.Target, n.Incident.Target != "")
	set("summary", e.Summary, e.Summary != "")
	set("error", e.Error, e.Error != "")
	set("run_id", e.RunID, e.RunID != 0)
	set("run_url", e.RunURL, e.RunURL != "")
	if r := e.Regression; r != nil {
		ev := map[string]any{"metric": r.Metric, "delta": r.Delta, "delta_ci": []float64{r.DeltaLow, r.DeltaHigh},
			"p_value": r.PValue, "p_value_label": r.PValueLabel, "attribution": r.Attribution, "cases": r.Cases}
		if r.Before != nil && r.After != nil {
			ev["before"], ev["after"] = r.Before.Value, r.After.Value
		}
		d["regression"] = ev
	}
	if len(e.ThresholdFailures) > 0 {
		d["threshold_failures"] = e.ThresholdFailures
	}
	if len(e.Flipped) > 0 {
		ids := make([]string, len(e.Flipped))
		for i, f := range e.Flipped {
			ids[i] = f.ID
		}
		d["flipped_cases"] = ids
	}
	if id := e.Identity; id != nil {
		var changes []string
		for _, c := range id.Changes {
			changes = append(changes, c.Source+": "+c.Reason)
		}
		d["identity_changes"] = changes
	}
	if e.Versions != (Versions{}) {
		d["versions"] = e.Versions
	}
	return d
}

// Send posts the delivery's event.
func (s *PagerDuty) Send(ctx context.Context, d Delivery) (Receipt, error) {
	n, err := DecodeNotice(d.Payload)
	if err != nil {
		return Receipt{}, &SendError{Sink: s.Name(), Permanent: true, Reason: "bad payload", Err: err}
	}
	ev := s.NewPagerDutyEvent(n)
	ev.RoutingKey = s.RoutingKey.Reveal()
	body, err := json.Marshal(ev)
	if err != nil {
		return Receipt{}, &SendError{Sink: s.Name(), Permanent: true, Reason: "bad payload", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return Receipt{}, &SendError{Sink: s.Name(), Permanent: true, Reason: "bad url", Err: scrub(err, s.secrets()...)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "evald-alerts/1")
	resp, raw, err := postOnce(s.Client, req, s.Name(), s.secrets(), 4096)
	if err != nil {
		return Receipt{}, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Accepted: the dedup key makes a repeat harmless, so a body
		// that does not decode is not worth a retry.
		return Receipt{Sink: s.Name()}, nil
	}
	var pr PagerDutyResponse
	msg := Truncate(strings.TrimSpace(string(raw)), 200)
	if json.Unmarshal(raw, &pr) == nil && pr.Message != "" {
		msg = pr.Message
		if len(pr.Errors) > 0 {
			msg += ": " + strings.Join(pr.Errors, "; ")
		}
		msg = Truncate(msg, 300)
	}
	se := &SendError{
		Sink: s.Name(), Reason: "http " + strconv.Itoa(resp.StatusCode),
		Permanent: permanentStatus(resp.StatusCode),
		Err:       scrub(fmt.Errorf("status %s: %q", resp.Status, msg), s.secrets()...),
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		se.Reason = "rate limited"
		se.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now())
	}
	return Receipt{}, se
}

func (s *PagerDuty) secrets() []string { return []string{s.RoutingKey.Reveal()} }
