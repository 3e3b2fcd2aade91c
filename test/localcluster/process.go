package localcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a component gets to exit after SIGTERM before it is killed.
const stopGrace = 10 * time.Second

// process is one component of the cluster. When this process started it, done closes when it
// exits; when the cluster was attached from its state file, done is nil and the pid is polled.
type process struct {
	Name   string `json:"name"`
	Binary string `json:"binary"`
	PID    int    `json:"pid"`
	Log    string `json:"log"`

	done chan struct{}
}

// startProcess runs binary with args, its output going to logDir/name.log. With detach, the
// component gets its own process group and outlives this process; otherwise it is killed if
// this process dies without stopping it.
func startProcess(name, binary, logDir string, args []string, detach bool) (*process, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the %s log: %w", name, err)
	}
	defer logFile.Close()

	cmd := exec.Command(binary, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr(detach)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{Name: name, Binary: binary, PID: cmd.Process.Pid, Log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the component has stopped.
func (p *process) exited() bool {
	if p.done != nil {
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	}
	return !p.isOurs()
}

// isOurs reports whether p.PID is still alive and still runs p.Binary, so that a pid the
// kernel reused for another program is never signalled.
func (p *process) isOurs() bool {
	if err := syscall.Kill(p.PID, 0); err != nil {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.PID))
	if err != nil {
		// No /proc (not Linux): trust the signal check.
		return true
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return string(argv0) == p.Binary
}

// stop sends SIGTERM, waits up to stopGrace, then sends SIGKILL.
func (p *process) stop() error {
	if p.exited() {
		return nil
	}
	if err := syscall.Kill(p.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", p.Name, p.PID, err)
	}
	if p.waitExit(stopGrace) {
		return nil
	}
	if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pid %d): %w", p.Name, p.PID, err)
	}
	if !p.waitExit(stopGrace) {
		return fmt.Errorf("%s (pid %d) is still running after SIGKILL", p.Name, p.PID)
	}
	return nil
}

func (p *process) waitExit(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if p.exited() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p.exited()
}

// failure describes a component that did not come up, with the end of its log.
func (p *process) failure(ctx context.Context, what string) error {
	state := "is running but not ready"
	if p.exited() {
		state = "exited"
	}
	cause := ctx.Err()
	if cause == nil {
		cause = errors.New(state)
	}
	return fmt.Errorf("%s %s (%s); last lines of %s:\n%s: %w", p.Name, state, what, p.Log, tail(p.Log, 15), cause)
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
