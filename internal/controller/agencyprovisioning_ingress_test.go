package controller

import (
	"maps"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

func TestRenderIngress_DefaultsFillOnlyWhatTheAgencyLeavesOut(t *testing.T) {
	bare := func(mutate func(in *scimv1alpha1.IngressSpec)) *scimv1alpha1.AgencyProvisioning {
		ap := newAgency("ns", "pd")
		ap.Spec.ScimServer.Ingress = &scimv1alpha1.IngressSpec{Host: "scim.examplepd.gov", TLSSecretName: "tls"}
		if mutate != nil {
			mutate(ap.Spec.ScimServer.Ingress)
		}
		return ap
	}
	tests := []struct {
		name            string
		ap              *scimv1alpha1.AgencyProvisioning
		defaults        IngressDefaults
		wantClass       *string
		wantAnnotations map[string]string
	}{
		{
			name:            "no defaults: the cluster's default class and no issuer",
			ap:              bare(nil),
			wantAnnotations: nil,
		},
		{
			name:      "class and cluster issuer defaults fill a bare ingress",
			ap:        bare(nil),
			defaults:  IngressDefaults{ClassName: "nginx", ClusterIssuer: "letsencrypt"},
			wantClass: ptr.To("nginx"),
			wantAnnotations: map[string]string{
				AnnotationCertManagerClusterIssuer: "letsencrypt",
			},
		},
		{
			name:            "namespaced issuer default uses the issuer annotation",
			ap:              bare(nil),
			defaults:        IngressDefaults{Issuer: "agency-ca"},
			wantAnnotations: map[string]string{AnnotationCertManagerIssuer: "agency-ca"},
		},
		{
			name:      "an empty class name is filled like an unset one",
			ap:        bare(func(in *scimv1alpha1.IngressSpec) { in.ClassName = ptr.To("") }),
			defaults:  IngressDefaults{ClassName: "nginx"},
			wantClass: ptr.To("nginx"),
		},
		{
			name:      "the agency's class wins",
			ap:        bare(func(in *scimv1alpha1.IngressSpec) { in.ClassName = ptr.To("traefik") }),
			defaults:  IngressDefaults{ClassName: "nginx"},
			wantClass: ptr.To("traefik"),
		},
		{
			name: "the agency's own cluster issuer wins and its other annotations stay",
			ap: bare(func(in *scimv1alpha1.IngressSpec) {
				in.Annotations = map[string]string{AnnotationCertManagerClusterIssuer: "own", "team": "pd"}
			}),
			defaults: IngressDefaults{ClusterIssuer: "letsencrypt"},
			wantAnnotations: map[string]string{
				AnnotationCertManagerClusterIssuer: "own", "team": "pd",
			},
		},
		{
			name: "the agency's own issuer keeps a default cluster issuer off (never both kinds)",
			ap: bare(func(in *scimv1alpha1.IngressSpec) {
				in.Annotations = map[string]string{AnnotationCertManagerIssuer: "own-ca"}
			}),
			defaults:        IngressDefaults{ClusterIssuer: "letsencrypt"},
			wantAnnotations: map[string]string{AnnotationCertManagerIssuer: "own-ca"},
		},
		{
			name: "other annotations get the default issuer added",
			ap: bare(func(in *scimv1alpha1.IngressSpec) {
				in.Annotations = map[string]string{"team": "pd"}
			}),
			defaults: IngressDefaults{ClusterIssuer: "letsencrypt"},
			wantAnnotations: map[string]string{
				"team": "pd", AnnotationCertManagerClusterIssuer: "letsencrypt",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			own := maps.Clone(tt.ap.Spec.ScimServer.Ingress.Annotations)
			in := renderIngress(tt.ap, tt.defaults)
			g.Expect(in.Spec.IngressClassName).To(Equal(tt.wantClass))
			if tt.wantAnnotations == nil {
				g.Expect(in.Annotations).To(BeEmpty())
			} else {
				g.Expect(in.Annotations).To(Equal(tt.wantAnnotations))
			}
			g.Expect(tt.ap.Spec.ScimServer.Ingress.Annotations).To(Equal(own), "the spec is never changed")
		})
	}
}

func TestIngressDefaults_RefuseBothIssuerKinds(t *testing.T) {
	tests := []struct {
		name     string
		defaults IngressDefaults
		wantErr  bool
	}{
		{name: "none", defaults: IngressDefaults{}},
		{name: "cluster issuer only", defaults: IngressDefaults{ClusterIssuer: "le"}},
		{name: "issuer only", defaults: IngressDefaults{Issuer: "ca"}},
		{name: "both", defaults: IngressDefaults{ClusterIssuer: "le", Issuer: "ca"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.defaults.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
