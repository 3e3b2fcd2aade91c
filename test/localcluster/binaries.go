package localcluster

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// The components, in the order Start runs them.
const (
	etcd                  = "etcd"
	kubeAPIServer         = "kube-apiserver"
	kubeControllerManager = "kube-controller-manager"
	kubeScheduler         = "kube-scheduler"
	kwok                  = "kwok"
)

// binaries maps a component to its executable.
type binaries map[string]string

// BinDir returns the directory Start takes the binaries from when Options.BinDir is empty:
// $LOCALCLUSTER_BIN_DIR if set, else bin/k8s/<version>-<os>-<arch> in the repository that
// holds the working directory.
func BinDir() (string, error) {
	if dir := os.Getenv("LOCALCLUSTER_BIN_DIR"); dir != "" {
		return dir, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin", "k8s",
		fmt.Sprintf("%s-%s-%s", KubernetesVersion, runtime.GOOS, runtime.GOARCH)), nil
}

// resolveBinaries checks that every component is present and executable in dir (or BinDir).
func resolveBinaries(dir string) (binaries, error) {
	if dir == "" {
		var err error
		if dir, err = BinDir(); err != nil {
			return nil, err
		}
	}
	bins := binaries{}
	var missing []string
	for _, name := range []string{etcd, kubeAPIServer, kubeControllerManager, kubeScheduler, kwok} {
		path, err := filepath.Abs(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", name, err)
		}
		info, err := os.Stat(path)
		if err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
			continue
		}
		bins[name] = path
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %v not in %s (build them with hack/envtest-binaries.sh --cluster)",
			ErrBinariesMissing, missing, dir)
	}
	return bins, nil
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the working directory: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/provisioning-dev/scim-operator")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: not inside the scim-operator repository; set LOCALCLUSTER_BIN_DIR",
				ErrBinariesMissing)
		}
		dir = parent
	}
}
