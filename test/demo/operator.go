package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/provisioning-dev/scim-operator/internal/controller"
	"github.com/provisioning-dev/scim-operator/internal/okta"
)

// scimServerImage is the image the operator puts in the SCIM server's Deployment; kwok runs
// its pods without pulling anything.
const scimServerImage = "scim-server:demo"

// operator is the manager running in this process, set up by controller.Setup as cmd/main.go
// sets it up, with the report-url annotation allowed (--scim-report-url-annotation) and short
// intervals.
type operator struct {
	cancel context.CancelFunc
	done   chan error
	log    *os.File
}

func (e *Env) startOperator(ctx context.Context) error {
	logFile, err := os.Create(filepath.Join(e.logs, "operator.log"))
	if err != nil {
		return fmt.Errorf("create the operator log: %w", err)
	}
	logger := zap.New(zap.WriteTo(logFile))
	ctrl.SetLogger(logger)

	cfg, err := e.Cluster.RESTConfig()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Logger:                 logger,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:                  cache.Options{ByObject: controller.CacheByObject()},
		Client:                 controller.ClientOptions(),
	})
	if err != nil {
		return fmt.Errorf("create the manager: %w", err)
	}
	err = controller.Setup(mgr, controller.Options{
		ScimServerImage:       scimServerImage,
		NewOrg:                okta.NewFactory(okta.Options{}).NewOrg,
		AllowReportAnnotation: true,
		ResyncPeriod:          e.opts.ResyncPeriod,
		ReportPollInterval:    time.Second,
		RetryInterval:         2 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("set up the controllers: %w", err)
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	op := &operator{cancel: cancel, done: make(chan error, 1), log: logFile}
	go func() { op.done <- mgr.Start(runCtx) }()
	syncCtx, syncCancel := context.WithTimeout(ctx, 30*time.Second)
	defer syncCancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		cancel()
		return errors.Join(errors.New("the operator's caches did not sync"), <-op.done)
	}
	e.operator = op
	e.say("Operator running in this process against %s (resync %s; logs: %s)",
		e.Cluster.Server(), e.opts.ResyncPeriod, logFile.Name())
	return nil
}

// stop cancels the manager and waits for its controllers to finish.
func (o *operator) stop() error {
	o.cancel()
	var err error
	select {
	case err = <-o.done:
	case <-time.After(30 * time.Second):
		err = errors.New("the operator did not stop within 30s")
	}
	return errors.Join(err, o.log.Close())
}
