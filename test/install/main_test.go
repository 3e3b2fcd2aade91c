package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisioning-dev/scim-operator/test/localcluster"
)

var (
	// scratchDirs are removed when the package's tests end.
	scratchDirs []string

	clusterOnce sync.Once
	cluster     *localcluster.Cluster
	clusterErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range scratchDirs {
		_ = os.RemoveAll(dir)
	}
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop the local cluster:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// repoRoot is the repository's top directory (tests run in test/install).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatalf("find the repository root: %v", err)
	}
	return root
}

// missing skips the test with reason, unless CI=true: there a missing prerequisite is a
// failure, so CI never passes by skipping.
func missing(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true, so this fails instead of skipping)", reason)
	}
	t.Skipf("%s; skipping (run `make test-install`, which builds it)", reason)
}

// tool returns the path of helm, kustomize or kubectl: $HELM, $KUSTOMIZE or $KUBECTL if set,
// else bin/helm and bin/kustomize, and the kubectl next to the local cluster's binaries.
func tool(t *testing.T, name string) string {
	t.Helper()
	path := os.Getenv(strings.ToUpper(name))
	if path == "" {
		path = filepath.Join(repoRoot(t), "bin", name)
		if name == "kubectl" {
			dir, err := localcluster.BinDir()
			if err != nil {
				missing(t, err.Error())
			}
			path = filepath.Join(dir, "kubectl")
		}
	}
	if info, err := os.Stat(path); err != nil || info.IsDir() {
		missing(t, fmt.Sprintf("%s not found at %s", name, path))
	}
	return path
}

// startCluster returns the local cluster the install tests share, starting it on first use.
func startCluster(t *testing.T) *localcluster.Cluster {
	t.Helper()
	clusterOnce.Do(func() {
		began := time.Now()
		// The cluster outlives the test that starts it; TestMain stops it.
		cluster, clusterErr = localcluster.Start(context.Background(), localcluster.Options{})
		if clusterErr == nil {
			t.Logf("local cluster started in %s", time.Since(began).Round(100*time.Millisecond))
		}
	})
	if errors.Is(clusterErr, localcluster.ErrBinariesMissing) {
		missing(t, clusterErr.Error())
	}
	if clusterErr != nil {
		t.Fatalf("start the local cluster: %v", clusterErr)
	}
	return cluster
}

// run runs a command with stdin and returns its standard output; the test fails with the
// command's output if it fails.
func run(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	out, err := runErr(t, stdin, name, args...)
	if err != nil {
		t.Fatalf("%s: %v", commandLine(name, args), err)
	}
	return out
}

// runErr is run for commands that are expected to fail; the error carries standard error.
func runErr(t *testing.T, stdin []byte, name string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(),
		"HELM_DATA_HOME="+t.TempDir())
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	t.Logf("%s (%s)", commandLine(name, args), time.Since(began).Round(10*time.Millisecond))
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("%w\n%s%s", err, stdout.String(), stderr.String())
	}
	return stdout.Bytes(), nil
}

func commandLine(name string, args []string) string {
	return filepath.Base(name) + " " + strings.Join(args, " ")
}
