// Package controller holds the operator's reconcilers. The AgencyProvisioning reconciler runs
// an agency's SCIM server (ConfigMap, Deployment, Service, Ingress, store, PDB) and, through
// its Okta step, keeps the agency's Okta org configured; the ScimUserMapping reconciler keeps
// the SAML app's custom attributes and profile mappings in Okta as declared.
package controller
