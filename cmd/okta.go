package main

import (
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/controller"
	"github.com/provisioning-dev/scim-operator/internal/okta"
)

// oktaFlags configure the Okta client and the Okta steps of the controllers.
type oktaFlags struct {
	callTimeout      time.Duration
	maxRateLimitWait time.Duration
	maxConcurrent    int
	resyncPeriod     time.Duration
	reportPoll       time.Duration
	reportAnnotation bool
	workers          int
}

func bindOktaFlags(fs *flag.FlagSet) *oktaFlags {
	f := &oktaFlags{}
	fs.DurationVar(&f.callTimeout, "okta-call-timeout", 15*time.Second, "Timeout of one Okta API request.")
	fs.DurationVar(&f.maxRateLimitWait, "okta-max-rate-limit-wait", 20*time.Second,
		"How long one Okta call may wait for a rate-limit reset before the reconcile is requeued.")
	fs.IntVar(&f.maxConcurrent, "okta-max-concurrent", 8, "Okta API requests in flight per org, at most.")
	fs.DurationVar(&f.resyncPeriod, "okta-resync-period", 0,
		"Overrides every AgencyProvisioning's spec.okta.resyncPeriod when set (for demos).")
	fs.DurationVar(&f.reportPoll, "scim-report-poll-interval", controller.DefaultReportPollInterval,
		"How often a SCIM server's report (token rejections, counts) is read between full Okta syncs. "+
			"A read makes no Okta call.")
	fs.IntVar(&f.workers, "max-concurrent-reconciles", controller.DefaultWorkers,
		"AgencyProvisionings, and ScimUserMappings, reconciled at once. An Okta org that does not answer holds "+
			"one worker until its calls time out.")
	fs.BoolVar(&f.reportAnnotation, "scim-report-url-annotation", false,
		"Read a SCIM server's report from the URL in the scim.provisioning.dev/report-url annotation, for SCIM "+
			"servers running outside the cluster (tests, the demo). Off in clusters.")
	return f
}

// validate refuses values the flags would otherwise replace by their defaults without a word.
func (f *oktaFlags) validate() error {
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"okta-call-timeout", f.callTimeout}, {"okta-max-rate-limit-wait", f.maxRateLimitWait},
		{"scim-report-poll-interval", f.reportPoll},
	} {
		if d.value <= 0 {
			return fmt.Errorf("--%s must be more than 0 (got %s)", d.name, d.value)
		}
	}
	if f.maxConcurrent < 1 {
		return fmt.Errorf("--okta-max-concurrent must be at least 1 (got %d)", f.maxConcurrent)
	}
	if f.workers < 1 {
		return fmt.Errorf("--max-concurrent-reconciles must be at least 1 (got %d)", f.workers)
	}
	if f.resyncPeriod < 0 {
		return fmt.Errorf("--okta-resync-period must not be negative (got %s); 0 keeps each spec's", f.resyncPeriod)
	}
	return nil
}

// factory builds the Okta client factory that all controllers share, so that one org's rate
// limit is respected across AgencyProvisionings.
func (f *oktaFlags) factory() *okta.Factory {
	return okta.NewFactory(okta.Options{
		CallTimeout:      f.callTimeout,
		MaxRateLimitWait: f.maxRateLimitWait,
		MaxConcurrent:    f.maxConcurrent,
	})
}

// controllerOptions fills the controllers' Okta settings, with the Okta client from factory.
func (f *oktaFlags) controllerOptions(o *controller.Options, factory *okta.Factory) {
	o.NewOrg = factory.NewOrg
	o.ReportHTTP = &http.Client{Timeout: 5 * time.Second}
	o.AllowReportAnnotation = f.reportAnnotation
	o.ResyncPeriod = f.resyncPeriod
	o.ReportPollInterval = f.reportPoll
	o.Workers = f.workers
}
