package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
	"github.com/provisioning-dev/scim-operator/internal/oktasim/roster"
	"github.com/provisioning-dev/scim-operator/test/localcluster"
)

// DefaultNamespace is where the samples are applied when Options.Namespace is empty.
const DefaultNamespace = "riverbend"

// Options configures an Env.
type Options struct {
	// Root is the repository root; empty means the directory holding go.mod above the
	// working directory.
	Root string
	// Dir receives the logs, the cluster's files, the SCIM server's configuration and store.
	// Required, and new or empty; it is kept after Stop so the logs can be read.
	Dir string
	// ScimServerBinary is the scim-server executable; empty means Root/bin/scim-server.
	ScimServerBinary string
	// Roster is the roster file oktasim is seeded with; empty means Root/testdata/roster.json.
	Roster string
	// Samples is the directory of the AgencyProvisioning and ScimUserMapping to apply; empty
	// means Root/config/samples.
	Samples string
	// Namespace receives the samples and the credentials Secret; empty means DefaultNamespace.
	Namespace string
	// ResyncPeriod is how often the operator re-reads Okta and the SCIM server's report once
	// provisioning is connected; zero means 3s, so the fault shows within seconds (the
	// operator's default is 10m).
	ResyncPeriod time.Duration
	// Out receives one line per step; nil discards them.
	Out io.Writer
}

// Env is one run of the main job: what it started and how to reach it.
type Env struct {
	opts Options
	logs string

	// Cluster is the local cluster; Client talks to its API server with cluster-admin rights.
	Cluster *localcluster.Cluster
	Client  client.Client
	// Sim is the Okta org; Seed says what seeding it with Roster created and refused.
	Sim    *oktasim.Sim
	Roster roster.Roster
	Seed   oktasim.SeedResult
	// AP and Mapping name the applied samples.
	AP      types.NamespacedName
	Mapping types.NamespacedName

	operator *operator
	scim     *scimProcess
	// Rendered is the SCIM server configuration file the operator wrote into its ConfigMap.
	Rendered []byte
	// scimAddrs are the listen and metrics addresses the local SCIM server uses.
	scimListen, scimMetrics string
}

// scheme knows the built-in kinds and both of the operator's kinds.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(scimv1alpha1.AddToScheme(s))
	return s
}()

// New checks the options; nothing is started until Start.
func New(opts Options) (*Env, error) {
	if opts.Dir == "" {
		return nil, errors.New("demo: Options.Dir is required")
	}
	if opts.Root == "" {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		opts.Root = root
	}
	if opts.ScimServerBinary == "" {
		opts.ScimServerBinary = filepath.Join(opts.Root, "bin", "scim-server")
	}
	if opts.Roster == "" {
		opts.Roster = filepath.Join(opts.Root, "testdata", "roster.json")
	}
	if opts.Samples == "" {
		opts.Samples = filepath.Join(opts.Root, "config", "samples")
	}
	// Read the samples now, so a wrong directory is refused before a cluster starts.
	if _, _, err := Samples(opts.Samples); err != nil {
		return nil, err
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.ResyncPeriod == 0 {
		opts.ResyncPeriod = 3 * time.Second
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if err := requireEmptyDir(opts.Dir); err != nil {
		return nil, err
	}
	logs := filepath.Join(opts.Dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", logs, err)
	}
	return &Env{opts: opts, logs: logs}, nil
}

// requireEmptyDir refuses a directory that already holds files, such as an earlier run's: its
// SQLite store would already hold the roster, so Okta would link its users instead of creating
// them, and the counts and the fault would describe the earlier run.
func requireEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo directory: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("demo directory %s is not empty (it holds %s, perhaps from an earlier run); "+
			"give a new or empty directory, or remove this one first", dir, entries[0].Name())
	}
	return nil
}

// LogDir returns the directory holding the operator's, oktasim's and the SCIM server's logs;
// the cluster components log under ClusterLogDir.
func (e *Env) LogDir() string { return e.logs }

// ClusterLogDir returns the directory of the cluster components' logs.
func (e *Env) ClusterLogDir() string { return filepath.Join(e.opts.Dir, "cluster", "logs") }

// Namespace returns the namespace of the samples.
func (e *Env) Namespace() string { return e.opts.Namespace }

func (e *Env) say(format string, args ...any) {
	_, _ = fmt.Fprintf(e.opts.Out, format+"\n", args...)
}

// Start brings up everything up to the applied samples: the cluster, the CRDs, oktasim with
// the roster, the operator, and the samples with the credentials Secret.
func (e *Env) Start(ctx context.Context) error {
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"start the local cluster", e.startCluster},
		{"install the CRDs", e.installCRDs},
		{"start oktasim", e.startOktaSim},
		{"start the operator", e.startOperator},
		{"apply the samples", e.applySamples},
		{"provide storage", e.ProvideStorage},
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

func (e *Env) startCluster(ctx context.Context) error {
	start := time.Now()
	c, err := localcluster.Start(ctx, localcluster.Options{Dir: filepath.Join(e.opts.Dir, "cluster")})
	if err != nil {
		return err
	}
	e.Cluster = c
	cfg, err := c.RESTConfig()
	if err != nil {
		return err
	}
	if e.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return fmt.Errorf("build a client: %w", err)
	}
	e.say("Local cluster up at %s in %s (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)",
		c.Server(), since(start))
	return nil
}

func (e *Env) startOktaSim(_ context.Context) error {
	r, err := roster.Load(e.opts.Roster)
	if err != nil {
		return err
	}
	e.Roster = r
	logFile, err := os.Create(filepath.Join(e.logs, "oktasim.log"))
	if err != nil {
		return fmt.Errorf("create the oktasim log: %w", err)
	}
	sim, err := oktasim.New(oktasim.WithOrgName("riverbendpd"),
		oktasim.WithLogger(slog.New(slog.NewJSONHandler(logFile, nil))))
	if err != nil {
		return err
	}
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	e.Sim = sim
	e.Seed = sim.SeedRoster(r)
	e.say("oktasim serves the org %s: seeded %d people and %d groups of the %s; Okta itself refused %d roster entries",
		sim.URL(), e.Seed.Users, e.Seed.Groups, r.Agency, len(e.Seed.Rejected))
	return nil
}

// Stop ends everything Start and the later steps started, newest first: the SCIM server, the
// operator, oktasim and the cluster. It is safe to call more than once.
func (e *Env) Stop() error {
	var errs []error
	if e.scim != nil {
		errs = append(errs, e.scim.stop())
		e.scim = nil
	}
	if e.operator != nil {
		errs = append(errs, e.operator.stop())
		e.operator = nil
	}
	if e.Sim != nil {
		errs = append(errs, e.Sim.Close())
		e.Sim = nil
	}
	if e.Cluster != nil {
		errs = append(errs, e.Cluster.Stop())
		e.Cluster = nil
	}
	return errors.Join(errs...)
}

// modulePath is the Go module RepoRoot looks for.
const modulePath = "github.com/provisioning-dev/scim-operator"

// RepoRoot walks up from the working directory to the scim-operator module's root.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the working directory: %w", err)
	}
	dir := wd
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s is not inside a scim-operator checkout (no go.mod of %s above it); "+
				"run the demo from the repository, as make demo does", wd, modulePath)
		}
		dir = parent
	}
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
