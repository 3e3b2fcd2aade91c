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

// boot starts the components one after another, each once the previous one is ready.
func (c *Cluster) boot(ctx context.Context, bins binaries, opts Options) error {
	log := opts.Log
	pkiDir := filepath.Join(c.state.Dir, "pki")
	logDir := filepath.Join(c.state.Dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", logDir, err)
	}
	certs, err := newPKI(pkiDir)
	if err != nil {
		return err
	}
	ports, err := freePorts(5)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer, apiPort, kcmPort, schedPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	c.state.Server = "https://" + hostPort(apiPort)
	c.state.Kubeconfig = filepath.Join(c.state.Dir, "kubeconfig")
	if err := writeKubeconfig(c.state.Kubeconfig, c.state.Server, certs); err != nil {
		return err
	}
	if c.rest, err = clientcmd.BuildConfigFromFlags("", c.state.Kubeconfig); err != nil {
		return fmt.Errorf("load %s: %w", c.state.Kubeconfig, err)
	}
	probe, err := probeClient(certs)
	if err != nil {
		return err
	}
	start := func(name string, args []string) (*process, error) {
		p, err := startProcess(name, bins[name], logDir, args, opts.Detach)
		if err != nil {
			return nil, err
		}
		c.Processes = append(c.Processes, p)
		log.Info("Started", "component", name, "pid", p.PID)
		return p, c.saveState()
	}

	etcdURL := "http://" + hostPort(etcdClient)
	p, err := start(etcd, etcdArgs(filepath.Join(c.state.Dir, "etcd"), etcdURL, "http://"+hostPort(etcdPeer)))
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, p, &http.Client{Timeout: 2 * time.Second}, etcdURL+"/health"); err != nil {
		return err
	}

	p, err = start(kubeAPIServer, apiServerArgs(certs, etcdURL, apiPort))
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, p, probe, c.state.Server+"/readyz"); err != nil {
		return err
	}
	log.Info("API server ready", "server", c.state.Server)

	p, err = start(kubeControllerManager, controllerManagerArgs(certs, c.state.Kubeconfig, kcmPort))
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, p, probe, "https://"+hostPort(kcmPort)+"/healthz"); err != nil {
		return err
	}
	p, err = start(kubeScheduler, schedulerArgs(certs, c.state.Kubeconfig, schedPort))
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, p, probe, "https://"+hostPort(schedPort)+"/healthz"); err != nil {
		return err
	}

	stagesPath := filepath.Join(c.state.Dir, "kwok-stages.yaml")
	if err := os.WriteFile(stagesPath, stages, 0o600); err != nil {
		return fmt.Errorf("write the kwok stages: %w", err)
	}
	if p, err = start(kwok, kwokArgs(c.state.Kubeconfig, stagesPath)); err != nil {
		return err
	}
	if err := c.createNodeAndWait(ctx, p); err != nil {
		return err
	}
	log.Info("Local cluster ready", "kubeconfig", c.state.Kubeconfig)
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
