package controller

import (
	"errors"
	"maps"
)

// The cert-manager annotations that name the issuer of an Ingress's certificate.
const (
	AnnotationCertManagerClusterIssuer = "cert-manager.io/cluster-issuer"
	AnnotationCertManagerIssuer        = "cert-manager.io/issuer"
)

// IngressDefaults are the operator-wide settings of every agency's SCIM Ingress (the manager's
// --scim-ingress-* flags). An agency's own spec.scimServer.ingress wins over them.
type IngressDefaults struct {
	// ClassName is the IngressClass used when the agency's className is unset or empty.
	ClassName string
	// ClusterIssuer and Issuer name the cert-manager issuer (at most one of the two) added as
	// an annotation when the agency's annotations name neither.
	ClusterIssuer string
	Issuer        string
}

// Validate reports settings cert-manager would refuse.
func (d IngressDefaults) Validate() error {
	if d.ClusterIssuer != "" && d.Issuer != "" {
		return errors.New("set at most one of the default cert-manager cluster issuer and issuer")
	}
	return nil
}

// annotations returns the agency's Ingress annotations with the default issuer added when
// they name no issuer of their own (cert-manager refuses an Ingress that names both kinds).
func (d IngressDefaults) annotations(own map[string]string) map[string]string {
	_, hasClusterIssuer := own[AnnotationCertManagerClusterIssuer]
	_, hasIssuer := own[AnnotationCertManagerIssuer]
	if hasClusterIssuer || hasIssuer || (d.ClusterIssuer == "" && d.Issuer == "") {
		return own
	}
	out := maps.Clone(own)
	if out == nil {
		out = map[string]string{}
	}
	if d.ClusterIssuer != "" {
		out[AnnotationCertManagerClusterIssuer] = d.ClusterIssuer
	} else {
		out[AnnotationCertManagerIssuer] = d.Issuer
	}
	return out
}
