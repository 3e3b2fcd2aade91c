package controller

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

func TestAgencyProvisioning_TypedClientLeavingOutResyncPeriodGetsTheDefault(t *testing.T) {
	tests := []struct {
		name    string
		resync  metav1.Duration
		want    time.Duration
		wantErr string
	}{
		{name: "left out: the API server's 10m default", want: 10 * time.Minute},
		{name: "set: kept", resync: metav1.Duration{Duration: 3 * time.Minute}, want: 3 * time.Minute},
		{name: "set below 1m: refused", resync: metav1.Duration{Duration: time.Second},
			wantErr: "spec.okta.resyncPeriod must be a duration of at least 1m"},
	}
	ns := newNamespace(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			ap := &scimv1alpha1.AgencyProvisioning{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "typed-" + string(rune('a'+i))},
				Spec: scimv1alpha1.AgencyProvisioningSpec{
					AgencyID: "typedpd",
					Okta: scimv1alpha1.OktaSpec{
						OrgURL:               "https://typedpd.okta.com",
						CredentialsSecretRef: scimv1alpha1.OktaCredentialsRef{Name: "okta-api"},
						ResyncPeriod:         tt.resync,
					},
				},
			}
			err := k8sClient.Create(t.Context(), ap)
			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ap.Spec.Okta.ResyncPeriod.Duration).To(Equal(tt.want), "the answer carries the default")
		})
	}
}
