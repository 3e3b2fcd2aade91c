package demo

import "syscall"

// childAttrs makes a child process receive SIGTERM when this process dies without
// stopping it, so a crashed demo or test leaves no SCIM server behind.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
