package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/evald/evald/api"
	"github.com/evald/evald/daemon"
	"github.com/evald/evald/store"
)

// remoteBaselines fetches production baselines from a running `evald
// serve` over its JSON API (`evald run --server URL --token-env VAR`), so
// a CI runner without the production database still compares against
// production.
type remoteBaselines struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// remoteRunsLimit is how many of the newest runs are searched for the
// latest production run.
const remoteRunsLimit = 1000

func newRemoteBaselines(raw, token string) (*remoteBaselines, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server must be an http(s) URL such as https://evald.example.com (got %q)", raw)
	}
	return &remoteBaselines{base: u, token: token, hc: &http.Client{Timeout: 60 * time.Second}}, nil
}

// source names the server in reports, without credentials or query.
func (r *remoteBaselines) source() string {
	u := *r.base
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// remoteError is a failed API call; client reports whether the request was
// at fault (4xx: a wrong URL, token or run ID) rather than the server or
// the network.
type remoteError struct {
	client bool
	err    error
}

func (e *remoteError) Error() string { return e.err.Error() }
func (e *remoteError) Unwrap() error { return e.err }

func (r *remoteBaselines) get(ctx context.Context, path string, q url.Values, out any) error {
	u := *r.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return &remoteError{client: true, err: err}
	}
	req.Header.Set("Accept", "application/json")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is named once, below
		}
		return &remoteError{err: fmt.Errorf("GET %s%s: %w", r.source(), path, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var body struct {
			Error string `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &body) == nil && body.Error != "" {
			msg = body.Error
		}
		return &remoteError{client: resp.StatusCode >= 400 && resp.StatusCode < 500,
			err: fmt.Errorf("GET %s%s: %s: %s", r.source(), path, resp.Status, msg)}
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return &remoteError{err: fmt.Errorf("GET %s%s: undecodable answer: %w", r.source(), path, err)}
	}
	return nil
}

// latest returns the latest completed production run of suite on target
// known to the server, with its samples, or an error wrapping
// daemon.ErrNoBaseline.
func (r *remoteBaselines) latest(ctx context.Context, suite, target string) (*daemon.Baseline, error) {
	var runs []api.Run
	q := url.Values{"suite": {suite}, "target": {target}, "limit": {strconv.Itoa(remoteRunsLimit)}}
	if err := r.get(ctx, "/api/runs", q, &runs); err != nil {
		return nil, err
	}
	for _, a := range runs {
		run := a.Store()
		if run.Suite == suite && run.Target == target && run.Status.Completed() && run.Production() {
			return r.run(ctx, run.ID, daemon.BaselineLatest)
		}
	}
	return nil, fmt.Errorf("%w: %s knows no completed production run of %s on %s", daemon.ErrNoBaseline, r.source(), suite, target)
}

// run returns run id, with its samples, from the server.
func (r *remoteBaselines) run(ctx context.Context, id int64, mode string) (*daemon.Baseline, error) {
	var a api.RunWithSamples
	if err := r.get(ctx, "/api/runs/"+strconv.FormatInt(id, 10), nil, &a); err != nil {
		return nil, err
	}
	run := a.Run.Store()
	if run.Status == store.StatusRunning || run.Status == store.StatusRefused {
		return nil, fmt.Errorf("%w: run %d on %s is %s: it measured nothing", daemon.ErrNoBaseline, id, r.source(), run.Status)
	}
	samples := make([]store.Sample, len(a.Samples))
	for i, s := range a.Samples {
		samples[i] = s.Store(id)
	}
	return daemon.NewBaseline(run, samples, mode, r.source()), nil
}
