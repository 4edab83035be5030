//! Test certificates signed by the kubeadm-real fixture's own CA keys.
//!
//! The fixture CA keys are RSA keys in PKCS#1 form; rcgen with ring signs only with PKCS#8 keys,
//! so they are rewrapped first. A case may re-issue the CA certificate with other dates but the
//! same key and subject, so certificates with historical dates chain to it.

#![allow(dead_code)]

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256, SanType,
};
use time::OffsetDateTime;

/// A CA whose key is one of the fixture's.
pub struct TestCa {
    pub cert_pem: String,
    key: KeyPair,
}

/// A generated certificate and its private key, both PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Issued {
    /// Certificate then key in one file, as the kubelet's certificate store writes a pair.
    pub fn combined(&self) -> String {
        format!("{}{}", self.cert_pem, self.key_pem)
    }
}

impl TestCa {
    /// Loads `ca.crt` and `ca.key` (PKCS#1 RSA) from a PKI directory.
    pub fn load(pki_dir: &Path, name: &str) -> TestCa {
        let cert_pem = std::fs::read_to_string(pki_dir.join(format!("{name}.crt"))).unwrap();
        let key_pem = std::fs::read_to_string(pki_dir.join(format!("{name}.key"))).unwrap();
        TestCa {
            cert_pem,
            key: rsa_key_pair(&key_pem),
        }
    }

    /// Re-issues the CA certificate with new dates, keeping its key and subject.
    pub fn reissue(&mut self, common_name: &str, not_before: &str, not_after: &str) {
        let mut params = CertificateParams::default();
        params.distinguished_name = name(common_name, &[]);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.subject_alt_names = vec![SanType::DnsName(common_name.try_into().unwrap())];
        params.not_before = time_of(not_before);
        params.not_after = time_of(not_after);
        self.cert_pem = params.self_signed(&self.key).unwrap().pem();
    }

    /// Issues a client certificate with a fresh ECDSA P-256 key, as the kubelet requests.
    pub fn issue_client(
        &self,
        common_name: &str,
        organizations: &[&str],
        not_before: &str,
        not_after: &str,
    ) -> Issued {
        let mut params = CertificateParams::default();
        params.distinguished_name = name(common_name, organizations);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.not_before = time_of(not_before);
        params.not_after = time_of(not_after);

        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, &self.key).unwrap();
        let certificate = params.signed_by(&key, &issuer).unwrap();
        Issued {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

impl TestCa {
    /// Issues a server certificate for `dns_names` with a fresh ECDSA P-256 key.
    pub fn issue_server(
        &self,
        common_name: &str,
        dns_names: &[&str],
        not_before: &str,
        not_after: &str,
    ) -> Issued {
        let mut params = CertificateParams::default();
        params.distinguished_name = name(common_name, &[]);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.subject_alt_names = dns_names
            .iter()
            .map(|dns| SanType::DnsName((*dns).try_into().unwrap()))
            .collect();
        params.not_before = time_of(not_before);
        params.not_after = time_of(not_after);

        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, &self.key).unwrap();
        let certificate = params.signed_by(&key, &issuer).unwrap();
        Issued {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// Issues a self-signed CA unrelated to the fixture, for "signed by another cluster" cases.
pub fn foreign_ca(common_name: &str) -> TestCa {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name, &[]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = time_of("2015-01-01T00:00:00Z");
    params.not_after = time_of("2040-01-01T00:00:00Z");
    let cert_pem = params.self_signed(&key).unwrap().pem();
    TestCa { cert_pem, key }
}

fn name(common_name: &str, organizations: &[&str]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for organization in organizations {
        name.push(DnType::OrganizationName, *organization);
    }
    name.push(DnType::CommonName, common_name);
    name
}

/// Parses RFC 3339 with a trailing Z, such as 2022-03-01T14:19:03Z.
pub fn time_of(text: &str) -> OffsetDateTime {
    let seconds = text.parse::<jiff::Timestamp>().unwrap().as_second();
    OffsetDateTime::from_unix_timestamp(seconds).unwrap()
}

/// Rewraps a PKCS#1 RSA key as PKCS#8 and loads it for signing.
fn rsa_key_pair(pem: &str) -> KeyPair {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    use base64::Engine as _;
    let pkcs1 = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    // PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier rsaEncryption, OCTET STRING }
    let algorithm = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(&algorithm);
    body.extend(der_element(0x04, &pkcs1));
    let pkcs8_der = der_element(0x30, &body);
    let pkcs8_pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(pkcs8_der)
    );
    KeyPair::from_pkcs8_pem_and_sign_algo(&pkcs8_pem, &PKCS_RSA_SHA256).unwrap()
}

fn der_element(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut element = vec![tag];
    let length = content.len();
    if length < 0x80 {
        element.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        element.push(0x80 | bytes.len() as u8);
        element.extend(bytes);
    }
    element.extend_from_slice(content);
    element
}
