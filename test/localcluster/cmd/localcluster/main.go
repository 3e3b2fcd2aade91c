// Command localcluster starts and stops a local Kubernetes cluster (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok on 127.0.0.1) for shell scripts:
//
//	localcluster up --dir DIR [--bin-dir DIR]   # prints the kubeconfig path, leaves it running
//	localcluster down --dir DIR                 # stops everything "up" started
//
// The components' logs stay in DIR/logs after "down".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/provisioning-dev/scim-operator/test/localcluster"
)

const usage = `usage:
  localcluster up --dir DIR [--bin-dir DIR] [--timeout 2m]
      start a cluster whose files live in DIR; print its kubeconfig path and exit,
      leaving it running
  localcluster down --dir DIR
      stop the cluster started in DIR`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("localcluster "+args[0], flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for the cluster's files, logs and kubeconfig (required)")
	binDir := fs.String("bin-dir", "", "directory holding the binaries (default: bin/k8s/<version>-<os>-<arch>)")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long up may take")
	quiet := fs.Bool("quiet", false, "print only the kubeconfig path")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("--dir is required\n" + usage)
	}

	switch args[0] {
	case "up":
		return up(*dir, *binDir, *timeout, *quiet)
	case "down":
		c, err := localcluster.Attach(*dir)
		if err != nil {
			return err
		}
		return c.Stop()
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

func up(dir, binDir string, timeout time.Duration, quiet bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := logr.Discard()
	if !quiet {
		log = funcr.New(func(prefix, args string) {
			fmt.Fprintln(os.Stderr, "localcluster:", prefix, args)
		}, funcr.Options{})
	}
	began := time.Now()
	c, err := localcluster.Start(ctx, localcluster.Options{
		Dir: dir, BinDir: binDir, Detach: true, StartTimeout: timeout, Log: log,
	})
	if err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintf(os.Stderr, "localcluster: ready in %s; logs in %s/logs; stop it with: "+
			"go run ./test/localcluster/cmd/localcluster down --dir %s (or make local-cluster-down)\n",
			time.Since(began).Round(100*time.Millisecond), c.Dir(), dir)
	}
	fmt.Println(c.Kubeconfig())
	return nil
}
