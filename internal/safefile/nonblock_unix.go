//go:build unix

package safefile

import "syscall"

// nonBlock keeps open from waiting for a writer should a named pipe take
// the place of a checked file between the check and the open.
const nonBlock = syscall.O_NONBLOCK
