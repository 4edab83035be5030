//! X.509 certificates reduced to the facts checks compare: names, validity, usage and keys.

use jiff::{SignedDuration, Timestamp};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{ExtendedKeyUsage, GeneralName, KeyUsage, ParsedExtension};
use x509_parser::prelude::FromDer;

use super::keys::PublicKey;
use super::pem::{self, PemError};

/// A parsed certificate. The DER is kept so that signatures can be verified later.
#[derive(Clone, Debug)]
pub struct Certificate {
    pub der: Vec<u8>,
    pub subject: String,
    pub common_name: Option<String>,
    pub organizations: Vec<String>,
    pub issuer: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub is_ca: bool,
    /// The KeyUsage bits by their RFC 5280 names, such as `digitalSignature`, or `None` when
    /// the certificate has no KeyUsage extension.
    pub key_usage: Option<Vec<&'static str>>,
    /// The ExtendedKeyUsage purposes (`serverAuth`, `clientAuth`, `any`, or an OID), or `None`
    /// when the certificate has no ExtendedKeyUsage extension.
    pub extended_key_usage: Option<Vec<String>>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub public_key: Option<PublicKey>,
    /// SHA-256 of the whole certificate, as `openssl x509 -fingerprint -sha256` prints it.
    pub fingerprint: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error(transparent)]
    Pem(#[from] PemError),
    #[error("no CERTIFICATE block in the file (found {0})")]
    NoCertificate(String),
    #[error("certificate {index} is not valid X.509: {message}")]
    Invalid { index: usize, message: String },
}

impl Certificate {
    pub fn from_der(der: &[u8]) -> Result<Certificate, String> {
        let (_, parsed) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        Ok(Certificate::from_parsed(&parsed, der))
    }

    fn from_parsed(parsed: &X509Certificate<'_>, der: &[u8]) -> Certificate {
        let subject = parsed.subject();
        let common_name = subject
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string);
        let organizations = subject
            .iter_organization()
            .filter_map(|o| o.as_str().ok())
            .map(str::to_string)
            .collect();

        let mut dns_names = Vec::new();
        let mut ip_addresses = Vec::new();
        let mut is_ca = false;
        let mut key_usage = None;
        let mut extended_key_usage = None;
        for extension in parsed.extensions() {
            match extension.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        match name {
                            GeneralName::DNSName(dns) => dns_names.push(dns.to_string()),
                            GeneralName::IPAddress(bytes) => {
                                if let Some(ip) = ip_from_bytes(bytes) {
                                    ip_addresses.push(ip);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                ParsedExtension::BasicConstraints(constraints) => is_ca = constraints.ca,
                ParsedExtension::KeyUsage(usage) => key_usage = Some(key_usage_names(usage)),
                ParsedExtension::ExtendedKeyUsage(usage) => {
                    extended_key_usage = Some(extended_key_usage_names(usage));
                }
                _ => {}
            }
        }

        let validity = parsed.validity();
        Certificate {
            der: der.to_vec(),
            subject: subject.to_string(),
            common_name,
            organizations,
            issuer: parsed.issuer().to_string(),
            not_before: to_timestamp(validity.not_before.timestamp()),
            not_after: to_timestamp(validity.not_after.timestamp()),
            is_ca,
            key_usage,
            extended_key_usage,
            dns_names,
            ip_addresses,
            public_key: PublicKey::from_spki(parsed.public_key()),
            fingerprint: sha256_hex(der),
        }
    }

    /// Returns the whole validity period.
    pub fn lifetime(&self) -> SignedDuration {
        self.not_after.duration_since(self.not_before)
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        now > self.not_after
    }

    pub fn is_not_yet_valid(&self, now: Timestamp) -> bool {
        now < self.not_before
    }

    /// Returns the fraction of the lifetime that has passed at `now`, from 0.0 up.
    pub fn elapsed_fraction(&self, now: Timestamp) -> f64 {
        let lifetime = self.lifetime().as_secs_f64();
        if lifetime <= 0.0 {
            return 1.0;
        }
        now.duration_since(self.not_before).as_secs_f64() / lifetime
    }

    /// Returns whether `issuer` signed this certificate: the names match and the signature
    /// verifies with the issuer's public key.
    pub fn is_signed_by(&self, issuer: &Certificate) -> bool {
        if self.issuer != issuer.subject {
            return false;
        }
        let (Ok((_, child)), Ok((_, parent))) = (
            X509Certificate::from_der(&self.der),
            X509Certificate::from_der(&issuer.der),
        ) else {
            return false;
        };
        match child.verify_signature(Some(parent.public_key())) {
            Ok(()) => true,
            Err(error) => {
                tracing::debug!(subject = %self.subject, issuer = %issuer.subject, %error, "signature does not verify");
                false
            }
        }
    }
}

/// Parses every certificate in a PEM file. Private keys in the same file are skipped.
pub fn parse_pem_certificates(data: &[u8]) -> Result<Vec<Certificate>, CertError> {
    let blocks = pem::decode_all(data)?;
    let mut certificates = Vec::new();
    for block in blocks.iter().filter(|b| b.label == "CERTIFICATE") {
        let certificate =
            Certificate::from_der(&block.der).map_err(|message| CertError::Invalid {
                index: certificates.len() + 1,
                message,
            })?;
        certificates.push(certificate);
    }
    if certificates.is_empty() {
        let labels: Vec<&str> = blocks.iter().map(|b| b.label.as_str()).collect();
        return Err(CertError::NoCertificate(labels.join(", ")));
    }
    Ok(certificates)
}

fn key_usage_names(usage: &KeyUsage) -> Vec<&'static str> {
    let bits = [
        (usage.digital_signature(), "digitalSignature"),
        (usage.non_repudiation(), "contentCommitment"),
        (usage.key_encipherment(), "keyEncipherment"),
        (usage.data_encipherment(), "dataEncipherment"),
        (usage.key_agreement(), "keyAgreement"),
        (usage.key_cert_sign(), "keyCertSign"),
        (usage.crl_sign(), "cRLSign"),
        (usage.encipher_only(), "encipherOnly"),
        (usage.decipher_only(), "decipherOnly"),
    ];
    bits.iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| *name)
        .collect()
}

fn extended_key_usage_names(usage: &ExtendedKeyUsage<'_>) -> Vec<String> {
    let mut names = Vec::new();
    let known = [
        (usage.any, "any"),
        (usage.server_auth, "serverAuth"),
        (usage.client_auth, "clientAuth"),
        (usage.code_signing, "codeSigning"),
        (usage.email_protection, "emailProtection"),
        (usage.time_stamping, "timeStamping"),
        (usage.ocsp_signing, "OCSPSigning"),
    ];
    for (set, name) in known {
        if set {
            names.push(name.to_string());
        }
    }
    names.extend(usage.other.iter().map(|oid| oid.to_id_string()));
    names
}

fn to_timestamp(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(if seconds < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

fn ip_from_bytes(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string()),
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            Some(std::net::Ipv6Addr::from(octets).to_string())
        }
        _ => None,
    }
}

/// Returns the SHA-256 digest as lowercase hex, prefixed `sha256:`.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut hex = String::from("sha256:");
    for byte in digest.as_ref() {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}
