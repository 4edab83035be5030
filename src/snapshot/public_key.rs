//! Writes the public half of a private key as a PEM `PUBLIC KEY` block (X.509
//! SubjectPublicKeyInfo, RFC 5280 section 4.1), which is what `collect` stores in place of the key.

use base64::Engine as _;
use pkcs8::der::Decode;

use crate::kube::keys::KeyError;
use crate::kube::pem::PemBlock;

/// DER content bytes of rsaEncryption, 1.2.840.113549.1.1.1.
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// DER content bytes of id-ecPublicKey, 1.2.840.10045.2.1.
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// DER content bytes of id-Ed25519, 1.3.101.112.
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// Returns the DER SubjectPublicKeyInfo of a private key block (PKCS#1, SEC1 or PKCS#8).
pub fn public_key_der(block: &PemBlock) -> Result<Vec<u8>, KeyError> {
    let invalid = || KeyError::Invalid(block.label.clone());
    if block.encrypted {
        return Err(KeyError::Encrypted);
    }
    match block.label.as_str() {
        "RSA PRIVATE KEY" => {
            let key = pkcs1::RsaPrivateKey::from_der(&block.der).map_err(|_| invalid())?;
            Ok(rsa_spki(
                key.modulus.as_bytes(),
                key.public_exponent.as_bytes(),
            ))
        }
        "EC PRIVATE KEY" => {
            let key = sec1::EcPrivateKey::from_der(&block.der).map_err(|_| invalid())?;
            let curve = key
                .parameters
                .and_then(|parameters| parameters.named_curve())
                .ok_or_else(invalid)?;
            let point = key.public_key.ok_or(KeyError::EcWithoutPublicKey)?;
            Ok(ec_spki(curve.as_bytes(), point))
        }
        "PRIVATE KEY" => pkcs8_spki(&block.der).map_err(|error| match error {
            KeyError::Invalid(_) => invalid(),
            other => other,
        }),
        "ENCRYPTED PRIVATE KEY" => Err(KeyError::Encrypted),
        other => Err(KeyError::NotAKey(other.to_string())),
    }
}

/// Encodes DER as a PEM block with the given label, 64 characters a line.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

fn pkcs8_spki(der: &[u8]) -> Result<Vec<u8>, KeyError> {
    let invalid = || KeyError::Invalid("PRIVATE KEY".to_string());
    let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|_| invalid())?;
    let algorithm = info.algorithm.oid;

    match algorithm.as_bytes() {
        OID_RSA => {
            let key = pkcs1::RsaPrivateKey::from_der(info.private_key).map_err(|_| invalid())?;
            Ok(rsa_spki(
                key.modulus.as_bytes(),
                key.public_exponent.as_bytes(),
            ))
        }
        OID_EC => {
            let key = sec1::EcPrivateKey::from_der(info.private_key).map_err(|_| invalid())?;
            // The curve is in the PKCS#8 algorithm parameters, or else in the SEC1 key.
            let curve = info
                .algorithm
                .parameters_oid()
                .ok()
                .or_else(|| key.parameters.and_then(|p| p.named_curve()))
                .ok_or_else(invalid)?;
            let point = key
                .public_key
                .or(info.public_key)
                .ok_or(KeyError::EcWithoutPublicKey)?;
            Ok(ec_spki(curve.as_bytes(), point))
        }
        OID_ED25519 => {
            // The private key is an OCTET STRING holding the 32-byte seed.
            let seed = info.private_key.get(2..).ok_or_else(invalid)?;
            let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed)
                .map_err(|_| invalid())?;
            use ring::signature::KeyPair as _;
            let algorithm = sequence(&[tlv(0x06, OID_ED25519)]);
            Ok(spki(&algorithm, pair.public_key().as_ref()))
        }
        _ => Err(KeyError::Unsupported(algorithm.to_string())),
    }
}

fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let algorithm = sequence(&[tlv(0x06, OID_RSA), tlv(0x05, &[])]);
    let key = sequence(&[integer(modulus), integer(exponent)]);
    spki(&algorithm, &key)
}

fn ec_spki(curve_oid: &[u8], point: &[u8]) -> Vec<u8> {
    let algorithm = sequence(&[tlv(0x06, OID_EC), tlv(0x06, curve_oid)]);
    spki(&algorithm, point)
}

fn spki(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend_from_slice(key);
    sequence(&[algorithm.to_vec(), tlv(0x03, &bits)])
}

/// Encodes an unsigned big-endian integer, adding a zero byte when the top bit is set.
fn integer(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let trimmed = &bytes[start..];
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(0x02, &content)
}

fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = length.to_be_bytes();
        let skip = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::keys::public_key_of;
    use crate::kube::pem::decode_all;

    fn round_trip(private_pem: &str) {
        let block = decode_all(private_pem.as_bytes()).unwrap().remove(0);
        let der = public_key_der(&block).unwrap();
        let public = decode_all(to_pem("PUBLIC KEY", &der).as_bytes())
            .unwrap()
            .remove(0);
        assert_eq!(
            public_key_of(&public).unwrap(),
            public_key_of(&block).unwrap()
        );
    }

    #[test]
    fn rsa_pkcs1_key_matches() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/kubeadm-real/rootfs/etc/kubernetes/pki/ca.key"
        );
        round_trip(&std::fs::read_to_string(path).unwrap());
    }

    #[test]
    fn ec_and_ed25519_keys_match() {
        let rng = ring::rand::SystemRandom::new();
        let p256 = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &rng,
        )
        .unwrap();
        round_trip(&to_pem("PRIVATE KEY", p256.as_ref()));
        let ed = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        round_trip(&to_pem("PRIVATE KEY", ed.as_ref()));
    }
}
