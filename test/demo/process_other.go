//go:build !linux

package demo

import "syscall"

// childAttrs is empty where Pdeathsig does not exist; Env.Stop still ends the child.
func childAttrs() *syscall.SysProcAttr { return nil }
