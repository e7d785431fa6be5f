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
	"github.com/evald/evald/configs"
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

// signedOff returns the server's sign-off in force for suite.
func (r *remoteBaselines) signedOff(ctx context.Context, suite string) (api.Signoff, error) {
	var s api.Signoff
	err := r.get(ctx, "/api/suites/"+url.PathEscape(suite)+"/signoff", nil, &s)
	return s, err
}

// checkRecords compares, for each suite, the sign-off production enforces
// with this checkout's record: production's entry must be in the record
// (the record may add newer entries, reviewed in the pull request). A
// suite production does not know, or has not signed off, is left to the
// local check. It returns an exitError: 3 when the records disagree, 2 or
// 4 when the server cannot say.
func (r *remoteBaselines) checkRecords(ctx context.Context, proj *configs.Project, suites []string) error {
	var disagree []string
	for _, name := range suites {
		s, err := r.signedOff(ctx, name)
		var re *remoteError
		switch {
		case errors.As(err, &re) && re.client:
			return usageErr("--server: the sign-off of %s: %w", name, err)
		case err != nil:
			return &exitError{code: exitNoResult, err: fmt.Errorf("--server: the sign-off of %s: %w", name, err)}
		case !s.Known || s.Entry == nil:
			continue
		case proj.Record.Includes(s.Entry.Hash):
			continue
		}
		e := s.Entry
		local := "none"
		if l := proj.Record.Latest(name); l != nil {
			local = fmt.Sprintf("%.12s by %s", l.Hash, l.By)
		}
		disagree = append(disagree, fmt.Sprintf("%s: %s enforces sign-off %.12s (by %s at %s, %s), which %s does not hold (its latest: %s)",
			name, r.source(), e.Hash, e.By, e.At.Format(time.RFC3339), strings.TrimSpace(e.Reason), recordOf(proj), local))
	}
	if len(disagree) > 0 {
		return &exitError{code: exitRefused, err: fmt.Errorf("refused: the sign-off record differs from production's:\n  %s\nBring the production sign-offs into %s (merge the branch that added them) and sign off again if the bar must change",
			strings.Join(disagree, "\n  "), recordOf(proj))}
	}
	return nil
}
