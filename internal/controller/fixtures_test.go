package controller

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

// newAgency is a valid AgencyProvisioning with the defaults the API server would fill.
func newAgency(namespace, name string) *scimv1alpha1.AgencyProvisioning {
	return &scimv1alpha1.AgencyProvisioning{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: scimv1alpha1.AgencyProvisioningSpec{
			AgencyID:       "examplepd",
			SyncMode:       scimv1alpha1.SyncModeUsersAndGroups,
			DeletionPolicy: scimv1alpha1.DeletionPolicyRetain,
			Okta: scimv1alpha1.OktaSpec{
				OrgURL: "https://examplepd.okta.com",
				CredentialsSecretRef: scimv1alpha1.OktaCredentialsRef{
					Name: "okta-api", AuthMode: scimv1alpha1.OktaAuthModeAPIToken,
				},
				AuthorizationServerID: "default",
				Audience:              "api://default",
				UniqueIdentifier:      scimv1alpha1.UniqueIdentifierEmail,
				ResyncPeriod:          metav1.Duration{Duration: 600_000_000_000},
			},
			ScimServer: scimv1alpha1.ScimServerSpec{
				Replicas:        1,
				ExtensionSchema: scimv1alpha1.DefaultExtensionSchema,
				Storage: scimv1alpha1.StorageSpec{
					Type:   scimv1alpha1.StorageTypeSQLite,
					SQLite: scimv1alpha1.SQLiteStorage{Size: ptr.To(resource.MustParse("1Gi"))},
				},
			},
			Directory: scimv1alpha1.DirectorySpec{
				Ranks:                  []string{"Officer", "Sergeant", "Lieutenant"},
				Roles:                  []string{"User", "Supervisor"},
				EvidenceGroups:         []string{"Patrol"},
				UserGroups:             []string{"Patrol", "Investigations"},
				CommandHierarchyGroups: []string{"Command Staff"},
				DefaultLanguage:        "EN_US",
			},
		},
	}
}

// withPostgres switches ap to the postgres store with the given replicas.
func withPostgres(ap *scimv1alpha1.AgencyProvisioning, secret string, replicas int32) *scimv1alpha1.AgencyProvisioning {
	ap.Spec.ScimServer.Replicas = replicas
	ap.Spec.ScimServer.Storage = scimv1alpha1.StorageSpec{
		Type: scimv1alpha1.StorageTypePostgres,
		Postgres: &scimv1alpha1.PostgresStorage{
			ConnectionSecretRef: scimv1alpha1.SecretKeyRef{Name: secret, Key: "url"},
		},
	}
	return ap
}

// withIngress exposes ap through an Ingress.
func withIngress(ap *scimv1alpha1.AgencyProvisioning) *scimv1alpha1.AgencyProvisioning {
	ap.Spec.ScimServer.Ingress = &scimv1alpha1.IngressSpec{
		Host:          "scim.examplepd.gov",
		ClassName:     ptr.To("nginx"),
		TLSSecretName: "scim-examplepd-tls",
		Annotations:   map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"},
	}
	return ap
}

func resourceQuantity(s string) resource.Quantity { return resource.MustParse(s) }
