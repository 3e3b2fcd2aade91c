package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const agencyID = "bench-agency"

// org is an Okta org stand-in on 127.0.0.1 that publishes a key and mints a token with it.
type org struct {
	srv   *httptest.Server
	token string
}

func startOrg() (*org, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).
			Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "bench", "alg": "RS256",
				"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	}))
	tok := jwt.NewWithClaims(
		jwt.SigningMethodRS256,
		jwt.MapClaims{"iss": srv.URL + "/oauth2/default", "aud": "api://default",
			"cid": "0oa-loadgen", "iat": time.Now().Unix(), "exp": time.Now().Add(6 * time.Hour).Unix()},
	)
	tok.Header["kid"] = "bench"
	s, err := tok.SignedString(key)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &org{srv: srv, token: s}, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// process is a server the load generator started.
type process struct {
	cmd     *exec.Cmd
	addr    string
	metrics string
}

func startServer(ctx context.Context, binary, dir, orgURL string) (*process, error) {
	api, err := freeAddr()
	if err != nil {
		return nil, err
	}
	metrics, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("agencyID: %s\noktaOrgURL: %s\nlistenAddress: %q\nmetricsAddress: %q\ndatabase: sqlite://%s\n"+
		"ranks: [Officer, Sergeant]\nroles: [User, Admin]\nuserGroups: [Patrol-A]\n",
		agencyID, orgURL, api, metrics, filepath.Join(dir, "scim.db"))
	path := filepath.Join(dir, "scim-server.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	args := []string{"--config", path, "--log-level", "warn"}
	// SCIM_LOADGEN_SERVER_FLAGS adds flags to the servers' command lines (--pprof, to profile
	// them while they are measured).
	args = append(args, strings.Fields(os.Getenv("SCIM_LOADGEN_SERVER_FLAGS"))...)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	p := &process{cmd: cmd, addr: api, metrics: metrics}
	if err := waitReady("http://"+metrics+"/readyz", api); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func startBare(ctx context.Context) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "--serve-bare", addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, addr: addr}
	if err := waitReady("", addr); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func waitReady(readyURL, addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ok := true
		if readyURL != "" {
			resp, err := http.Get(readyURL)
			ok = err == nil && resp.StatusCode == http.StatusOK
			if err == nil {
				_ = resp.Body.Close()
			}
		}
		if ok {
			if c, err := net.Dial("tcp", addr); err == nil {
				_ = c.Close()
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server on %s did not become ready", addr)
}

// peakRSS reads the process's high-water resident set size from /proc.
func (p *process) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", p.cmd.Process.Pid)
}

func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// machine describes the host for the results.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		mem = strings.Join(strings.Fields(strings.TrimPrefix(line, "MemTotal:")), " ")
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d logical CPUs (GOMAXPROCS %d), %s RAM, Linux %s, %s %s/%s",
		cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), mem, kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// loadAverage is the host's 1, 5 and 15 minute load average, to show how busy the machine
// was with other work during the run.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuPressure returns the kernel's cumulative time, in microseconds, during which some task
// was ready to run but waited for a CPU (/proc/pressure/cpu); ok is false without PSI.
func cpuPressure() (total int64, ok bool) {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "some ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, found := strings.CutPrefix(f, "total="); found {
				n, err := strconv.ParseInt(v, 10, 64)
				return n, err == nil
			}
		}
	}
	return 0, false
}

// pressureShare measures the share of wall time during fn in which some task waited for a
// CPU; -1 when the kernel does not report it.
func pressureShare(fn func()) float64 {
	before, ok1 := cpuPressure()
	start := time.Now()
	fn()
	elapsed := time.Since(start)
	after, ok2 := cpuPressure()
	if !ok1 || !ok2 || elapsed <= 0 {
		return -1
	}
	return float64(after-before) / float64(elapsed.Microseconds())
}
