package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/evald/evald/sim"
)

func cmdSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sim", stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "listen `address`")
	// A real endpoint takes time to answer; the contract's default latency.
	opts := sim.Options{Latency: 50 * time.Millisecond}
	opts.RegisterFlags(fs.FlagSet)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("takes no arguments (got %q)", pos)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageErr("listen on %s: %w", *addr, err)
	}
	h := sim.New(opts)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	// Requests held by the timeout fault would otherwise hold up shutdown.
	srv.RegisterOnShutdown(h.Close)
	fmt.Fprintf(stdout, "evald sim: OpenAI-compatible endpoint at http://%s/v1 (Ctrl-C to stop)\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
