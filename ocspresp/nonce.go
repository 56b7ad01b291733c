package ocspresp

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"time"
)

// The nonce (RFC 6960 4.4.1, RFC 9654) binds a response to its request. It
// travels in the request's requestExtensions and the response's
// responseExtensions, neither of which golang.org/x/crypto/ocsp reads or
// writes (ParseRequest drops the request's extensions, CreateResponse puts
// ExtraExtensions in the singleExtensions; golang/go#20001 was declined).
// So this file does the two missing steps by hand, with encoding/asn1 and
// the RFC's ASN.1: it reads the nonce from a request, and adds
// responseExtensions to a response x/crypto built, then signs it.

// oidNonce is id-pkix-ocsp-nonce.
var oidNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

// nonceOIDDER is oidNonce as DER: a request without these bytes has no
// nonce, and is not parsed a second time.
var nonceOIDDER = []byte{0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02}

// maxNonce is the longest nonce accepted, in octets: RFC 9654 section 2.1
// ("The minimum nonce length is 1 octet, and the maximum nonce length is
// 128 octets").
const maxNonce = 128

// requestWithExtensions is OCSPRequest (RFC 6960 4.1.1) down to the
// requestExtensions: what x/crypto's ocspRequest leaves out.
type requestWithExtensions struct {
	TBSRequest struct {
		Version           int           `asn1:"explicit,tag:0,default:0,optional"`
		RequestorName     asn1.RawValue `asn1:"explicit,tag:1,optional"`
		RequestList       asn1.RawValue
		RequestExtensions []pkix.Extension `asn1:"explicit,tag:2,optional"`
	}
	OptionalSignature asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

// errBadNonce is a nonce of no octets or more than maxNonce: RFC 9654
// section 2.1 has the responder answer malformedRequest.
var errBadNonce = errors.New("nonce length out of range")

// requestNonce returns the request's nonce extension, nil when it has
// none, or errBadNonce.
func requestNonce(der []byte) (*pkix.Extension, error) {
	if !bytes.Contains(der, nonceOIDDER) {
		return nil, nil
	}
	var req requestWithExtensions
	if _, err := asn1.Unmarshal(der, &req); err != nil {
		return nil, err
	}
	for i, ext := range req.TBSRequest.RequestExtensions {
		if !ext.Id.Equal(oidNonce) {
			continue
		}
		// extnValue holds the DER of Nonce ::= OCTET STRING (RFC 9654);
		// some older clients put the bare octets there instead.
		n := len(ext.Value)
		var inner []byte
		if rest, err := asn1.Unmarshal(ext.Value, &inner); err == nil && len(rest) == 0 {
			n = len(inner)
		}
		if n == 0 || n > maxNonce {
			return nil, errBadNonce
		}
		// Echoed as sent; a critical flag is not ours to keep.
		e := req.TBSRequest.RequestExtensions[i]
		e.Critical = false
		return &e, nil
	}
	return nil, nil
}

// The RFC 6960 4.2.1 structures of a response, as far as adding
// responseExtensions needs them: everything else is kept as raw DER.
type (
	responseASN1 struct {
		Status   asn1.Enumerated
		Response responseBytes `asn1:"explicit,tag:0,optional"`
	}
	responseBytes struct {
		ResponseType asn1.ObjectIdentifier
		Response     []byte
	}
	basicResponse struct {
		TBSResponseData    asn1.RawValue
		SignatureAlgorithm pkix.AlgorithmIdentifier
		Signature          asn1.BitString
		Certificates       []asn1.RawValue `asn1:"explicit,tag:0,optional"`
	}
	responseData struct {
		Version            int `asn1:"optional,default:0,explicit,tag:0"`
		RawResponderID     asn1.RawValue
		ProducedAt         time.Time `asn1:"generalized"`
		Responses          asn1.RawValue
		ResponseExtensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
	}
)

// signatureHashes are the hashes of the signature algorithms x/crypto
// signs responses with (its signingParamsForPublicKey).
var signatureHashes = map[string]crypto.Hash{
	"1.2.840.113549.1.1.11": crypto.SHA256, // sha256WithRSAEncryption
	"1.2.840.113549.1.1.12": crypto.SHA384,
	"1.2.840.113549.1.1.13": crypto.SHA512,
	"1.2.840.10045.4.3.2":   crypto.SHA256, // ecdsa-with-SHA256
	"1.2.840.10045.4.3.3":   crypto.SHA384,
	"1.2.840.10045.4.3.4":   crypto.SHA512,
}

// withResponseExtensions adds exts to the responseExtensions of a response
// that x/crypto/ocsp's CreateResponse built (signed by unsigned, below,
// so no signature is wasted), and signs it with key.
func withResponseExtensions(der []byte, exts []pkix.Extension, key crypto.Signer) ([]byte, error) {
	var outer responseASN1
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, fmt.Errorf("ocsp: re-reading the response: %w", err)
	}
	var basic basicResponse
	if _, err := asn1.Unmarshal(outer.Response.Response, &basic); err != nil {
		return nil, fmt.Errorf("ocsp: re-reading the response: %w", err)
	}
	var tbs responseData
	if _, err := asn1.Unmarshal(basic.TBSResponseData.FullBytes, &tbs); err != nil {
		return nil, fmt.Errorf("ocsp: re-reading the response: %w", err)
	}
	tbs.ResponseExtensions = exts
	tbsDER, err := asn1.Marshal(tbs)
	if err != nil {
		return nil, err
	}
	hash, ok := signatureHashes[basic.SignatureAlgorithm.Algorithm.String()]
	if !ok {
		return nil, fmt.Errorf("ocsp: unexpected signature algorithm %s", basic.SignatureAlgorithm.Algorithm)
	}
	h := hash.New()
	h.Write(tbsDER)
	sig, err := key.Sign(rand.Reader, h.Sum(nil), hash)
	if err != nil {
		return nil, err
	}
	basic.TBSResponseData = asn1.RawValue{FullBytes: tbsDER}
	basic.Signature = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	if outer.Response.Response, err = asn1.Marshal(basic); err != nil {
		return nil, err
	}
	return asn1.Marshal(outer)
}

// unsigned stands in for the responder's key while x/crypto builds a
// response that withResponseExtensions will sign: it has the key's public
// half (which decides the signature algorithm) and signs nothing.
type unsigned struct{ pub crypto.PublicKey }

func (u unsigned) Public() crypto.PublicKey { return u.pub }

func (u unsigned) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, nil }
