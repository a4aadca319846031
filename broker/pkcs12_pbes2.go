package broker

import (
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
)

// PKCS#12 stores encrypted with PBES2 (RFC 7292 with RFC 8018 schemes), the
// default of openssl 3 and of keytool since JDK 12: AES-CBC with a PBKDF2
// key for both the certificates and the shrouded key. The store's MAC is
// not checked here; a wrong password fails the decryption instead.

var (
	oidData                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidPKCS8ShroudedKeyBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509Certificate     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
)

type pfx struct {
	Version  int
	AuthSafe contentInfo
	MacData  asn1.RawValue `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type encryptedData struct {
	Version              int
	EncryptedContentInfo encryptedContentInfo
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm algorithmIdentifier
	EncryptedContent           asn1.RawValue `asn1:"optional,tag:0"`
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue `asn1:"explicit,tag:0"`
	Attributes asn1.RawValue `asn1:"optional"`
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"explicit,tag:0"`
}

// pkcs12PBES2Blocks reads a PBES2 PKCS#12 store into CERTIFICATE and
// PRIVATE KEY blocks.
func pkcs12PBES2Blocks(data []byte, password string) ([]*pem.Block, error) {
	var p pfx
	if _, err := asn1.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("not a PKCS12 store: %w", err)
	}
	if !p.AuthSafe.ContentType.Equal(oidData) {
		return nil, errors.New("PKCS12 store is not password-protected data")
	}
	var authSafe []byte
	if _, err := asn1.Unmarshal(p.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, fmt.Errorf("PKCS12 content: %w", err)
	}
	var infos []contentInfo
	if _, err := asn1.Unmarshal(authSafe, &infos); err != nil {
		return nil, fmt.Errorf("PKCS12 content: %w", err)
	}
	var out []*pem.Block
	for _, ci := range infos {
		var contents []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &contents); err != nil {
				return nil, fmt.Errorf("PKCS12 data: %w", err)
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed encryptedData
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				return nil, fmt.Errorf("PKCS12 encrypted data: %w", err)
			}
			eci := ed.EncryptedContentInfo
			var err error
			if contents, err = pbes2Decrypt(eci.ContentEncryptionAlgorithm, eci.EncryptedContent.Bytes, password); err != nil {
				return nil, err
			}
		default:
			continue
		}
		blocks, err := safeBagBlocks(contents, password)
		if err != nil {
			return nil, err
		}
		out = append(out, blocks...)
	}
	return out, nil
}

func safeBagBlocks(contents []byte, password string) ([]*pem.Block, error) {
	var bags []safeBag
	if _, err := asn1.Unmarshal(contents, &bags); err != nil {
		return nil, fmt.Errorf("PKCS12 bags: %w", err)
	}
	var out []*pem.Block
	for _, bag := range bags {
		switch {
		case bag.ID.Equal(oidCertBag):
			var cb certBag
			if _, err := asn1.Unmarshal(bag.Value.Bytes, &cb); err != nil {
				return nil, fmt.Errorf("PKCS12 certificate: %w", err)
			}
			if cb.ID.Equal(oidX509Certificate) {
				out = append(out, &pem.Block{Type: "CERTIFICATE", Bytes: cb.Data})
			}
		case bag.ID.Equal(oidPKCS8ShroudedKeyBag):
			der, err := decryptPKCS8(bag.Value.Bytes, password)
			if err != nil {
				return nil, err
			}
			out = append(out, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
		case bag.ID.Equal(oidKeyBag):
			out = append(out, &pem.Block{Type: "PRIVATE KEY", Bytes: bag.Value.Bytes})
		}
	}
	return out, nil
}
