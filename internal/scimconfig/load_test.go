package scimconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodConfig = `agencyID: e1e19bb4-ecab-4ffa-b60d-3fd152d50892
oktaOrgURL: https://examplepd.okta.com
database: sqlite:///var/lib/scim/scim.db
ranks: [Officer, Sergeant]
`

func TestLoad_DefaultsAndRejectsBadKeysByName(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantKey string // empty: valid
	}{
		{name: "minimal file is valid", yaml: goodConfig},
		{
			name: "loopback http org is valid",
			yaml: strings.Replace(goodConfig, "https://examplepd.okta.com", "http://127.0.0.1:8080", 1),
		},
		{
			name:    "missing agency id",
			yaml:    strings.Replace(goodConfig, "agencyID: e1e19bb4-ecab-4ffa-b60d-3fd152d50892", "", 1),
			wantKey: "agencyID",
		},
		{name: "plain http org", yaml: strings.Replace(goodConfig, "https://", "http://", 1), wantKey: "oktaOrgURL"},
		{
			name:    "org with a path",
			yaml:    strings.Replace(goodConfig, "okta.com", "okta.com/oauth2/default", 1),
			wantKey: "oktaOrgURL",
		},
		{
			name:    "org with a password",
			yaml:    strings.Replace(goodConfig, "https://", "https://admin:S3cretPw@", 1),
			wantKey: "oktaOrgURL",
		},
		{name: "unknown sync mode", yaml: goodConfig + "syncMode: Everything\n", wantKey: "syncMode"},
		{
			name:    "bad database scheme",
			yaml:    strings.Replace(goodConfig, "sqlite:///var", "mysql://var", 1),
			wantKey: "database",
		},
		{name: "half a TLS pair", yaml: goodConfig + "tls: {certFile: a.pem}\n", wantKey: "tls"},
		{name: "duplicate rank", yaml: goodConfig + "roles: [User, user]\n", wantKey: "roles[1]"},
		{name: "misspelt key", yaml: goodConfig + "synMode: UsersOnly\n", wantKey: "synMode"},
		{name: "key in the wrong case", yaml: goodConfig + "SYNCMODE: UsersAndGroups\n", wantKey: "SYNCMODE"},
		{
			name:    "key in camel case of another spelling",
			yaml:    strings.Replace(goodConfig, "oktaOrgURL:", "oktaOrgUrl:", 1),
			wantKey: "oktaOrgUrl",
		},
		{name: "key given twice", yaml: goodConfig + "syncMode: UsersOnly\nsyncMode: UsersAndGroups\n",
			wantKey: "syncMode"},
		{
			name:    "agency id with a slash",
			yaml:    strings.Replace(goodConfig, "e1e19bb4-ecab-4ffa-b60d-3fd152d50892", "a/b", 1),
			wantKey: "agencyID: must be",
		},
		{name: "TLS files that do not exist",
			yaml:    goodConfig + "tls: {certFile: /no/such.pem, keyFile: /no/such.key}\n",
			wantKey: "tls: open /no/such.pem"},
		{name: "bad listen address", yaml: goodConfig + "listenAddress: 8443\n", wantKey: "listenAddress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if c.SyncMode != SyncModeUsersOnly || c.Audience != DefaultAudience ||
					c.DefaultLanguage != DefaultLanguage {
					t.Errorf("defaults not applied: %+v", c)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantKey) ||
				strings.Contains(err.Error(), "\n") {
				t.Errorf("error = %v, want one line naming %s", err, tt.wantKey)
			}
			if strings.Contains(err.Error(), "S3cretPw") {
				t.Errorf("error = %v, repeats a password", err)
			}
		})
	}
}

func TestLoad_DatabaseURLEnvReplacesDatabase(t *testing.T) {
	const env = "SCIMCONFIG_TEST_DATABASE_URL"
	file := strings.Replace(goodConfig, "database: sqlite:///var/lib/scim/scim.db", "databaseURLEnv: "+env, 1)
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Setenv(env, "")
	if _, err := Load(path); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "databaseURLEnv") {
		t.Fatalf("empty variable: error = %v, want one naming databaseURLEnv", err)
	}

	t.Setenv(env, "postgres://scim@127.0.0.1:5432/scim")
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Database != "postgres://scim@127.0.0.1:5432/scim" {
		t.Errorf("Database = %q, want the variable's value", c.Database)
	}
}
