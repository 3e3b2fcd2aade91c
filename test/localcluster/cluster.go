package localcluster

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// KubernetesVersion is the version of the control-plane binaries this package is tested with,
// and the directory name hack/envtest-binaries.sh caches them under.
const KubernetesVersion = "1.37.2"

// NodeName is the simulated node kwok runs every pod on.
const NodeName = "kwok-node-0"

// stateFile records what Start started, so that another process can stop it.
const stateFile = "localcluster.json"

//go:embed stages.yaml
var stages []byte

// ErrBinariesMissing means one of the cluster's binaries is not in the binary directory;
// hack/envtest-binaries.sh --cluster builds them.
var ErrBinariesMissing = errors.New("local cluster binaries missing")

// Options configures Start. The zero value is ready to use.
type Options struct {
	// BinDir holds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok.
	// Empty means $LOCALCLUSTER_BIN_DIR, else the repository's bin/k8s/<version>-<os>-<arch>.
	BinDir string
	// Dir receives the certificates, etcd's data, the logs and the kubeconfig. Empty means a
	// new temporary directory that Stop removes; a given directory is kept.
	Dir string
	// Detach lets the components outlive the calling process (the localcluster command uses
	// it); Stop, or Attach(dir).Stop from another process, ends them.
	Detach bool
	// StartTimeout bounds Start; zero means two minutes.
	StartTimeout time.Duration
	// Log receives progress messages; zero means none.
	Log logr.Logger
}

// Cluster is a running local cluster.
type Cluster struct {
	state
	removeDir bool
	rest      *rest.Config
}

// state is what the state file holds.
type state struct {
	Dir        string     `json:"dir"`
	Kubeconfig string     `json:"kubeconfig"`
	Server     string     `json:"server"`
	Processes  []*process `json:"processes"`
}

// Start runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on
// 127.0.0.1 and returns once the API server is ready, the controllers and the scheduler
// answer their health checks and the simulated node is Ready. On error, whatever was started
// is stopped again.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bins, err := resolveBinaries(opts.BinDir)
	if err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	c := &Cluster{}
	if c.state.Dir, c.removeDir, err = prepareDir(opts.Dir); err != nil {
		return nil, err
	}
	if err := c.boot(ctx, bins, opts); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

// Attach returns the cluster that Start (with Detach) left running in dir, so that it can be
// stopped from another process.
func Attach(dir string) (*Cluster, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, fmt.Errorf("read the local cluster state in %s: %w", dir, err)
	}
	c := &Cluster{}
	if err := json.Unmarshal(data, &c.state); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Join(dir, stateFile), err)
	}
	return c, nil
}

// Kubeconfig returns the path of a kubeconfig file with cluster-admin rights.
func (c *Cluster) Kubeconfig() string { return c.state.Kubeconfig }

// Dir returns the directory holding the cluster's files; its logs are in Dir()/logs.
func (c *Cluster) Dir() string { return c.state.Dir }

// Server returns the API server's URL.
func (c *Cluster) Server() string { return c.state.Server }

// RESTConfig returns a new client configuration with cluster-admin rights.
func (c *Cluster) RESTConfig() (*rest.Config, error) {
	if c.rest != nil {
		return rest.CopyConfig(c.rest), nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.state.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", c.state.Kubeconfig, err)
	}
	return cfg, nil
}

// Stop ends every component, newest first, and removes the directory if Start created it.
// It is safe to call more than once.
func (c *Cluster) Stop() error {
	var errs []error
	for i := len(c.Processes) - 1; i >= 0; i-- {
		if err := c.Processes[i].stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && c.state.Dir != "" {
		if err := os.Remove(filepath.Join(c.state.Dir, stateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the state file: %w", err))
		}
		if c.removeDir {
			if err := os.RemoveAll(c.state.Dir); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", c.state.Dir, err))
			}
		}
	}
	return errors.Join(errs...)
}

func prepareDir(dir string) (string, bool, error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "localcluster-")
		if err != nil {
			return "", false, fmt.Errorf("create a directory for the local cluster: %w", err)
		}
		return tmp, true, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, fmt.Errorf("resolve %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(abs, stateFile)); err == nil {
		return "", false, fmt.Errorf("%s already holds a local cluster; stop it first (localcluster down --dir %s)",
			abs, dir)
	}
	// etcd refuses to start on the data of an earlier cluster with other ports; start clean.
	for _, sub := range []string{"etcd", "pki", "logs"} {
		if err := os.RemoveAll(filepath.Join(abs, sub)); err != nil {
			return "", false, fmt.Errorf("clean %s: %w", filepath.Join(abs, sub), err)
		}
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", false, fmt.Errorf("create %s: %w", abs, err)
	}
	return abs, false, nil
}

// saveState writes the state file after every component, so that a failed Start in a
// detached run can still be stopped with "localcluster down".
func (c *Cluster) saveState() error {
	data, err := json.MarshalIndent(c.state, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the local cluster state: %w", err)
	}
	if err := os.WriteFile(filepath.Join(c.state.Dir, stateFile), data, 0o600); err != nil {
		return fmt.Errorf("write the local cluster state: %w", err)
	}
	return nil
}

// freePorts asks the kernel for n distinct free ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
