package controller

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// conditionsDocPath is the admin's reference of conditions and Events, relative to this package.
const conditionsDocPath = "../../docs/conditions.md"

// The kinds, as the doc's "<Kind> conditions" headings name them.
const (
	kindAP  = kindAgencyProvisioning
	kindSUM = kindScimUserMapping
)

// documentedConditions lists, per kind, every condition type the controllers set and every
// reason they set it with (read from the code: setCondition, setMappingCondition, setBoth and
// the pure condition functions). Each reason must appear in backticks under that condition's
// heading in docs/conditions.md; a reason added here and not there fails the test.
var documentedConditions = []struct {
	kind      string
	condition string
	reasons   []string
}{
	{kindAP, scimv1alpha1.ConditionReady, []string{scimv1alpha1.ReasonSucceeded, scimv1alpha1.ReasonReconciling,
		scimv1alpha1.ReasonDeletionBlocked}},
	{kindAP, scimv1alpha1.ConditionOktaAuthenticated, []string{
		scimv1alpha1.ReasonSucceeded, scimv1alpha1.ReasonCredentialsSecretMissing,
		scimv1alpha1.ReasonInvalidCredentials, scimv1alpha1.ReasonOrgUnreachable, scimv1alpha1.ReasonRateLimited,
		scimv1alpha1.ReasonInvalidSpec,
	}},
	{kindAP, scimv1alpha1.ConditionIssuerVerified, []string{
		scimv1alpha1.ReasonSucceeded, scimv1alpha1.ReasonIssuerMismatch,
		scimv1alpha1.ReasonAuthorizationServerInactive, scimv1alpha1.ReasonInvalidSpec,
	}},
	{kindAP, scimv1alpha1.ConditionOktaAppsConfigured, []string{
		scimv1alpha1.ReasonSucceeded, scimv1alpha1.ReasonAppsOutOfSync, scimv1alpha1.ReasonReconcileFailed,
	}},
	{kindAP, scimv1alpha1.ConditionScimServerAvailable, []string{
		scimv1alpha1.ReasonDeploymentAvailable, scimv1alpha1.ReasonReconciling,
		scimv1alpha1.ReasonDeploymentProgressing, scimv1alpha1.ReasonDeploymentUnavailable,
		scimv1alpha1.ReasonStoreUnreachable, scimv1alpha1.ReasonMigrationFailed, scimv1alpha1.ReasonReconcileFailed,
	}},
	{kindAP, scimv1alpha1.ConditionProvisioningConnected, []string{
		scimv1alpha1.ReasonManualStepRequired, scimv1alpha1.ReasonSucceeded,
	}},
	// False carries the reason of the SCIM server's latest token rejection, as its report
	// names it (scimconfig), except the ignoredRejections.
	{kindAP, scimv1alpha1.ConditionScimAuthenticated, []string{
		scimv1alpha1.ReasonTokensAccepted, scimv1alpha1.ReasonReconciling,
		scimconfig.ReasonIssuerMismatch, scimconfig.ReasonInvalidSignature, scimconfig.ReasonTokenExpired,
		scimconfig.ReasonTokenNotYetValid, scimconfig.ReasonWrongAudience, scimconfig.ReasonUnknownClient,
		scimconfig.ReasonKeysUnavailable,
	}},
	{kindSUM, scimv1alpha1.ConditionReady, []string{scimv1alpha1.ReasonSucceeded, scimv1alpha1.ReasonReconciling}},
	{kindSUM, scimv1alpha1.ConditionSchemaSynced, append([]string{
		scimv1alpha1.ReasonSucceeded, scimv1alpha1.ReasonWaitingForProvisioning, scimv1alpha1.ReasonSchemaNotKept,
	}, mappingReasons...)},
	{kindSUM, scimv1alpha1.ConditionMappingsSynced, append([]string{
		scimv1alpha1.ReasonSucceeded,
	}, mappingReasons...)},
}

// mappingReasons are the ScimUserMapping reasons set on both SchemaSynced and MappingsSynced
// (setBoth), or on either by oktaFailure.
var mappingReasons = []string{
	scimv1alpha1.ReasonWaitingForAgency, scimv1alpha1.ReasonReconciling, scimv1alpha1.ReasonDuplicateMapping,
	scimv1alpha1.ReasonBadgeIDRequired, scimv1alpha1.ReasonCredentialsSecretMissing,
	scimv1alpha1.ReasonInvalidCredentials, scimv1alpha1.ReasonRateLimited, scimv1alpha1.ReasonOktaError,
}

// documentedEvents are the reasons of the Events recorded besides condition changes.
var documentedEvents = []string{
	ReasonProvisioningRefused,
	ReasonStoreResizeRefused,
}

func TestConditionsDoc_DocumentsEveryReasonUnderItsCondition(t *testing.T) {
	sections := readDocSections(t)
	for _, tt := range documentedConditions {
		t.Run(tt.kind+"/"+tt.condition, func(t *testing.T) {
			body := conditionSection(sections, tt.kind, tt.condition)
			if body == "" {
				t.Fatalf("%s has no heading naming `%s` under \"## %s conditions\"", conditionsDocPath, tt.condition,
					tt.kind)
			}
			for _, reason := range tt.reasons {
				if !strings.Contains(body, "`"+reason+"`") {
					t.Errorf("%s: reason `%s` of %s %s is not documented under its heading", conditionsDocPath, reason,
						tt.kind, tt.condition)
				}
			}
		})
	}
}

func TestConditionsDoc_NamesTheTokenRejectionsThatSetNoCondition(t *testing.T) {
	body := conditionSection(readDocSections(t), kindAP, scimv1alpha1.ConditionScimAuthenticated)
	for reason := range ignoredRejections {
		if !strings.Contains(body, "`"+reason+"`") {
			t.Errorf("%s: the ScimAuthenticated section does not say that `%s` is ignored", conditionsDocPath, reason)
		}
	}
}

func TestConditionsDoc_DocumentsEveryEventReason(t *testing.T) {
	var events string
	for _, s := range readDocSections(t) {
		if s.h2 == "Events" {
			events += s.body
		}
	}
	if events == "" {
		t.Fatalf("%s has no \"## Events\" section", conditionsDocPath)
	}
	for _, reason := range documentedEvents {
		if !strings.Contains(events, "`"+reason+"`") {
			t.Errorf("%s: Event reason `%s` is not documented under \"## Events\"", conditionsDocPath, reason)
		}
	}
}

func TestConditionsDoc_GivesReadyOrderAsTheCodeUsesIt(t *testing.T) {
	var body string
	for _, s := range readDocSections(t) {
		if strings.HasPrefix(s.h2, "How `Ready` is summarised") && s.h3 == kindAP {
			body = s.body
		}
	}
	item := regexp.MustCompile("(?m)^[0-9]+\\. `([A-Za-z]+)`$")
	var got []string
	for _, m := range item.FindAllStringSubmatch(body, -1) {
		got = append(got, m[1])
	}
	if !slices.Equal(got, readyOrder) {
		t.Errorf("%s lists Ready's order as %v; readyOrder is %v", conditionsDocPath, got, readyOrder)
	}
}

// TestConditionsDoc_EveryDeclaredConstantIsListed reads the condition and reason constants
// declared in the API, the SCIM server's report and this package, so that a new one fails here
// until it is put in one of the lists above (and so in the doc).
func TestConditionsDoc_EveryDeclaredConstantIsListed(t *testing.T) {
	listed := map[string]bool{}
	for _, c := range documentedConditions {
		listed[c.condition] = true
		for _, r := range c.reasons {
			listed[r] = true
		}
	}
	for _, r := range documentedEvents {
		listed[r] = true
	}
	for r := range ignoredRejections {
		listed[r] = true
	}
	// Each of these files declares some; this package's own files may.
	files := map[string]bool{
		"../../api/v1alpha1/conditions.go":      true,
		"../../api/v1alpha1/okta_conditions.go": true,
		"../../internal/scimconfig/report.go":   true,
	}
	own, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range own {
		if !strings.HasSuffix(f, "_test.go") {
			files[f] = false
		}
	}
	for f, mustDeclare := range files {
		consts := reasonConstants(t, f)
		if mustDeclare && len(consts) == 0 {
			t.Errorf("%s declares no Reason or Condition constant; did they move?", f)
		}
		for name, value := range consts {
			if !listed[value] {
				t.Errorf("%s declares %s = %q, which the lists in conditions_doc_test.go do not name: "+
					"document it in %s and list it, or delete it if no code sets it", f, name, value, conditionsDocPath)
			}
		}
	}
}

// reasonConstants returns the string constants of a Go file whose names start with Reason or
// Condition, by name.
func reasonConstants(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	out := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Reason") && !strings.HasPrefix(name.Name, "Condition") {
					continue
				}
				if i >= len(vs.Values) {
					t.Fatalf("%s: %s has no value of its own", path, name.Name)
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s: %s is not a string literal", path, name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("%s: %s: %v", path, name.Name, err)
				}
				out[name.Name] = v
			}
		}
	}
	return out
}

// docSection is the text under one "##" heading and, within it, one "###" heading (h3 is ""
// for the text before the first "###").
type docSection struct {
	h2, h3, body string
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(conditionsDocPath)
	if err != nil {
		t.Fatalf("read the conditions reference: %v", err)
	}
	return string(b)
}

// readDocSections splits the doc at its "##" and "###" headings, outside fenced code blocks.
func readDocSections(t *testing.T) []docSection {
	t.Helper()
	var out []docSection
	cur := docSection{}
	fenced := false
	for line := range strings.Lines(readDoc(t)) {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		title := strings.TrimSpace(line)
		switch {
		case !fenced && strings.HasPrefix(line, "## "):
			out = append(out, cur)
			cur = docSection{h2: strings.TrimPrefix(title, "## ")}
		case !fenced && strings.HasPrefix(line, "### "):
			out = append(out, cur)
			cur = docSection{h2: cur.h2, h3: strings.TrimPrefix(title, "### ")}
		default:
			cur.body += line
		}
	}
	return append(out, cur)
}

// conditionSection is the text of every "###" section under "## <kind> conditions" whose
// heading names the condition type in backticks, "" when there is none.
func conditionSection(sections []docSection, kind, condition string) string {
	var body string
	for _, s := range sections {
		if s.h2 == kind+" conditions" && strings.Contains(s.h3, "`"+condition+"`") {
			body += s.body
		}
	}
	return body
}
