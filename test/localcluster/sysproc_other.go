//go:build !linux

package localcluster

import "syscall"

// sysProcAttr puts a detached component in its own process group, so that it outlives the
// command that started it. Outside Linux an attached component is only stopped by Stop.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: detach}
}
