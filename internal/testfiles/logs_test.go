package testfiles

import (
	"strings"
	"sync"
	"testing"
)

func TestLogs(t *testing.T) {
	var l Logs
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { l.Logger().Info("from goroutine", "i", i) })
	}
	wg.Wait()
	l.Logger().Debug("run finished", "verdict", "ok")
	if n := strings.Count(l.String(), `msg="from goroutine"`); n != 8 {
		t.Errorf("%d lines from the goroutines, want 8:\n%s", n, l.String())
	}
	if got := l.Line("run finished"); !strings.Contains(got, "verdict=ok") || !strings.Contains(got, "level=DEBUG") {
		t.Errorf(`Line("run finished") = %q, want the debug line`, got)
	}
	if got := l.Line("never logged"); got != "" {
		t.Errorf(`Line("never logged") = %q, want ""`, got)
	}
}
