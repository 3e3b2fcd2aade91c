package controller

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// validAgency is an admin's minimal AgencyProvisioning manifest.
const validAgency = `
apiVersion: scim.provisioning.dev/v1alpha1
kind: AgencyProvisioning
metadata: {name: metro-pd}
spec:
  agencyId: metro-pd
  okta:
    orgURL: https://metropd.okta.com
    credentialsSecretRef: {name: metro-pd-okta}
`

// validMapping is an admin's minimal ScimUserMapping manifest.
const validMapping = `
apiVersion: scim.provisioning.dev/v1alpha1
kind: ScimUserMapping
metadata: {name: metro-pd}
spec:
  agencyProvisioningRef: {name: metro-pd}
  attributes:
    - {displayName: Badge ID, variableName: badgeId}
    - {displayName: Rank, variableName: rankName}
`

// edit changes a manifest before it is sent: set a value at a dotted path, or delete it
// when value is nil.
type edit struct {
	path  string
	value any
}

func manifest(t *testing.T, base string, edits ...edit) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	NewWithT(t).Expect(yaml.Unmarshal([]byte(base), &u.Object)).To(Succeed())
	for _, e := range edits {
		fields := strings.Split(e.path, ".")
		if e.value == nil {
			unstructured.RemoveNestedField(u.Object, fields...)
			continue
		}
		NewWithT(t).Expect(unstructured.SetNestedField(u.Object, e.value, fields...)).To(Succeed())
	}
	return u
}

func TestValidation_InvalidManifestsAreRefusedNamingTheField(t *testing.T) {
	ns := newNamespace(t)
	tests := []struct {
		name  string
		base  string
		edits []edit
		// wantField and wantMessage must both appear in the API server's answer.
		wantField   string
		wantMessage string
	}{
		{name: "org URL over plain http", base: validAgency,
			edits:     []edit{{"spec.okta.orgURL", "http://metropd.okta.com"}},
			wantField: "spec.okta.orgURL", wantMessage: "must be an https URL"},
		{name: "org URL that is not a URL", base: validAgency,
			edits:     []edit{{"spec.okta.orgURL", "metropd"}},
			wantField: "spec.okta.orgURL", wantMessage: "must be an https URL"},
		{name: "org URL with a path", base: validAgency,
			edits:     []edit{{"spec.okta.orgURL", "https://metropd.okta.com/oauth2/default"}},
			wantField: "spec.okta.orgURL", wantMessage: "must have no path"},
		{name: "org URL with a user name and password", base: validAgency,
			edits:     []edit{{"spec.okta.orgURL", "https://admin:S3cretPw@metropd.okta.com"}},
			wantField: "spec.okta.orgURL", wantMessage: "must not carry a user name or password"},
		{name: "loopback org URL with a password", base: validAgency,
			edits:     []edit{{"spec.okta.orgURL", "http://admin:S3cretPw@127.0.0.1:8080"}},
			wantField: "spec.okta.orgURL", wantMessage: "must not carry a user name or password"},
		{name: "org URL of the Admin Console", base: validAgency,
			edits:     []edit{{"spec.okta.orgURL", "https://metropd-admin.okta.com"}},
			wantField: "spec.okta.orgURL", wantMessage: "is the Okta Admin Console's address"},
		{name: "org URL in capitals", base: validAgency,
			edits:     []edit{{"spec.okta.orgURL", "HTTPS://METROPD.OKTA.COM"}},
			wantField: "spec.okta.orgURL", wantMessage: "must be in lowercase"},
		{name: "org URL with a trailing dot", base: validAgency,
			edits:     []edit{{"spec.okta.orgURL", "https://metropd.okta.com."}},
			wantField: "spec.okta.orgURL", wantMessage: "no trailing dot after the host"},
		{name: "loopback org URL with a port out of range", base: validAgency,
			edits:     []edit{{"spec.okta.orgURL", "http://127.0.0.1:99999"}},
			wantField: "spec.okta.orgURL", wantMessage: "port out of range"},
		{name: "org URL without a host", base: validAgency,
			edits:     []edit{{"spec.okta.orgURL", "https:///metropd"}},
			wantField: "spec.okta.orgURL", wantMessage: "must name the org's host"},
		{name: "extension schema that is the enterprise schema", base: validAgency,
			edits: []edit{{"spec.scimServer.extensionSchema",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}},
			wantField: "spec.scimServer.extensionSchema", wantMessage: "must be the agency's own URN"},
		{name: "missing agency id", base: validAgency, edits: []edit{{"spec.agencyId", nil}},
			wantField: "spec.agencyId", wantMessage: "Required"},
		{name: "agency id with a space", base: validAgency, edits: []edit{{"spec.agencyId", "metro pd"}},
			wantField: "spec.agencyId", wantMessage: "should match"},
		{name: "unknown sync mode", base: validAgency, edits: []edit{{"spec.syncMode", "Everything"}},
			wantField: "spec.syncMode", wantMessage: `"UsersOnly", "UsersAndGroups"`},
		{name: "unknown deletion policy", base: validAgency, edits: []edit{{"spec.deletionPolicy", "Orphan"}},
			wantField: "spec.deletionPolicy", wantMessage: `"Retain", "Delete"`},
		{name: "unknown unique identifier", base: validAgency,
			edits:     []edit{{"spec.okta.uniqueIdentifier", "employeeNumber"}},
			wantField: "spec.okta.uniqueIdentifier", wantMessage: `"email", "userName"`},
		{name: "unknown credentials mode", base: validAgency,
			edits:     []edit{{"spec.okta.credentialsSecretRef.authMode", "Password"}},
			wantField: "spec.okta.credentialsSecretRef.authMode", wantMessage: "APIToken"},
		{name: "credentials without a Secret name", base: validAgency,
			edits:     []edit{{"spec.okta.credentialsSecretRef.name", nil}},
			wantField: "spec.okta.credentialsSecretRef.name", wantMessage: "Required"},
		{name: "resync faster than a minute", base: validAgency, edits: []edit{{"spec.okta.resyncPeriod", "10s"}},
			wantField: "spec.okta.resyncPeriod", wantMessage: "at least 1m"},
		{name: "resync that is not a duration", base: validAgency,
			edits:     []edit{{"spec.okta.resyncPeriod", "fifteen"}},
			wantField: "spec.okta.resyncPeriod", wantMessage: "must be a duration of at least 1m, such as 10m or 1h"},
		{name: "one label for both Okta apps", base: validAgency, edits: []edit{
			{"spec.okta.samlAppLabel", "Metro PD provisioning"}, {"spec.okta.oidcAppLabel", "Metro PD provisioning"}},
			wantField: "spec.okta.oidcAppLabel: Invalid value", wantMessage: "must differ"},
		{name: "SAML app label equal to the default OIDC app label", base: validAgency,
			edits:     []edit{{"spec.okta.samlAppLabel", "metro-pd SCIM OAuth"}},
			wantField: "spec.okta.oidcAppLabel: Invalid value", wantMessage: "must differ"},
		{name: "redirect URI over plain http", base: validAgency,
			edits:     []edit{{"spec.okta.redirectURI", "http://metropd.okta.com/callback"}},
			wantField: "spec.okta.redirectURI", wantMessage: "https"},
		{name: "the same group assigned twice", base: validAgency,
			edits:     []edit{{"spec.okta.assignGroups", []any{"Sworn", "Sworn"}}},
			wantField: "spec.okta.assignGroups[1]", wantMessage: "Duplicate value"},
		{name: "two sqlite replicas", base: validAgency, edits: []edit{{"spec.scimServer.replicas", int64(2)}},
			wantField:   "spec.scimServer.replicas: Invalid value",
			wantMessage: "requires spec.scimServer.storage.type postgres"},
		{name: "zero replicas", base: validAgency, edits: []edit{{"spec.scimServer.replicas", int64(0)}},
			wantField: "spec.scimServer.replicas", wantMessage: "greater than or equal to 1"},
		{name: "postgres without its Secret", base: validAgency,
			edits:     []edit{{"spec.scimServer.storage.type", "postgres"}},
			wantField: "spec.scimServer.storage.postgres: Invalid value", wantMessage: "is required when"},
		{name: "postgres settings on a sqlite store", base: validAgency,
			edits: []edit{{"spec.scimServer.storage.postgres",
				map[string]any{"connectionSecretRef": map[string]any{"name": "pg"}}}},
			wantField: "spec.scimServer.storage.postgres: Invalid value", wantMessage: "type is sqlite"},
		{name: "unknown store", base: validAgency, edits: []edit{{"spec.scimServer.storage.type", "mysql"}},
			wantField: "spec.scimServer.storage.type", wantMessage: `"sqlite", "postgres"`},
		{name: "ingress and external URL together", base: validAgency, edits: []edit{
			{"spec.scimServer.externalURL", "https://edge.metropd.example.gov"},
			{"spec.scimServer.ingress", map[string]any{"host": "scim.metropd.example.gov", "tlsSecretName": "tls"}},
		}, wantField: "spec.scimServer.externalURL: Invalid value", wantMessage: "mutually exclusive"},
		{name: "external URL over plain http", base: validAgency,
			edits:     []edit{{"spec.scimServer.externalURL", "http://edge.metropd.example.gov"}},
			wantField: "spec.scimServer.externalURL", wantMessage: "https"},
		{name: "ingress without TLS", base: validAgency,
			edits:     []edit{{"spec.scimServer.ingress", map[string]any{"host": "scim.metropd.example.gov"}}},
			wantField: "spec.scimServer.ingress.tlsSecretName", wantMessage: "Required"},
		{name: "ingress host that is not a DNS name", base: validAgency,
			edits: []edit{{"spec.scimServer.ingress",
				map[string]any{"host": "https://scim.metropd.example.gov", "tlsSecretName": "tls"}}},
			wantField: "spec.scimServer.ingress.host", wantMessage: "should match"},
		{name: "extension schema that is not a URN", base: validAgency,
			edits:     []edit{{"spec.scimServer.extensionSchema", "axon"}},
			wantField: "spec.scimServer.extensionSchema", wantMessage: "should match"},
		{name: "unknown default language form", base: validAgency,
			edits:     []edit{{"spec.directory.defaultLanguage", "english"}},
			wantField: "spec.directory.defaultLanguage", wantMessage: "should match"},
		{name: "the same rank twice", base: validAgency,
			edits:     []edit{{"spec.directory.ranks", []any{"Officer", "Officer"}}},
			wantField: "spec.directory.ranks[1]", wantMessage: "Duplicate value"},

		{name: "mapping without badgeId", base: validMapping,
			edits: []edit{{"spec.attributes", []any{
				map[string]any{"displayName": "Rank", "variableName": "rankName"}}}},
			wantField: "spec.attributes: Invalid value", wantMessage: "spec.attributes must declare badgeId"},
		{name: "mapping to an undeclared attribute", base: validMapping,
			edits: []edit{{"spec.mappings", []any{
				map[string]any{"target": "shoeSize", "expression": "user.shoeSize"}}}},
			wantField:   "spec.mappings: Invalid value",
			wantMessage: "spec.mappings[].target must be a base SCIM attribute"},
		{name: "attribute of an unknown type", base: validMapping,
			edits: []edit{{"spec.attributes", []any{
				map[string]any{"displayName": "Badge", "variableName": "badgeId", "type": "date"}}}},
			wantField: "spec.attributes[0].type", wantMessage: `"string", "boolean"`},
		{name: "attribute declared twice", base: validMapping,
			edits: []edit{{"spec.attributes", []any{
				map[string]any{"displayName": "Badge", "variableName": "badgeId"},
				map[string]any{"displayName": "Badge again", "variableName": "badgeId"}}}},
			wantField: "spec.attributes[1]", wantMessage: "Duplicate value"},
		{name: "attribute name with a dash", base: validMapping,
			edits: []edit{{"spec.attributes", []any{
				map[string]any{"displayName": "Badge", "variableName": "badgeId"},
				map[string]any{"displayName": "Rank", "variableName": "rank-name"}}}},
			wantField: "spec.attributes[1].variableName", wantMessage: "should match"},
		{name: "mapping with an unknown push status", base: validMapping,
			edits: []edit{{"spec.mappings", []any{
				map[string]any{"target": "badgeId", "expression": "user.employeeNumber", "pushStatus": "ALWAYS"}}}},
			wantField: "spec.mappings[0].pushStatus", wantMessage: `"PUSH", "DONT_PUSH"`},
		{name: "mapping without its AgencyProvisioning", base: validMapping,
			edits:     []edit{{"spec.agencyProvisioningRef", nil}},
			wantField: "spec.agencyProvisioningRef", wantMessage: "Required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := manifest(t, tt.base, tt.edits...)
			obj.SetNamespace(ns)
			err := k8sClient.Create(t.Context(), obj, client.DryRunAll)
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tt.wantField))
			g.Expect(err.Error()).To(ContainSubstring(tt.wantMessage))
			g.Expect(err.Error()).NotTo(ContainSubstring("type conversion error"), "a rule failed on the value's type")
		})
	}
}

func TestValidation_LoopbackHTTPOrgIsAcceptedForLocalRuns(t *testing.T) {
	g := NewWithT(t)
	for _, org := range []string{"http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:8080"} {
		obj := manifest(t, validAgency, edit{"spec.okta.orgURL", org})
		obj.SetNamespace(newNamespace(t))
		g.Expect(k8sClient.Create(t.Context(), obj, client.DryRunAll)).To(Succeed(), org)
	}
}

func TestValidation_DefaultsAreFilledByTheAPIServer(t *testing.T) {
	g := NewWithT(t)
	obj := manifest(t, validAgency)
	obj.SetNamespace(newNamespace(t))
	g.Expect(k8sClient.Create(t.Context(), obj, client.DryRunAll)).To(Succeed())
	for path, want := range map[string]any{
		"spec.syncMode":                           "UsersOnly",
		"spec.deletionPolicy":                     "Retain",
		"spec.okta.uniqueIdentifier":              "email",
		"spec.okta.authorizationServerId":         "default",
		"spec.okta.audience":                      "api://default",
		"spec.okta.resyncPeriod":                  "10m",
		"spec.okta.credentialsSecretRef.authMode": "APIToken",
		"spec.scimServer.replicas":                int64(1),
		"spec.scimServer.storage.type":            "sqlite",
		"spec.scimServer.storage.sqlite.size":     "1Gi",
		"spec.scimServer.extensionSchema":         "urn:ietf:params:scim:schemas:extension:2.0:axon",
	} {
		got, found, err := unstructured.NestedFieldNoCopy(obj.Object, strings.Split(path, ".")...)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(found).To(BeTrue(), path)
		g.Expect(got).To(Equal(want), path)
	}
}

func TestValidation_ImmutableReferencesCannotChange(t *testing.T) {
	tests := []struct {
		name      string
		base      string
		path      string
		value     any
		wantField string
	}{
		{name: "agency id", base: validAgency, path: "spec.agencyId", value: "other-pd",
			wantField: "spec.agencyId is immutable"},
		{name: "mapping's AgencyProvisioning", base: validMapping, path: "spec.agencyProvisioningRef.name",
			value: "other-pd", wantField: "spec.agencyProvisioningRef is immutable"},
		{name: "store type", base: validAgency, path: "spec.scimServer.storage",
			value: map[string]any{"type": "postgres", "postgres": map[string]any{
				"connectionSecretRef": map[string]any{"name": "pd-postgres"}}},
			wantField: "spec.scimServer.storage.type cannot change"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := manifest(t, tt.base)
			obj.SetNamespace(newNamespace(t))
			g.Expect(k8sClient.Create(t.Context(), obj)).To(Succeed())
			t.Cleanup(func() { _ = k8sClient.Delete(t.Context(), obj) })
			g.Expect(unstructured.SetNestedField(obj.Object, tt.value, strings.Split(tt.path, ".")...)).To(Succeed())
			err := k8sClient.Update(t.Context(), obj)
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tt.wantField))
		})
	}
}

// sampleFiles are the manifests in config/samples, as kubectl apply -f would read them.
func sampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "*.yaml"))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" {
			out = append(out, f)
		}
	}
	NewWithT(t).Expect(out).NotTo(BeEmpty())
	return out
}

func TestSamples_ApplyWithServerDryRun(t *testing.T) {
	ns := newNamespace(t)
	for _, f := range sampleFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			g := NewWithT(t)
			data, err := os.ReadFile(f)
			g.Expect(err).NotTo(HaveOccurred())
			for _, doc := range bytes.Split(data, []byte("\n---")) {
				obj := &unstructured.Unstructured{}
				g.Expect(yaml.Unmarshal(doc, &obj.Object)).To(Succeed())
				if len(obj.Object) == 0 {
					continue
				}
				obj.SetNamespace(ns)
				g.Expect(k8sClient.Create(t.Context(), obj, client.DryRunAll)).To(Succeed(), obj.GetName())
			}
		})
	}
}

// TestSamples_KubectlApplyDryRunServer runs the README's check with the machine's kubectl,
// when there is one.
func TestSamples_KubectlApplyDryRunServer(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	g := NewWithT(t)
	user, err := testEnv.AddUser(envtest.User{Name: "sample-admin", Groups: []string{"system:masters"}}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	kubeconfig, err := user.KubeConfig()
	g.Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(t.TempDir(), "kubeconfig")
	g.Expect(os.WriteFile(path, kubeconfig, 0o600)).To(Succeed())
	ns := newNamespace(t)

	args := []string{"--kubeconfig", path, "apply", "--dry-run=server", "-n", ns}
	for _, f := range sampleFiles(t) {
		args = append(args, "-f", f)
	}
	out, err := exec.CommandContext(t.Context(), kubectl, args...).CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(string(out)).To(ContainSubstring("created (server dry run)"))
}
