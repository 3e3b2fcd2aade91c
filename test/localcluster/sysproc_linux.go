package localcluster

import "syscall"

// sysProcAttr puts a detached component in its own process group, so that it outlives the
// command that started it; an attached one is killed by the kernel if this process dies.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setpgid: true}
	}
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
