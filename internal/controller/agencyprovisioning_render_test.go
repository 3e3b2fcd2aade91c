package controller

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

func TestRenderConfigMap_RoundTripsThroughTheServersLoader(t *testing.T) {
	tests := []struct {
		name    string
		ap      *scimv1alpha1.AgencyProvisioning
		env     string
		want    func(g Gomega, c *scimconfig.Config)
		wantErr string
	}{
		{
			name: "sqlite agency carries its lookup data and a file on the data volume",
			ap:   newAgency("ns", "pd"),
			want: func(g Gomega, c *scimconfig.Config) {
				g.Expect(c.AgencyID).To(Equal("examplepd"))
				g.Expect(c.OktaOrgURL).To(Equal("https://examplepd.okta.com"))
				g.Expect(c.SyncMode).To(Equal(scimconfig.SyncModeUsersAndGroups))
				g.Expect(c.Database).To(Equal("sqlite:///var/lib/scim/directory.db"))
				g.Expect(c.Ranks).To(Equal([]string{"Officer", "Sergeant", "Lieutenant"}))
				g.Expect(c.CommandHierarchy).To(Equal([]string{"Command Staff"}))
				g.Expect(c.ListenAddress).To(Equal(":8080"))
				g.Expect(c.MetricsAddress).To(Equal(":9090"))
				g.Expect(c.ClientIDs).To(BeEmpty())
			},
		},
		{
			name: "postgres agency reads its URL from the environment, not the file",
			ap:   withPostgres(newAgency("ns", "pd"), "pg", 2),
			env:  "postgres://scim@db.example.test:5432/scim",
			want: func(g Gomega, c *scimconfig.Config) {
				g.Expect(c.DatabaseURLEnv).To(Equal(databaseURLEnv))
				g.Expect(c.Database).To(Equal("postgres://scim@db.example.test:5432/scim"))
			},
		},
		{
			name: "known OIDC client id restricts accepted tokens",
			ap: func() *scimv1alpha1.AgencyProvisioning {
				ap := newAgency("ns", "pd")
				ap.Status.Okta.OIDCClientID = "0oa1clientid"
				return ap
			}(),
			want: func(g Gomega, c *scimconfig.Config) {
				g.Expect(c.ClientIDs).To(Equal([]string{"0oa1clientid"}))
			},
		},
		{
			name: "trailing slash on the org URL is dropped",
			ap: func() *scimv1alpha1.AgencyProvisioning {
				ap := newAgency("ns", "pd")
				ap.Spec.Okta.OrgURL = "https://examplepd.okta.com/"
				return ap
			}(),
			want: func(g Gomega, c *scimconfig.Config) {
				g.Expect(c.OktaOrgURL).To(Equal("https://examplepd.okta.com"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			t.Setenv(databaseURLEnv, tt.env)
			cm, sum, err := renderConfigMap(tt.ap)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(sum).To(HaveLen(64))
			g.Expect(cm.Data).To(HaveKey(scimconfig.FileName))
			path := filepath.Join(t.TempDir(), scimconfig.FileName)
			g.Expect(os.WriteFile(path, []byte(cm.Data[scimconfig.FileName]), 0o600)).To(Succeed())
			c, err := scimconfig.Load(path)
			g.Expect(err).NotTo(HaveOccurred())
			tt.want(g, c)
		})
	}
}

func TestRenderConfigMap_ChecksumFollowsContent(t *testing.T) {
	g := NewWithT(t)
	ap := newAgency("ns", "pd")
	_, first, err := renderConfigMap(ap)
	g.Expect(err).NotTo(HaveOccurred())
	_, again, _ := renderConfigMap(ap)
	g.Expect(again).To(Equal(first), "same spec, same checksum")
	ap.Spec.Directory.Ranks = append(ap.Spec.Directory.Ranks, "Captain")
	_, changed, _ := renderConfigMap(ap)
	g.Expect(changed).NotTo(Equal(first), "a new rank must roll the pods")
}

// TestRenderDeployment_RunsTheBinaryWhereTheImageHasIt: the pod's command must be the path the
// Dockerfile copies the SCIM server to; a bare name is looked up in the image's PATH, which in
// the distroless image does not include /, and the container would never start (kwok, which
// runs no container, cannot show it).
func TestRenderDeployment_RunsTheBinaryWhereTheImageHasIt(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	command := renderDeployment(newAgency("ns", "pd"), "img:1", "abc").Spec.Template.Spec.Containers[0].Command
	if len(command) != 1 || !filepath.IsAbs(command[0]) {
		t.Fatalf("command %q: want one absolute path", command)
	}
	dir, name := filepath.Split(command[0])
	var built, copied bool
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		built = built || slices.Contains(f, "/out/"+name)
		if len(f) > 2 && f[0] == "COPY" && slices.Contains(f, "--from=builder") && f[len(f)-1] == dir &&
			slices.Contains(f, "/out/"+name) {
			copied = true
		}
	}
	if !built || !copied {
		t.Fatalf("the Dockerfile does not build /out/%s and copy it to %s (built %v, copied %v)", name, dir, built,
			copied)
	}
}

func TestRenderDeployment_IsHardened(t *testing.T) {
	g := NewWithT(t)
	dep := renderDeployment(newAgency("ns", "pd"), "img:1", "abc")
	pod := dep.Spec.Template.Spec
	g.Expect(pod.AutomountServiceAccountToken).To(HaveValue(BeFalse()))
	g.Expect(pod.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
	g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
	g.Expect(pod.Containers).To(HaveLen(1))
	c := pod.Containers[0]
	g.Expect(c.Command).To(Equal([]string{"/scim-server"}))
	g.Expect(c.Args).To(Equal([]string{"--config", "/etc/scim/scim-server.yaml"}))
	g.Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
	g.Expect(c.SecurityContext.AllowPrivilegeEscalation).To(HaveValue(BeFalse()))
	g.Expect(c.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
	g.Expect(c.LivenessProbe.HTTPGet.Path).To(Equal("/healthz"))
	g.Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"))
	g.Expect(c.Resources.Requests).NotTo(BeEmpty())
	g.Expect(c.Resources.Limits).NotTo(BeEmpty())
	g.Expect(dep.Spec.Template.Annotations).To(HaveKeyWithValue(AnnotationConfigChecksum, "abc"))
}

func TestRenderDeployment_FollowsStoreAndImage(t *testing.T) {
	tests := []struct {
		name         string
		ap           *scimv1alpha1.AgencyProvisioning
		wantImage    string
		wantStrategy appsv1.DeploymentStrategyType
		wantReplicas int32
		wantVolumes  []string
		wantEnv      []string
	}{
		{
			name:         "sqlite recreates one pod on the data claim with the default image",
			ap:           newAgency("ns", "pd"),
			wantImage:    "default:1",
			wantStrategy: appsv1.RecreateDeploymentStrategyType,
			wantReplicas: 1,
			wantVolumes:  []string{"config", "tmp", "data"},
		},
		{
			name:         "postgres rolls several pods and takes the URL from the Secret",
			ap:           withPostgres(newAgency("ns", "pd"), "pg", 3),
			wantImage:    "default:1",
			wantStrategy: appsv1.RollingUpdateDeploymentStrategyType,
			wantReplicas: 3,
			wantVolumes:  []string{"config", "tmp"},
			wantEnv:      []string{databaseURLEnv},
		},
		{
			name: "spec image wins over the default",
			ap: func() *scimv1alpha1.AgencyProvisioning {
				ap := newAgency("ns", "pd")
				ap.Spec.ScimServer.Image = "registry.example.test/scim:2"
				return ap
			}(),
			wantImage:    "registry.example.test/scim:2",
			wantStrategy: appsv1.RecreateDeploymentStrategyType,
			wantReplicas: 1,
			wantVolumes:  []string{"config", "tmp", "data"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			dep := renderDeployment(tt.ap, "default:1", "sum")
			g.Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal(tt.wantImage))
			g.Expect(dep.Spec.Strategy.Type).To(Equal(tt.wantStrategy))
			g.Expect(dep.Spec.Replicas).To(HaveValue(Equal(tt.wantReplicas)))
			var vols, env []string
			for _, v := range dep.Spec.Template.Spec.Volumes {
				vols = append(vols, v.Name)
			}
			for _, e := range dep.Spec.Template.Spec.Containers[0].Env {
				g.Expect(e.Value).To(BeEmpty(), "no secret value inline")
				env = append(env, e.Name)
			}
			g.Expect(vols).To(Equal(tt.wantVolumes))
			g.Expect(env).To(Equal(tt.wantEnv))
		})
	}
}

func TestRenderOptionalObjects_FollowSpec(t *testing.T) {
	tests := []struct {
		name      string
		ap        *scimv1alpha1.AgencyProvisioning
		wantPVC   bool
		wantPDB   bool
		wantIngr  bool
		wantPoint string
	}{
		{
			name:      "single sqlite replica: claim, no PDB, in-cluster endpoint",
			ap:        newAgency("ns", "pd"),
			wantPVC:   true,
			wantPoint: "http://pd-scim.ns.svc:8080/api/v2/agencies/examplepd/scim",
		},
		{
			name:      "postgres replicas: PDB, no claim",
			ap:        withPostgres(newAgency("ns", "pd"), "pg", 2),
			wantPDB:   true,
			wantPoint: "http://pd-scim.ns.svc:8080/api/v2/agencies/examplepd/scim",
		},
		{
			name:      "ingress: public https endpoint",
			ap:        withIngress(newAgency("ns", "pd")),
			wantPVC:   true,
			wantIngr:  true,
			wantPoint: "https://scim.examplepd.gov/api/v2/agencies/examplepd/scim",
		},
		{
			name: "external URL: endpoint below it",
			ap: func() *scimv1alpha1.AgencyProvisioning {
				ap := newAgency("ns", "pd")
				ap.Spec.ScimServer.ExternalURL = "https://edge.examplepd.gov/"
				return ap
			}(),
			wantPVC:   true,
			wantPoint: "https://edge.examplepd.gov/api/v2/agencies/examplepd/scim",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(renderDataClaim(tt.ap) != nil).To(Equal(tt.wantPVC))
			g.Expect(renderPodDisruptionBudget(tt.ap) != nil).To(Equal(tt.wantPDB))
			g.Expect(renderIngress(tt.ap, IngressDefaults{}) != nil).To(Equal(tt.wantIngr))
			g.Expect(scimEndpoint(tt.ap)).To(Equal(tt.wantPoint))
		})
	}
}

func TestRenderIngress_ExposesOnlyTheAgencysScimPath(t *testing.T) {
	g := NewWithT(t)
	in := renderIngress(withIngress(newAgency("ns", "pd")), IngressDefaults{ClassName: "other", Issuer: "ca"})
	g.Expect(in.Spec.IngressClassName).To(HaveValue(Equal("nginx")))
	g.Expect(in.Annotations).To(HaveKeyWithValue("cert-manager.io/cluster-issuer", "letsencrypt"))
	g.Expect(in.Spec.TLS).To(HaveLen(1))
	g.Expect(in.Spec.TLS[0].SecretName).To(Equal("scim-examplepd-tls"))
	g.Expect(in.Spec.Rules).To(HaveLen(1))
	paths := in.Spec.Rules[0].HTTP.Paths
	g.Expect(paths).To(HaveLen(1))
	g.Expect(paths[0].Path).To(Equal("/api/v2/agencies/examplepd/scim"))
	g.Expect(paths[0].Backend.Service.Port.Name).To(Equal(scimPortName), "never the metrics port")
}

func TestObjectNames_StayValidDNSLabels(t *testing.T) {
	tests := []struct {
		name   string
		of     func(*scimv1alpha1.AgencyProvisioning) string
		short  string
		suffix string
	}{
		{name: "SCIM server", of: ScimServerName, short: "pd-scim", suffix: "-scim"},
		{name: "report Service", of: ReportServiceName, short: "pd-scim-report", suffix: "-scim-report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tt.of(newAgency("ns", "pd"))).To(Equal(tt.short))
			for n := 40; n <= 253; n += 17 {
				long := tt.of(newAgency("ns", strings.Repeat("a", n)))
				g.Expect(len(long)).To(BeNumerically("<=", 63), long)
				g.Expect(long).To(HaveSuffix(tt.suffix))
				g.Expect(validation.IsDNS1035Label(long)).To(BeEmpty(), long)
				other := tt.of(newAgency("ns", strings.Repeat("a", n-1)+"b"))
				if len(long) == 63 {
					g.Expect(other).NotTo(Equal(long), "names that share a prefix must not collide")
				}
			}
		})
	}
}

func TestRenderReportService_ReachesUnreadyPodsOnTheMetricsPortOnly(t *testing.T) {
	g := NewWithT(t)
	ap := newAgency("ns", "pd")
	svc := renderReportService(ap)
	g.Expect(svc.Name).To(Equal("pd-scim-report"))
	g.Expect(svc.Spec.PublishNotReadyAddresses).To(BeTrue())
	g.Expect(svc.Spec.Selector).To(Equal(renderService(ap).Spec.Selector))
	g.Expect(svc.Spec.Ports).To(HaveLen(1))
	g.Expect(svc.Spec.Ports[0].Port).To(BeEquivalentTo(metricsPort))
	g.Expect(renderService(ap).Spec.PublishNotReadyAddresses).To(BeFalse(), "the API Service routes to ready pods")
}
