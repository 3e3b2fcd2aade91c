package localcluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Address ranges the simulation hands out. Nothing listens on or routes to them: they are
// the benchmarking range of RFC 2544, chosen so no address here belongs to a real network.
const (
	serviceCIDR = "198.18.0.0/24"
	podCIDR     = "198.18.128.0/20"
	nodeIP      = "198.18.255.1"
)

// kwokNodeAnnotation marks the nodes kwok plays the kubelet for.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// layout is where one cluster's files and listeners are.
type layout struct {
	certs                                         *pki
	logDir, stagesPath                            string
	etcdURL, etcdPeerURL                          string
	apiPort, controllerManagerPort, schedulerPort int
}

// prepare writes the certificates, the kubeconfig and kwok's stages, and picks the ports.
func (c *Cluster) prepare() (*layout, error) {
	l := &layout{logDir: filepath.Join(c.state.Dir, "logs"), stagesPath: filepath.Join(c.state.Dir, "kwok-stages.yaml")}
	if err := os.MkdirAll(l.logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", l.logDir, err)
	}
	if err := os.WriteFile(l.stagesPath, stages, 0o600); err != nil {
		return nil, fmt.Errorf("write the kwok stages: %w", err)
	}
	var err error
	if l.certs, err = newPKI(filepath.Join(c.state.Dir, "pki")); err != nil {
		return nil, err
	}
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	l.etcdURL, l.etcdPeerURL = "http://"+hostPort(ports[0]), "http://"+hostPort(ports[1])
	l.apiPort, l.controllerManagerPort, l.schedulerPort = ports[2], ports[3], ports[4]

	c.state.Server = "https://" + hostPort(l.apiPort)
	c.state.Kubeconfig = filepath.Join(c.state.Dir, "kubeconfig")
	if err := writeKubeconfig(c.state.Kubeconfig, c.state.Server, l.certs); err != nil {
		return nil, err
	}
	if c.rest, err = clientcmd.BuildConfigFromFlags("", c.state.Kubeconfig); err != nil {
		return nil, fmt.Errorf("load %s: %w", c.state.Kubeconfig, err)
	}
	return l, nil
}

// boot starts the components one after another, each once the previous one is ready.
func (c *Cluster) boot(ctx context.Context, bins binaries, opts Options) error {
	l, err := c.prepare()
	if err != nil {
		return err
	}
	probe, err := probeClient(l.certs)
	if err != nil {
		return err
	}
	healthz := func(port int) func(*process) error {
		return func(p *process) error { return waitHTTP(ctx, p, probe, "https://"+hostPort(port)+"/healthz") }
	}
	kubeconfig := c.state.Kubeconfig
	steps := []struct {
		name  string
		args  []string
		ready func(*process) error
	}{
		{etcd, etcdArgs(filepath.Join(c.state.Dir, "etcd"), l.etcdURL, l.etcdPeerURL), func(p *process) error {
			return waitHTTP(ctx, p, &http.Client{Timeout: 2 * time.Second}, l.etcdURL+"/health")
		}},
		{kubeAPIServer, apiServerArgs(l.certs, l.etcdURL, l.apiPort), func(p *process) error {
			return waitHTTP(ctx, p, probe, c.state.Server+"/readyz")
		}},
		{kubeControllerManager, controllerManagerArgs(l.certs, kubeconfig, l.controllerManagerPort),
			healthz(l.controllerManagerPort)},
		{kubeScheduler, schedulerArgs(l.certs, kubeconfig, l.schedulerPort), healthz(l.schedulerPort)},
		{kwok, kwokArgs(kubeconfig, l.stagesPath), func(p *process) error { return c.createNodeAndWait(ctx, p) }},
	}
	for _, step := range steps {
		p, err := startProcess(step.name, bins[step.name], l.logDir, step.args, opts.Detach)
		if err != nil {
			return err
		}
		c.Processes = append(c.Processes, p)
		if err := c.saveState(); err != nil {
			return err
		}
		if err := step.ready(p); err != nil {
			return err
		}
		opts.Log.Info("Ready", "component", step.name, "pid", p.PID)
	}
	opts.Log.Info("Local cluster ready", "server", c.state.Server, "kubeconfig", kubeconfig)
	return nil
}

func etcdArgs(dataDir, clientURL, peerURL string) []string {
	return []string{
		"--name=localcluster",
		"--data-dir=" + dataDir,
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=localcluster=" + peerURL,
		// A throwaway cluster: losing data on a power cut is fine, waiting for fsync is not.
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}
}

func apiServerArgs(certs *pki, etcdURL string, port int) []string {
	return []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		// The API server refuses a loopback advertise address unless it leaves the
		// "kubernetes" Service's endpoints alone.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + certs.servingCert,
		"--tls-private-key-file=" + certs.servKey,
		"--client-ca-file=" + certs.caCert,
		"--service-account-key-file=" + certs.saPublic,
		"--service-account-signing-key-file=" + certs.saPrivate,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		"--profiling=false",
	}
}

// componentArgs are the flags kube-controller-manager and kube-scheduler share: the admin
// kubeconfig for everything, and a health endpoint on 127.0.0.1 with the cluster's serving
// certificate (its /healthz needs no authentication).
func componentArgs(certs *pki, kubeconfig string, port int) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + certs.servingCert,
		"--tls-private-key-file=" + certs.servKey,
		"--leader-elect=false",
		"--profiling=false",
	}
}

func controllerManagerArgs(certs *pki, kubeconfig string, port int) []string {
	return append(componentArgs(certs, kubeconfig, port),
		"--service-account-private-key-file="+certs.saPrivate,
		"--root-ca-file="+certs.caCert,
		"--cluster-signing-cert-file="+certs.caCert,
		"--cluster-signing-key-file="+certs.caKey,
		"--service-cluster-ip-range="+serviceCIDR,
		"--allocate-node-cidrs=false",
		"--use-service-account-credentials=false",
	)
}

func schedulerArgs(certs *pki, kubeconfig string, port int) []string {
	return componentArgs(certs, kubeconfig, port)
}

func kwokArgs(kubeconfig, stagesPath string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--config=" + stagesPath,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
		"--cidr=" + podCIDR,
		"--node-ip=" + nodeIP,
		// kwok renews the node's Lease, so the node lifecycle controller keeps it Ready.
		"--node-lease-duration-seconds=40",
	}
}

// writeKubeconfig writes a kubeconfig for the admin client certificate, with the
// certificates embedded so the file stands alone.
func writeKubeconfig(path, server string, certs *pki) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["localcluster"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: certs.caPEM}
	cfg.AuthInfos["localcluster-admin"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: certs.adminCertPEM,
		ClientKeyData:         certs.adminKeyPEM,
	}
	cfg.Contexts["localcluster"] = &clientcmdapi.Context{Cluster: "localcluster", AuthInfo: "localcluster-admin"}
	cfg.CurrentContext = "localcluster"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// probeClient trusts the cluster's CA and presents the admin certificate.
func probeClient(certs *pki) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certs.caPEM) {
		return nil, errors.New("the local cluster CA certificate does not parse")
	}
	pair, err := tls.X509KeyPair(certs.adminCertPEM, certs.adminKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("load the admin certificate: %w", err)
	}
	return &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12,
		}},
	}, nil
}

// waitHTTP polls url until it answers 200, the component exits or ctx ends.
func waitHTTP(ctx context.Context, p *process, client *http.Client, url string) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("probe %s: %w", p.Name, err)
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if p.exited() {
			return p.failure(ctx, "waiting for "+url)
		}
		select {
		case <-ctx.Done():
			return p.failure(ctx, "waiting for "+url)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// createNodeAndWait registers the simulated node and waits until kwok reports it Ready.
func (c *Cluster) createNodeAndWait(ctx context.Context, kwokProcess *process) error {
	cs, err := kubernetes.NewForConfig(rest.CopyConfig(c.rest))
	if err != nil {
		return fmt.Errorf("build a client: %w", err)
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{kwokNodeAnnotation: "fake"},
			Labels: map[string]string{
				corev1.LabelHostname: NodeName, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
				"type": "kwok",
			},
		},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil &&
		!apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create node %s: %w", NodeName, err)
	}
	for {
		got, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err == nil && nodeReady(got) {
			return nil
		}
		if kwokProcess.exited() {
			return kwokProcess.failure(ctx, "waiting for node "+NodeName+" to become Ready")
		}
		select {
		case <-ctx.Done():
			return kwokProcess.failure(ctx, "waiting for node "+NodeName+" to become Ready")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func nodeReady(node *corev1.Node) bool {
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
