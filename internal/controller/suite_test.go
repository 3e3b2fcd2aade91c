package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

// The envtest API server shared by the package's tests, started once in TestMain.
var (
	testEnv    *envtest.Environment
	restConfig *rest.Config
	k8sClient  client.Client
	testScheme = runtime.NewScheme()
	// suiteRecorder is the workload manager's Event recorder, as setup.go builds it.
	suiteRecorder EventRecorder
)

// workloadSuiteLabel marks the AgencyProvisionings that the workload tests' manager
// reconciles, so other tests in this package can create their own without interference.
const workloadSuiteLabel = "test.scim.provisioning.dev/suite"

// testImage is the SCIM server image the workload tests' manager defaults to.
const testImage = "example.test/scim-server:test"

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapLevel())))
	if err := clientgoscheme.AddToScheme(testScheme); err != nil {
		return fail("add client-go scheme", err)
	}
	if err := scimv1alpha1.AddToScheme(testScheme); err != nil {
		return fail("add scim scheme", err)
	}
	assets, err := envtestAssets()
	if err != nil {
		return fail("find envtest binaries", err)
	}
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		Scheme:                testScheme,
	}
	start := time.Now()
	restConfig, err = testEnv.Start()
	// Stopped on every path: Start leaves etcd and kube-apiserver running when it fails after
	// starting them (a CRD the API server refuses, for example).
	defer func() { _ = testEnv.Stop() }()
	if err != nil {
		return fail("start envtest", err)
	}
	logf.Log.Info("Envtest started", "seconds", time.Since(start).Seconds())

	k8sClient, err = client.New(restConfig, client.Options{Scheme: testScheme})
	if err != nil {
		return fail("create client", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := startWorkloadManager(ctx); err != nil {
		return fail("start manager", err)
	}
	return m.Run()
}

// suiteCache is the operator's cache narrowing plus the suite's own AgencyProvisionings.
func suiteCache(agencies labels.Selector) map[client.Object]cache.ByObject {
	by := CacheByObject()
	by[&scimv1alpha1.AgencyProvisioning{}] = cache.ByObject{Label: agencies}
	return by
}

// agencyCache is the operator's cache (CacheByObject) narrowed to the AgencyProvisionings and
// ScimUserMappings with the given labels.
func agencyCache(selector labels.Selector) map[client.Object]cache.ByObject {
	by := suiteCache(selector)
	by[&scimv1alpha1.ScimUserMapping{}] = cache.ByObject{Label: selector}
	return by
}

// startWorkloadManager runs the AgencyProvisioning controller, without Okta steps, for the
// AgencyProvisionings labelled with workloadSuiteLabel.
func startWorkloadManager(ctx context.Context) error {
	selector := labels.SelectorFromSet(labels.Set{workloadSuiteLabel: "workload"})
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                 testScheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:                  cache.Options{ByObject: suiteCache(selector)},
		Client:                 ClientOptions(),
	})
	if err != nil {
		return fmt.Errorf("new manager: %w", err)
	}
	suiteRecorder = BoundedNotes(mgr.GetEventRecorder(EventSource))
	r := &AgencyProvisioningReconciler{
		Client:          mgr.GetClient(),
		Scheme:          mgr.GetScheme(),
		Recorder:        suiteRecorder,
		ScimServerImage: testImage,
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up reconciler: %w", err)
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			logf.Log.Error(err, "Manager stopped")
		}
	}()
	return nil
}

// envtestAssets is KUBEBUILDER_ASSETS, else the newest directory hack/envtest-binaries.sh
// filled under bin/k8s.
func envtestAssets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	matches, err := filepath.Glob(filepath.Join("..", "..", "bin", "k8s", "*", "kube-apiserver"))
	if err != nil || len(matches) == 0 {
		return "", fmt.Errorf("no KUBEBUILDER_ASSETS and no bin/k8s/*/kube-apiserver: run hack/envtest-binaries.sh")
	}
	return filepath.Abs(filepath.Dir(matches[len(matches)-1]))
}

// zapLevel shows errors only, unless TEST_LOG_LEVEL gives a zap level (for example -2 for
// the controller's V(2) lines).
func zapLevel() zapcore.Level {
	var v int
	if _, err := fmt.Sscan(os.Getenv("TEST_LOG_LEVEL"), &v); err != nil {
		return zapcore.ErrorLevel
	}
	return zapcore.Level(v)
}

func fail(what string, err error) int {
	fmt.Fprintf(os.Stderr, "test setup: %s: %v\n", what, err)
	return 1
}
