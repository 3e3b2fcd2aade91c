// Command demo runs scim-operator's main job on this machine and narrates it: a local
// cluster, oktasim seeded with the Riverbend roster, the operator, the samples, the SCIM
// server the operator rendered, the admin's manual step, the roster push, what an admin then
// looks at, and the IssuerMismatch fault with its recovery. It stops everything it started
// and says where the logs are. `make demo` builds the binaries first and runs it.
//
//	demo [--dir DIR] [--samples DIR]
//
// DIR must be new or empty. After a run that passed, DIR keeps the logs and the SCIM store;
// the cluster's etcd data is removed. Interrupted (Ctrl-C), it stops everything and exits 130.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
	"github.com/provisioning-dev/scim-operator/test/demo"
)

// unassignedGroup is the division the demo stops assigning.
const unassignedGroup = "Training Academy"

func main() {
	// A flag set of its own: the libraries' flags (controller-runtime's -kubeconfig) mean
	// nothing here, the demo starts its own cluster.
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	dir := fs.String("dir", "",
		"directory for logs and state, new or empty (default: a new directory under $TMPDIR, kept)")
	samples := fs.String("samples", "",
		"directory of the AgencyProvisioning and ScimUserMapping (default: config/samples)")
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo takes no arguments, only flags (got %q)\n", fs.Args())
		fs.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, *dir, *samples)
	interrupted := ctx.Err() != nil
	stop()
	switch {
	case err != nil && interrupted:
		fmt.Fprintln(os.Stderr, "\ndemo interrupted; everything it had started is stopped")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "\ndemo failed:", err)
		os.Exit(1)
	}
}

// step numbers and titles the narration.
type narrator struct {
	start time.Time
	n     int
}

func (n *narrator) step(title string) {
	n.n++
	fmt.Printf("\n[%d] %s  (+%s)\n", n.n, title, time.Since(n.start).Round(100*time.Millisecond))
}

func run(ctx context.Context, dir, samples string) (retErr error) {
	n := &narrator{start: time.Now()}
	made := dir == ""
	if made {
		var err error
		if dir, err = os.MkdirTemp("", "scim-operator-demo-"); err != nil {
			return fmt.Errorf("create the demo directory: %w", err)
		}
	}
	env, err := demo.New(demo.Options{Dir: dir, Samples: samples, Out: os.Stdout})
	if err != nil {
		if made {
			_ = os.RemoveAll(dir) // nothing ran: no logs to keep
		}
		return err
	}
	defer func() { retErr = finish(env, dir, n, retErr) }()

	n.step("Start the cluster, the CRDs, oktasim, the operator; apply the samples")
	if err := env.Start(ctx); err != nil {
		return err
	}

	n.step("Run the SCIM server the operator asked for (no kubelet here, so as a local process)")
	if err := env.StartScimServer(ctx); err != nil {
		return err
	}
	fmt.Printf("  rendered ConfigMap (%s):\n%s", filepath.Base(dir), indent(string(env.Rendered), "    | "))

	n.step("The Okta admin's manual step, with the values from status.manualStep")
	m, p, err := env.ManualStep(ctx)
	if err != nil {
		return err
	}
	printManualStep(m, p)

	n.step("Okta pushes the roster")
	ap, err := env.WaitConnected(ctx)
	if err != nil {
		return err
	}
	printCondition(ap, scimv1alpha1.ConditionProvisioningConnected)
	tty := isTerminal()
	final, err := env.Push(ctx, time.Second, func(p oktasim.Progress) {
		line := fmt.Sprintf("  pushed %4d   failed %3d   total %4d   (pending %d)",
			p.Pushed, p.Failed, p.Total, p.Pending)
		if tty {
			fmt.Printf("\r%s", line)
			return
		}
		fmt.Println(line)
	})
	if tty {
		fmt.Println()
	}
	if err != nil {
		return err
	}
	fmt.Printf("  done: pushed %d, failed %d, total %d\n", final.Pushed, final.Failed, final.Total)

	n.step("What an admin looks at")
	if _, _, err := env.WaitCounts(ctx); err != nil {
		return err
	}
	if err := env.PrintAdminView(ctx, os.Stdout); err != nil {
		return err
	}

	n.step("An admin stops assigning one division: " + unassignedGroup)
	if err := env.StopAssigning(ctx, unassignedGroup); err != nil {
		return err
	}
	_, rep, err := env.WaitCounts(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("  the operator removed the group's assignment; Okta deactivated its members who have no other\n"+
		"  assigned group. SCIM server: users %d, active %d (nobody is deleted)\n", rep.Users, rep.ActiveUsers)

	return faultAndRecovery(ctx, env, n)
}

// faultAndRecovery restarts the SCIM server with a wrong org URL, shows the condition that
// names both issuers, then restores the rendered configuration and shows the recovery.
func faultAndRecovery(ctx context.Context, env *demo.Env, n *narrator) error {
	n.step("Fault: the SCIM server is switched to a wrong org URL")
	user := env.ProvisionedOktaUser()
	if user == "" {
		return errors.New("the push created no SCIM user, so there is nobody to promote for the fault")
	}
	f, err := env.InjectIssuerMismatch(ctx, user, "Sergeant")
	fmt.Printf("  scim-server restarted with oktaOrgURL %s (the org is %s); Okta pushes a promotion of user %s\n",
		f.WrongOrgURL, f.RightOrgURL, user)
	if err != nil {
		return err
	}
	fmt.Printf("  ScimAuthenticated  %s  %s\n    %s\n", f.Condition.Status, f.Condition.Reason, f.Condition.Message)

	n.step("Recovery: the SCIM server is switched back to the org's URL")
	c, err := env.Recover(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("  Okta retried its failed tasks\n  ScimAuthenticated  %s  %s\n    %s\n", c.Status, c.Reason, c.Message)
	ap, err := env.GetAP(ctx)
	if err != nil {
		return err
	}
	printCondition(ap, scimv1alpha1.ConditionReady)
	return nil
}

// finish stops everything the run started and says where the logs are. After a run that
// passed it removes the cluster's etcd data (about 60 MB that help nobody); the logs stay.
func finish(env *demo.Env, dir string, n *narrator, runErr error) error {
	n.step("Stop everything")
	err := runErr
	if stopErr := env.Stop(); stopErr != nil {
		err = errors.Join(err, fmt.Errorf("stop: %w", stopErr))
	} else {
		fmt.Printf("Stopped the SCIM server, the operator, oktasim and the cluster; nothing is left running.\n")
	}
	if err == nil {
		if rmErr := os.RemoveAll(filepath.Join(dir, "cluster", "etcd")); rmErr != nil {
			err = fmt.Errorf("remove the cluster's etcd data: %w", rmErr)
		}
	}
	fmt.Printf("Logs: %s (operator, oktasim, scim-server) and %s (cluster components)\n",
		env.LogDir(), env.ClusterLogDir())
	fmt.Printf("Total: %s\n", time.Since(n.start).Round(100*time.Millisecond))
	return err
}

func printManualStep(m *scimv1alpha1.ManualStep, p oktasim.Provisioning) {
	fmt.Printf("  In Okta, app %q: enable SCIM provisioning, then Provisioning > Integration:\n", m.AppName)
	fmt.Printf("    SCIM connector base URL         %s\n", m.ScimConnectorBaseURL)
	fmt.Printf("      (no Ingress here: entered as %s, the local SCIM server with the same path)\n", p.BaseURL)
	fmt.Printf("    Unique identifier field         %s\n", m.UniqueIdentifierField)
	fmt.Printf("    Supported provisioning actions  %s\n", strings.Join(m.SupportedActions, ", "))
	fmt.Printf("    Authentication Mode             %s\n", m.AuthenticationMode)
	fmt.Printf("    Access token endpoint URI       %s\n", m.TokenEndpointURL)
	fmt.Printf("    Authorization endpoint URI      %s\n", m.AuthorizeEndpointURL)
	fmt.Printf("    Client ID                       %s\n", m.ClientID)
	fmt.Printf("    Client Secret                   (from %s)\n", m.ClientSecretRef)
	fmt.Printf("  Authenticate with OAuth; To App: %s. oktasim ran the test connection.\n",
		strings.Join(m.ToAppActions, ", "))
}

func printCondition(ap *scimv1alpha1.AgencyProvisioning, typ string) {
	if c := meta.FindStatusCondition(ap.Status.Conditions, typ); c != nil {
		fmt.Printf("  %s  %s  %s\n    %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

func isTerminal() bool {
	fi, err := os.Stdout.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
