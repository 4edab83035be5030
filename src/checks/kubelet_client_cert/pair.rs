//! Loading a client certificate and its key, from kubelet.conf or from the certificate store.

use crate::host::{FileKind, Host, HostErrorKind, MAX_CONFIG_BYTES};
use crate::kube::cert::{Certificate, parse_pem_certificates};
use crate::kube::keys::{PublicKey, public_key_of};
use crate::kube::kubeconfig::{LoadedKubeconfig, Material, User, decode_data, is_inline_data};
use crate::kube::pem;

/// A client certificate with the public half of the key that goes with it.
#[derive(Clone, Debug)]
pub struct ClientPair {
    /// The host path of the certificate, or `PATH (client-certificate-data)` when embedded.
    pub source: String,
    pub certificate: Certificate,
    /// The key's public half, or why it could not be read. `None` when no key was named.
    pub key: Option<Result<PublicKey, String>>,
    pub key_source: Option<String>,
}

impl ClientPair {
    /// Returns whether the key is known not to belong to the certificate.
    pub fn key_mismatch(&self) -> bool {
        match (&self.key, &self.certificate.public_key) {
            (Some(Ok(key)), Some(certificate_key)) => key != certificate_key,
            _ => false,
        }
    }
}

/// Loads the current user's client pair from a kubeconfig.
pub fn from_kubeconfig(
    host: &dyn Host,
    kubeconfig: &LoadedKubeconfig,
    user: &User,
) -> Result<Option<ClientPair>, String> {
    let Some(cert_material) = kubeconfig.client_certificate(user) else {
        return Ok(None);
    };
    let (source, cert_bytes) = match &cert_material {
        Material::Embedded => {
            let data = user.client_certificate_data.as_deref().unwrap_or_default();
            let bytes = decode_data("client-certificate-data", data)
                .map_err(|error| format!("{}: {error}", kubeconfig.path))?;
            (
                format!("{} (client-certificate-data)", kubeconfig.path),
                bytes,
            )
        }
        Material::File(path) => (path.clone(), read(host, path)?),
    };
    let certificate = first_certificate(&source, &cert_bytes)?;

    let (key, key_source) = match kubeconfig.client_key(user) {
        None => (None, None),
        Some(Material::Embedded) => {
            let data = user.client_key_data.as_deref().unwrap_or_default();
            let key = decode_data("the embedded client key", data)
                .and_then(|bytes| key_from_pem(&bytes))
                .map_err(|error| format!("{} (embedded client key): {error}", kubeconfig.path));
            (
                Some(key),
                Some(format!("{} (embedded client key)", kubeconfig.path)),
            )
        }
        Some(Material::File(_)) if user.client_key.as_deref().is_some_and(is_inline_data) => {
            // The value is the private key itself, so it must not appear as a path in the report.
            let source = format!("{} (client-key)", kubeconfig.path);
            let error = format!(
                "{source}: contains key data instead of a file path; move the value to the \
                 field for embedded key data, or write the key to a file and name that file"
            );
            (Some(Err(error)), Some(source))
        }
        Some(Material::File(path)) => {
            let key = read(host, &path)
                .and_then(|bytes| key_from_pem(&bytes).map_err(|error| format!("{path}: {error}")));
            (Some(key), Some(path))
        }
    };

    Ok(Some(ClientPair {
        source,
        certificate,
        key,
        key_source,
    }))
}

/// Loads a combined certificate-and-key file as the kubelet's certificate store writes it.
pub fn from_pem_file(host: &dyn Host, path: &str) -> Result<ClientPair, String> {
    let bytes = read(host, path)?;
    let certificate = first_certificate(path, &bytes)?;
    let key = match key_from_pem(&bytes) {
        Ok(key) => Some(Ok(key)),
        Err(error) if error == NO_KEY => None,
        Err(error) => Some(Err(format!("{path}: {error}"))),
    };
    Ok(ClientPair {
        source: path.to_string(),
        certificate,
        key_source: key.as_ref().map(|_| path.to_string()),
        key,
    })
}

const NO_KEY: &str = "no private key block in the file";

fn read(host: &dyn Host, path: &str) -> Result<Vec<u8>, String> {
    host.read_file(path, MAX_CONFIG_BYTES)
        .map_err(|error| match error.kind {
            HostErrorKind::NotRegularFile(FileKind::Directory) => {
                format!("{path}: is a directory, but a PEM file is expected")
            }
            _ => error.to_string(),
        })
}

fn first_certificate(source: &str, bytes: &[u8]) -> Result<Certificate, String> {
    let certificates =
        parse_pem_certificates(bytes).map_err(|error| format!("{source}: {error}"))?;
    Ok(certificates
        .into_iter()
        .next()
        .expect("parse returns at least one certificate"))
}

fn key_from_pem(bytes: &[u8]) -> Result<PublicKey, String> {
    let blocks = pem::decode_all(bytes).map_err(|error| error.to_string())?;
    let block = blocks
        .iter()
        .find(|block| block.is_private_key() || block.label == "PUBLIC KEY")
        .ok_or_else(|| NO_KEY.to_string())?;
    public_key_of(block).map_err(|error| error.to_string())
}
