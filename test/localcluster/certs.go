package localcluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki holds the files the control plane authenticates with, all under one directory.
type pki struct {
	caCert, caKey        string // signs the serving certificate and the client certificate
	servingCert, servKey string // kube-apiserver, kube-controller-manager and kube-scheduler on 127.0.0.1
	adminCert, adminKey  string // a system:masters client every component and the tests use
	saPublic, saPrivate  string // signs and verifies service account tokens
	caPEM, adminCertPEM  []byte
	adminKeyPEM          []byte
}

// newPKI writes a fresh certificate authority, a serving certificate for 127.0.0.1 and
// localhost, an admin client certificate and a service account key pair into dir.
func newPKI(dir string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	p := &pki{
		caCert: filepath.Join(dir, "ca.crt"), caKey: filepath.Join(dir, "ca.key"),
		servingCert: filepath.Join(dir, "serving.crt"), servKey: filepath.Join(dir, "serving.key"),
		adminCert: filepath.Join(dir, "admin.crt"), adminKey: filepath.Join(dir, "admin.key"),
		saPublic: filepath.Join(dir, "sa.pub"), saPrivate: filepath.Join(dir, "sa.key"),
	}

	now := time.Now()
	caKey, caTmpl, err := newKeyAndTemplate(pkix.Name{CommonName: "localcluster-ca"}, now)
	if err != nil {
		return nil, err
	}
	caTmpl.IsCA = true
	caTmpl.BasicConstraintsValid = true
	caTmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("sign the CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse the CA certificate: %w", err)
	}
	if p.caPEM, err = writeCertAndKey(p.caCert, p.caKey, caDER, caKey); err != nil {
		return nil, err
	}

	servKey, servTmpl, err := newKeyAndTemplate(pkix.Name{CommonName: "localcluster-serving"}, now)
	if err != nil {
		return nil, err
	}
	servTmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	servTmpl.KeyUsage = x509.KeyUsageDigitalSignature
	servTmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	servTmpl.DNSNames = []string{"localhost"}
	if err := signAndWrite(p.servingCert, p.servKey, servTmpl, servKey, ca, caKey); err != nil {
		return nil, err
	}

	adminKey, adminTmpl, err := newKeyAndTemplate(
		pkix.Name{CommonName: "localcluster-admin", Organization: []string{"system:masters"}}, now)
	if err != nil {
		return nil, err
	}
	adminTmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	adminTmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if err := signAndWrite(p.adminCert, p.adminKey, adminTmpl, adminKey, ca, caKey); err != nil {
		return nil, err
	}
	if p.adminCertPEM, err = os.ReadFile(p.adminCert); err != nil {
		return nil, fmt.Errorf("read back the admin certificate: %w", err)
	}
	if p.adminKeyPEM, err = os.ReadFile(p.adminKey); err != nil {
		return nil, fmt.Errorf("read back the admin key: %w", err)
	}

	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate the service account key: %w", err)
	}
	if err := writeKey(p.saPrivate, saKey); err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(saKey.Public())
	if err != nil {
		return nil, fmt.Errorf("encode the service account public key: %w", err)
	}
	if err := writePEM(p.saPublic, "PUBLIC KEY", pubDER); err != nil {
		return nil, err
	}
	return p, nil
}

func newKeyAndTemplate(subject pkix.Name, now time.Time) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate a key for %s: %w", subject.CommonName, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, fmt.Errorf("pick a serial number: %w", err)
	}
	return key, &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
	}, nil
}

func signAndWrite(
	certPath, keyPath string,
	tmpl *x509.Certificate,
	key *ecdsa.PrivateKey,
	ca *x509.Certificate,
	caKey crypto.Signer,
) error {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return fmt.Errorf("sign the certificate for %s: %w", tmpl.Subject.CommonName, err)
	}
	_, err = writeCertAndKey(certPath, keyPath, der, key)
	return err
}

func writeCertAndKey(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) ([]byte, error) {
	if err := writePEM(certPath, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	if err := writeKey(keyPath, key); err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode the key %s: %w", filepath.Base(path), err)
	}
	return writePEM(path, "EC PRIVATE KEY", der)
}

func writePEM(path, blockType string, der []byte) error {
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
