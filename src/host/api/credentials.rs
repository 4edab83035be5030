//! The server URL, CA and credentials an API request is sent with, read from a kubeconfig.
//!
//! A kubeconfig is a host path read under the root, and so are the files it names: a
//! `client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem` in /host/etc/kubernetes/
//! kubelet.conf is read from /host/var/lib/kubelet/pki. Relative paths are relative to the
//! kubeconfig's folder, as kubectl resolves them.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::host::{HostError, HostErrorKind, RootFs};
use crate::kube::kubeconfig::{LoadedKubeconfig, Material, User, decode_data};

/// Cap on the kubeconfig, certificate, key and token files read for an API request.
const MAX_CREDENTIAL_FILE: u64 = 1024 * 1024;

pub type ClientIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// A bearer token. It is never printed: `Debug` shows only its length.
#[derive(Clone)]
pub struct BearerToken(String);

impl BearerToken {
    pub fn new(token: &str) -> Option<BearerToken> {
        let token = token.trim();
        (!token.is_empty()).then(|| BearerToken(token.to_string()))
    }

    pub fn header_value(&self) -> Result<reqwest::header::HeaderValue, String> {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.0))
            .map_err(|_| "the bearer token contains characters an HTTP header cannot carry")?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BearerToken({} characters)", self.0.len())
    }
}

/// Everything needed to reach the API server and prove who is asking.
pub struct Credentials {
    pub server: String,
    pub roots: rustls::RootCertStore,
    pub identity: Option<ClientIdentity>,
    pub token: Option<BearerToken>,
    /// A description of these credentials for error messages: the kind, the user or
    /// certificate subject, and the source file. It contains no secret material.
    pub origin: String,
}

impl Credentials {
    /// Reads the current context of the kubeconfig at `path`. `role` is the reason this
    /// kubeconfig was chosen, such as "--kubeconfig", and appears in `origin`.
    pub fn from_kubeconfig(
        rootfs: &RootFs,
        path: &str,
        role: &str,
    ) -> Result<Credentials, HostError> {
        let invalid = |why: String| HostError::new(path, HostErrorKind::RequestFailed(why));
        let text = rootfs.read_file(path, MAX_CREDENTIAL_FILE)?;
        let kubeconfig = LoadedKubeconfig::parse(path, &String::from_utf8_lossy(&text))
            .map_err(|error| invalid(error.to_string()))?;
        let current = kubeconfig
            .current()
            .map_err(|error| invalid(error.to_string()))?;
        let cluster = current
            .cluster
            .ok_or_else(|| invalid("the current context names no cluster".to_string()))?;
        let server = cluster
            .server
            .clone()
            .filter(|server| !server.is_empty())
            .ok_or_else(|| invalid("the cluster has no server URL".to_string()))?;

        let ca_pem = match (
            &cluster.certificate_authority_data,
            &cluster.certificate_authority,
        ) {
            (Some(data), _) if !data.is_empty() => {
                decode_data("certificate-authority-data", data).map_err(invalid)?
            }
            (_, Some(file)) if !file.is_empty() => {
                rootfs.read_file(&kubeconfig.resolve_path(file), MAX_CREDENTIAL_FILE)?
            }
            _ => {
                return Err(invalid(
                    "the cluster has no certificate authority, and node-doctor does not skip server verification".to_string(),
                ));
            }
        };
        let roots = root_store(&ca_pem).map_err(invalid)?;

        let user = current.user;
        let identity = read_identity(rootfs, &kubeconfig, user)?;
        let token = read_token(rootfs, &kubeconfig, user)?;
        let kind = match (&identity, &token) {
            (Some((chain, _)), _) => format!("client certificate {}", subject_of(chain)),
            (None, Some(_)) => "bearer token".to_string(),
            (None, None) if user.exec.is_some() || user.auth_provider.is_some() => {
                return Err(invalid(format!(
                    "user {:?} gets its credentials from an exec or auth-provider plugin, which node-doctor does not run; pass --kubeconfig with a client certificate or token",
                    current.user_name
                )));
            }
            (None, None) => {
                return Err(invalid(format!(
                    "user {:?} has no client certificate and no token",
                    current.user_name
                )));
            }
        };
        Ok(Credentials {
            server,
            roots,
            identity,
            token,
            origin: format!(
                "{kind} of user {:?} from {path} ({role})",
                current.user_name
            ),
        })
    }
}

/// Builds a root store from every certificate in a PEM bundle.
pub fn root_store(ca_pem: &[u8]) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(ca_pem) {
        let certificate = certificate.map_err(|error| format!("CA: {error}"))?;
        roots
            .add(certificate)
            .map_err(|error| format!("CA: {error}"))?;
    }
    if roots.is_empty() {
        return Err("the CA bundle contains no certificate".to_string());
    }
    Ok(roots)
}

/// Reads the client certificate and key, embedded or from files. A user with neither has
/// no identity; a user with only one of them is an error.
fn read_identity(
    rootfs: &RootFs,
    kubeconfig: &LoadedKubeconfig,
    user: &User,
) -> Result<Option<ClientIdentity>, HostError> {
    let path = kubeconfig.path.as_str();
    let invalid = |why: String| HostError::new(path, HostErrorKind::RequestFailed(why));
    let certificate = kubeconfig.client_certificate(user);
    let key = kubeconfig.client_key(user);
    if certificate.is_none() && key.is_none() {
        return Ok(None);
    }
    let read = |material: Option<Material>, data: &Option<String>, field: &str| match material {
        Some(Material::Embedded) => {
            decode_data(field, data.as_deref().unwrap_or_default()).map_err(invalid)
        }
        Some(Material::File(file)) => rootfs.read_file(&file, MAX_CREDENTIAL_FILE),
        None => Err(invalid(format!("the user has no {field}"))),
    };
    let cert_pem = read(
        certificate,
        &user.client_certificate_data,
        "client-certificate-data",
    )?;
    let key_pem = read(key, &user.client_key_data, "client-key-data")?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(format!("client certificate: {error}")))?;
    if chain.is_empty() {
        return Err(invalid(
            "the client certificate file contains no certificate".to_string(),
        ));
    }
    // The error names the PEM problem only, never the key bytes.
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|error| invalid(format!("client key: {error}")))?;
    Ok(Some((chain, key)))
}

/// Reads `token`, else the file `tokenFile` names (under the root).
fn read_token(
    rootfs: &RootFs,
    kubeconfig: &LoadedKubeconfig,
    user: &User,
) -> Result<Option<BearerToken>, HostError> {
    if let Some(token) = user.token.as_deref().and_then(BearerToken::new) {
        return Ok(Some(token));
    }
    let Some(file) = user.token_file.as_deref().filter(|file| !file.is_empty()) else {
        return Ok(None);
    };
    let bytes = rootfs.read_file(&kubeconfig.resolve_path(file), MAX_CREDENTIAL_FILE)?;
    Ok(BearerToken::new(&String::from_utf8_lossy(&bytes)))
}

/// Returns the subject of the first certificate, such as `CN=system:node:node-1,
/// O=system:nodes`, or a placeholder when it cannot be parsed (rustls then reports why).
pub fn subject_of(chain: &[CertificateDer<'_>]) -> String {
    chain
        .first()
        .and_then(|der| x509_parser::parse_x509_certificate(der.as_ref()).ok())
        .map(|(_, certificate)| format!("\"{}\"", certificate.subject()))
        .unwrap_or_else(|| "(unparsable)".to_string())
}
