package alerts

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Heartbeat pings a dead-man's switch (alerts.heartbeat.url_env): an
// outside service that pages when the pings stop, so that a daemon that is
// down, or whose scheduler is stuck, is heard of too. The caller decides
// when to ping (the daemon: while its scheduler is healthy).
type Heartbeat struct {
	URL Secret
	// Client defaults to a client with DefaultHTTPTimeout.
	Client *http.Client
}

// Ping sends one GET (the method healthchecks.io, Dead Man's Snitch and
// Cronitor all take) and reports a non-2xx answer or a transport failure.
// Redirects are followed (a switch may move); errors never show the URL.
func (h *Heartbeat) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL.Reveal(), nil)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", scrub(err, urlSecrets(h.URL.Reveal())...))
	}
	req.Header.Set("User-Agent", "evald-heartbeat/1")
	resp, err := httpClient(h.Client).Do(req)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", scrub(err, urlSecrets(h.URL.Reveal())...))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return fmt.Errorf("heartbeat: %s answered http %s", RedactURL(h.URL.Reveal()), strconv.Itoa(resp.StatusCode))
	}
	return nil
}
