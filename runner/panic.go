package runner

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// PanicError is a panic recovered while running a suite: one bad answer
// or bug must not take down a daemon that runs other suites.
type PanicError struct {
	Value any
	Stack []byte
}

// Recovered wraps the value recover returned, with the current stack.
func Recovered(v any) *PanicError { return &PanicError{Value: v, Stack: debug.Stack()} }

// Error is the panic's first line.
func (e *PanicError) Error() string {
	line, _, _ := strings.Cut(fmt.Sprint(e.Value), "\n")
	return "panic: " + line
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
