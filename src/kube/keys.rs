//! Public keys of certificates and private keys, compared to tell whether a pair belongs together.
//!
//! A private key is reduced to its public half, so a key file and the public key that `node-doctor
//! collect` puts in its place compare the same. Fingerprints are SHA-256 over the public key, so
//! evidence can name a key without revealing it.

use pkcs8::der::Decode;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey as ParsedKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::cert::sha256_hex;
use super::pem::PemBlock;

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";

/// The public half of a key pair, in a form that compares equal for the same key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    Ec { point: Vec<u8> },
    Ed25519 { key: Vec<u8> },
}

impl PublicKey {
    pub fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Option<PublicKey> {
        match spki.parsed().ok()? {
            ParsedKey::RSA(rsa) => Some(PublicKey::rsa(rsa.modulus, rsa.exponent)),
            ParsedKey::EC(point) => Some(PublicKey::Ec {
                point: point.data().to_vec(),
            }),
            _ if spki.algorithm.algorithm.to_id_string() == OID_ED25519 => {
                Some(PublicKey::Ed25519 {
                    key: spki.subject_public_key.data.to_vec(),
                })
            }
            _ => None,
        }
    }

    /// Builds an RSA public key from its big-endian modulus and exponent.
    pub fn from_rsa_parts(modulus: &[u8], exponent: &[u8]) -> PublicKey {
        PublicKey::rsa(modulus, exponent)
    }

    fn rsa(modulus: &[u8], exponent: &[u8]) -> PublicKey {
        PublicKey::Rsa {
            modulus: strip_leading_zeros(modulus).to_vec(),
            exponent: strip_leading_zeros(exponent).to_vec(),
        }
    }

    /// Returns a SHA-256 fingerprint of the public key material, safe to print.
    pub fn fingerprint(&self) -> String {
        match self {
            PublicKey::Rsa { modulus, exponent } => {
                let mut material = modulus.clone();
                material.extend_from_slice(exponent);
                sha256_hex(&material)
            }
            PublicKey::Ec { point } => sha256_hex(point),
            PublicKey::Ed25519 { key } => sha256_hex(key),
        }
    }

    pub fn algorithm(&self) -> String {
        match self {
            PublicKey::Rsa { modulus, .. } => format!("RSA {} bits", modulus.len() * 8),
            PublicKey::Ec { .. } => "ECDSA".to_string(),
            PublicKey::Ed25519 { .. } => "Ed25519".to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("{0} is not a key block")]
    NotAKey(String),
    #[error("the {0} block is not a valid key")]
    Invalid(String),
    #[error("the key is encrypted; Kubernetes components cannot use encrypted keys")]
    Encrypted,
    #[error("unsupported key algorithm {0}")]
    Unsupported(String),
    #[error("the EC private key does not carry its public key, so it cannot be matched")]
    EcWithoutPublicKey,
}

/// Derives the public key from a private key block (PKCS#1, SEC1, PKCS#8) or reads a
/// `PUBLIC KEY` block as written by `node-doctor collect`.
pub fn public_key_of(block: &PemBlock) -> Result<PublicKey, KeyError> {
    let invalid = || KeyError::Invalid(block.label.clone());
    if block.encrypted {
        return Err(KeyError::Encrypted);
    }
    match block.label.as_str() {
        "RSA PRIVATE KEY" => {
            let key = pkcs1::RsaPrivateKey::from_der(&block.der).map_err(|_| invalid())?;
            Ok(PublicKey::rsa(
                key.modulus.as_bytes(),
                key.public_exponent.as_bytes(),
            ))
        }
        "EC PRIVATE KEY" => {
            let key = sec1::EcPrivateKey::from_der(&block.der).map_err(|_| invalid())?;
            let point = key.public_key.ok_or(KeyError::EcWithoutPublicKey)?;
            Ok(PublicKey::Ec {
                point: point.to_vec(),
            })
        }
        "PRIVATE KEY" => pkcs8_public_key(&block.der).map_err(|error| match error {
            KeyError::Invalid(_) => invalid(),
            other => other,
        }),
        "ENCRYPTED PRIVATE KEY" => Err(KeyError::Encrypted),
        "PUBLIC KEY" => {
            let (_, spki) = SubjectPublicKeyInfo::from_der(&block.der).map_err(|_| invalid())?;
            PublicKey::from_spki(&spki)
                .ok_or_else(|| KeyError::Unsupported(spki.algorithm.algorithm.to_id_string()))
        }
        other => Err(KeyError::NotAKey(other.to_string())),
    }
}

fn pkcs8_public_key(der: &[u8]) -> Result<PublicKey, KeyError> {
    let invalid = || KeyError::Invalid("PRIVATE KEY".to_string());
    let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|_| invalid())?;
    let algorithm = info.algorithm.oid.to_string();

    match algorithm.as_str() {
        OID_RSA => {
            let key = pkcs1::RsaPrivateKey::from_der(info.private_key).map_err(|_| invalid())?;
            Ok(PublicKey::rsa(
                key.modulus.as_bytes(),
                key.public_exponent.as_bytes(),
            ))
        }
        OID_EC => {
            let key = sec1::EcPrivateKey::from_der(info.private_key).map_err(|_| invalid())?;
            let point = key
                .public_key
                .or(info.public_key)
                .ok_or(KeyError::EcWithoutPublicKey)?;
            Ok(PublicKey::Ec {
                point: point.to_vec(),
            })
        }
        OID_ED25519 => {
            // The private key is an OCTET STRING holding the 32-byte seed.
            let seed = info.private_key.get(2..).ok_or_else(invalid)?;
            let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed)
                .map_err(|_| invalid())?;
            use ring::signature::KeyPair as _;
            Ok(PublicKey::Ed25519 {
                key: pair.public_key().as_ref().to_vec(),
            })
        }
        other => Err(KeyError::Unsupported(other.to_string())),
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}
