package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/controller"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// scimProcess is a running bin/scim-server.
type scimProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// freeAddr asks the kernel for a free port on 127.0.0.1.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// RenderedConfig waits until the operator has rendered the SCIM server's ConfigMap with the
// OIDC client id it created in Okta, and returns the configuration file.
func (e *Env) RenderedConfig(ctx context.Context, timeout time.Duration) ([]byte, *scimconfig.Config, error) {
	ap, err := e.WaitAP(ctx, timeout, "the OIDC client id in status", func(ap *scimv1alpha1.AgencyProvisioning) error {
		if ap.Status.Okta.OIDCClientID == "" {
			return fmt.Errorf("%w: status.okta.oidcClientId is empty", errNotYet)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	key := types.NamespacedName{Namespace: ap.Namespace, Name: controller.ScimServerName(ap)}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		var cm corev1.ConfigMap
		err := e.Client.Get(ctx, key, &cm)
		if err == nil {
			data := []byte(cm.Data[scimconfig.FileName])
			cfg := &scimconfig.Config{}
			if err := yaml.UnmarshalStrict(data, cfg); err != nil {
				return nil, nil, fmt.Errorf("decode %s in ConfigMap %s: %w", scimconfig.FileName, key, err)
			}
			for _, id := range cfg.ClientIDs {
				if id == ap.Status.Okta.OIDCClientID {
					return data, cfg, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("waiting for ConfigMap %s to name client %s: %w (last error: %w)",
				key, ap.Status.Okta.OIDCClientID, ctx.Err(), err)
		case <-time.After(pollInterval):
		}
	}
}

// localConfig is cfg with what a local process must change: both listen addresses move to
// 127.0.0.1 (a pod listens on every interface of its own network namespace) and the SQLite
// file moves from the pod's volume into the run's directory. Everything else is kept.
func (e *Env) localConfig(cfg scimconfig.Config) scimconfig.Config {
	cfg.ListenAddress = e.scimListen
	cfg.MetricsAddress = e.scimMetrics
	if cfg.DatabaseURLEnv == "" {
		cfg.Database = "sqlite://" + filepath.Join(e.opts.Dir, "scim", "directory.db")
	}
	return cfg
}

// StartScimServer runs bin/scim-server with the configuration the operator rendered, made
// local by localConfig, and waits until it is ready.
func (e *Env) StartScimServer(ctx context.Context) error {
	rendered, cfg, err := e.RenderedConfig(ctx, time.Minute)
	if err != nil {
		return err
	}
	e.Rendered = rendered
	local := e.localConfig(*cfg)
	if err := e.runScimServer(ctx, local, "scim-server.yaml"); err != nil {
		return err
	}
	e.say("SCIM server running as a local process with the ConfigMap's configuration (agency %s, org %s, client %v)",
		local.AgencyID, local.OktaOrgURL, local.ClientIDs)
	e.say("  local-run changes: listenAddress %s -> %s, metricsAddress %s -> %s, database -> %s",
		cfg.ListenAddress, local.ListenAddress, cfg.MetricsAddress, local.MetricsAddress, local.Database)
	return nil
}

// ScimBaseURL is the local SCIM server's base URL, standing in for status.scimEndpoint.
func (e *Env) ScimBaseURL(agencyID string) string {
	return "http://" + e.scimListen + controller.ScimEndpointPath(agencyID)
}

// ScimMetricsURL is the local SCIM server's metrics base URL (/report, /metrics, /readyz).
func (e *Env) ScimMetricsURL() string { return "http://" + e.scimMetrics }

// RestartScimServer stops the SCIM server and starts it again with cfg changed by change
// (the store is kept). It is how the fault is injected and removed.
func (e *Env) RestartScimServer(ctx context.Context, change func(*scimconfig.Config)) error {
	if e.scim != nil {
		if err := e.scim.stop(); err != nil {
			return err
		}
		e.scim = nil
	}
	cfg := &scimconfig.Config{}
	if err := yaml.UnmarshalStrict(e.Rendered, cfg); err != nil {
		return fmt.Errorf("decode the rendered configuration: %w", err)
	}
	local := e.localConfig(*cfg)
	if change != nil {
		change(&local)
	}
	return e.runScimServer(ctx, local, "scim-server.yaml")
}

func (e *Env) runScimServer(ctx context.Context, cfg scimconfig.Config, name string) error {
	if err := os.MkdirAll(filepath.Join(e.opts.Dir, "scim"), 0o755); err != nil {
		return fmt.Errorf("create the SCIM server's directory: %w", err)
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode the SCIM server configuration: %w", err)
	}
	path := filepath.Join(e.opts.Dir, "scim", name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	logFile, err := os.OpenFile(filepath.Join(e.logs, "scim-server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open the SCIM server log: %w", err)
	}
	cmd := exec.Command(e.opts.ScimServerBinary, "--config", path)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start %s: %w", e.opts.ScimServerBinary, err)
	}
	p := &scimProcess{cmd: cmd, done: make(chan struct{}), log: logFile}
	go func() { _ = cmd.Wait(); close(p.done) }()
	e.scim = p
	return p.waitReady(ctx, "http://"+cfg.MetricsAddress+"/readyz", 30*time.Second)
}

func (p *scimProcess) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("readiness URL %q: %w", url, err)
		}
		if resp, err := hc.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("scim-server exited before it was ready (%s); see %s", p.cmd.ProcessState, p.log.Name())
		case <-ctx.Done():
			return fmt.Errorf("scim-server not ready at %s: %w; see %s", url, ctx.Err(), p.log.Name())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ScimServerPID is the SCIM server's process id, or 0 when it is not running.
func (e *Env) ScimServerPID() int {
	if e.scim == nil {
		return 0
	}
	return e.scim.cmd.Process.Pid
}

// stop sends SIGTERM (the server finishes in-flight requests) and SIGKILL after 10s.
func (p *scimProcess) stop() error {
	defer func() { _ = p.log.Close() }()
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop scim-server: %w", err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("scim-server did not stop within 10s of SIGTERM and was killed")
	}
}
