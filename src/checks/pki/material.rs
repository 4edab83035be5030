//! Reading certificates and keys for the pki check: PEM files that may hold a chain, keys in
//! any of the forms Kubernetes accepts, and the pair embedded in a kubeconfig.
//!
//! Missing and unreadable certificates are left to `cert-expiry`, which reports both; here they
//! only make a row skip, with a log line.

use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::kube::cert::{Certificate, parse_pem_certificates};
use crate::kube::keys::{PublicKey, public_key_of};
use crate::kube::kubeconfig::{LoadedKubeconfig, Material, decode_data};
use crate::kube::pem;

/// A certificate file: the leaf first, then any intermediates that came with it.
#[derive(Clone, Debug)]
pub struct CertificateFile {
    pub path: String,
    pub chain: Vec<Certificate>,
}

impl CertificateFile {
    pub fn leaf(&self) -> &Certificate {
        &self.chain[0]
    }
}

/// A certificate with the public half of the key that is used with it.
#[derive(Clone, Debug)]
pub struct Pair {
    pub certificate: CertificateFile,
    pub key_source: String,
    /// The key's public half, or why it could not be read.
    pub key: Result<PublicKey, String>,
}

/// Reads a PEM certificate file. Returns `None` when it is missing or unreadable.
pub fn read_certificate(host: &dyn Host, path: &str) -> Option<CertificateFile> {
    let bytes = match host.read_file(path, MAX_CONFIG_BYTES) {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::debug!(%error, "certificate not read");
            return None;
        }
    };
    match parse_pem_certificates(&bytes) {
        Ok(chain) => Some(CertificateFile {
            path: path.to_string(),
            chain,
        }),
        Err(error) => {
            tracing::debug!(path, %error, "certificate not parsed");
            None
        }
    }
}

/// Reads a certificate and its key file.
pub fn read_pair(host: &dyn Host, certificate: &str, key: &str) -> Option<Pair> {
    let certificate = read_certificate(host, certificate)?;
    let key_result = host
        .read_file(key, MAX_CONFIG_BYTES)
        .map_err(|error| error.to_string())
        .and_then(|bytes| first_key(&bytes).map_err(|error| format!("{key}: {error}")));
    Some(Pair {
        certificate,
        key_source: key.to_string(),
        key: key_result,
    })
}

/// Reads the client certificate and key of a kubeconfig's current user.
pub fn read_kubeconfig_pair(host: &dyn Host, path: &str) -> Option<Pair> {
    let kubeconfig = match LoadedKubeconfig::read(host, path) {
        Ok(kubeconfig) => kubeconfig,
        Err(error) => {
            tracing::debug!(%error, "kubeconfig not read");
            return None;
        }
    };
    let current = kubeconfig.current().ok()?;
    let certificate_pem = match kubeconfig.client_certificate(current.user)? {
        Material::Embedded => {
            let data = current.user.client_certificate_data.as_deref()?;
            decode_data("client-certificate-data", data).ok()?
        }
        Material::File(file) => host.read_file(&file, MAX_CONFIG_BYTES).ok()?,
    };
    let chain = parse_pem_certificates(&certificate_pem).ok()?;

    let (key_source, key) = match kubeconfig.client_key(current.user) {
        Some(Material::Embedded) => {
            let data = current.user.client_key_data.as_deref().unwrap_or_default();
            let key =
                decode_data("the embedded client key", data).and_then(|bytes| first_key(&bytes));
            (format!("{path} (embedded client key)"), key)
        }
        Some(Material::File(file)) => {
            let key = host
                .read_file(&file, MAX_CONFIG_BYTES)
                .map_err(|error| error.to_string())
                .and_then(|bytes| first_key(&bytes));
            (file, key)
        }
        None => (
            path.to_string(),
            Err("the user has no client key".to_string()),
        ),
    };
    Some(Pair {
        certificate: CertificateFile {
            path: path.to_string(),
            chain,
        },
        key_source,
        key,
    })
}

/// Returns the public half of the first key in a PEM file.
pub fn first_key(bytes: &[u8]) -> Result<PublicKey, String> {
    let blocks = pem::decode_all(bytes).map_err(|error| error.to_string())?;
    let block = blocks
        .iter()
        .find(|block| block.is_private_key() || block.label.ends_with("PUBLIC KEY"))
        .ok_or("no key block in the file")?;
    key_of_block(block)
}

/// Returns every public key in a PEM file: public keys, the public half of private keys and
/// the keys of certificates, as the API server's --service-account-key-file accepts them.
pub fn all_keys(bytes: &[u8]) -> Result<Vec<PublicKey>, String> {
    let blocks = pem::decode_all(bytes).map_err(|error| error.to_string())?;
    let mut keys = Vec::new();
    for block in &blocks {
        if block.label == "CERTIFICATE" {
            let certificate = Certificate::from_der(&block.der)?;
            keys.extend(certificate.public_key);
        } else if block.is_private_key() || block.label.ends_with("PUBLIC KEY") {
            keys.push(key_of_block(block)?);
        }
    }
    Ok(keys)
}

/// Reads a key block, including the PKCS#1 `RSA PUBLIC KEY` form that keys.rs does not cover.
fn key_of_block(block: &pem::PemBlock) -> Result<PublicKey, String> {
    if block.label == "RSA PUBLIC KEY" {
        use pkcs8::der::Decode;
        let key = pkcs1::RsaPublicKey::from_der(&block.der)
            .map_err(|_| "the RSA PUBLIC KEY block is not a valid key".to_string())?;
        return Ok(PublicKey::from_rsa_parts(
            key.modulus.as_bytes(),
            key.public_exponent.as_bytes(),
        ));
    }
    public_key_of(block).map_err(|error| error.to_string())
}
