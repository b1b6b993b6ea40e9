// Package tlsfiles reads the PEM files an operator points Cesivi at (a CA
// bundle, a client certificate and key), strictly: a certificate that does
// not parse is an error rather than skipped, so a typo in a bundle is found
// at start-up instead of as a handshake failure later.
package tlsfiles

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// LoadCAs reads a PEM bundle into a pool. Blocks other than CERTIFICATE are
// ignored; a bundle with no certificate, or with one that does not parse,
// is an error. Errors name the file, never its content.
func LoadCAs(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d does not parse: %v", path, n, err)
		}
		pool.AddCert(cert)
	}
	if n == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate (want CERTIFICATE blocks)", path)
	}
	return pool, nil
}
