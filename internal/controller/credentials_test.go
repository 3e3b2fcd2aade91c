package controller

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

func TestOktaCredentials_TrimsValuesAndNamesWhatIsWrong(t *testing.T) {
	const token = "00aBcD-eFgH_1234"
	tests := []struct {
		name       string
		mode       scimv1alpha1.OktaAuthMode
		data       map[string]string
		wantToken  string
		wantClient string
		wantReason string
		wantMsg    string
	}{
		{name: "a token as written", data: map[string]string{"apiToken": token}, wantToken: token},
		{name: "a token file's trailing newline is not part of it",
			data: map[string]string{"apiToken": token + "\n"}, wantToken: token},
		{name: "surrounding blanks and CRLF too", data: map[string]string{"apiToken": " \t" + token + "\r\n"},
			wantToken: token},
		{name: "only blanks is a missing key", data: map[string]string{"apiToken": " \n"},
			wantReason: scimv1alpha1.ReasonCredentialsSecretMissing, wantMsg: `has no key "apiToken"`},
		{name: "a line break inside is refused, naming the key", data: map[string]string{"apiToken": "00a\nb"},
			wantReason: scimv1alpha1.ReasonInvalidCredentials, wantMsg: `key "apiToken" holds a space, a line break`},
		{name: "a service app's client id is trimmed", mode: scimv1alpha1.OktaAuthModePrivateKey,
			data:       map[string]string{"clientID": "0oa123\n", "privateKey": "-----BEGIN PRIVATE KEY-----\n"},
			wantClient: "0oa123"},
		{name: "a key id with a space is refused", mode: scimv1alpha1.OktaAuthModePrivateKey,
			data:       map[string]string{"clientID": "0oa1", "privateKey": "pem-value-xyz", "keyID": "kid 1"},
			wantReason: scimv1alpha1.ReasonInvalidCredentials, wantMsg: `key "keyID"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := newAgency("ns", "pd")
			ap.Spec.Okta.CredentialsSecretRef.Name = "creds"
			ap.Spec.Okta.CredentialsSecretRef.AuthMode = tt.mode
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "creds"},
				Data: map[string][]byte{}}
			for k, v := range tt.data {
				sec.Data[k] = []byte(v)
			}
			c := fake.NewClientBuilder().WithScheme(testScheme).WithObjects(sec).Build()
			creds, reason, msg := oktaCredentials(t.Context(), c, ap)
			if reason != tt.wantReason || !strings.Contains(msg, tt.wantMsg) {
				t.Fatalf("reason %q, message %q; want %q containing %q", reason, msg, tt.wantReason, tt.wantMsg)
			}
			if creds.APIToken != tt.wantToken || creds.ClientID != tt.wantClient {
				t.Errorf("token %q, client id %q; want %q, %q", creds.APIToken, creds.ClientID, tt.wantToken,
					tt.wantClient)
			}
			for _, v := range tt.data {
				if strings.TrimSpace(v) != "" && strings.Contains(msg, strings.TrimSpace(v)) {
					t.Errorf("the message shows a Secret value: %q", msg)
				}
			}
		})
	}
}
