package testfiles

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// Logs collects the text lines of a slog logger written from any
// goroutine. The zero value is ready to use.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it is safe for concurrent use.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger returns a text logger writing to l, debug level included.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Line returns the first logged line with msg="<msg>", "" when none.
func (l *Logs) Line(msg string) string {
	for line := range strings.Lines(l.String()) {
		if strings.Contains(line, `msg="`+msg+`"`) {
			return line
		}
	}
	return ""
}
