//! The live host's HTTP requests: the kubelet's own GET of its Node object, and cloud metadata.
//!
//! Both use reqwest's blocking client with rustls on the ring provider, never a proxy from the
//! environment, a timeout, and a cap on the body read.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{HostError, HostErrorKind, RootFs};
use crate::kube::kubeconfig::{LoadedKubeconfig, Material, decode_data};

/// Maximum wait for the metadata service. Where it exists it responds on a link-local address
/// within milliseconds, so a longer wait only delays runs off the cloud.
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(1);

/// Maximum wait for the API server.
pub const API_TIMEOUT: Duration = Duration::from_secs(5);

/// Cap on a metadata response body.
const MAX_METADATA_BODY: u64 = 64 * 1024;

/// Cap on a Node object; real ones are a few tens of KiB.
const MAX_NODE_BODY: u64 = 4 * 1024 * 1024;

/// Cap on the kubeconfig, certificate and key files read for the API request.
const MAX_CREDENTIAL_FILE: u64 = 1024 * 1024;

/// Sends `GET base_url + path` to the metadata service and returns the body.
pub fn get_metadata(base_url: &str, path: &str) -> Result<String, HostError> {
    let url = format!("{}{}", base_url.trim_end_matches('/'), path);
    tracing::debug!(url, "requesting cloud metadata");
    let config = tls_config(rustls::RootCertStore::empty(), None)
        .map_err(|why| HostError::new(&url, HostErrorKind::RequestFailed(why)))?;
    let client = reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(config)
        .no_proxy()
        .connect_timeout(METADATA_TIMEOUT)
        .timeout(METADATA_TIMEOUT)
        .build()
        .map_err(|error| request_failed(&url, &error))?;
    get_body(&client, &url, MAX_METADATA_BODY)
}

/// Sends `GET /api/v1/nodes/NAME` with the client certificate of the kubeconfig at `kubeconfig`
/// (a host path read under `rootfs`). `server` replaces the kubeconfig's server URL.
// NOTE: no test runs this against a TLS API server yet. The check's tests read api/node.json
// from snapshots, and the network namespace tests run with --offline or without kubelet.conf.
pub fn get_node(
    rootfs: &RootFs,
    kubeconfig: &str,
    server: Option<&str>,
    name: &str,
) -> Result<String, HostError> {
    let credentials = ApiCredentials::load(rootfs, kubeconfig)?;
    let server = server.unwrap_or(&credentials.server).trim_end_matches('/');
    let url = format!("{server}/api/v1/nodes/{name}");
    tracing::debug!(url, kubeconfig, "requesting the Node object");

    let config = tls_config(credentials.roots, Some(credentials.client))
        .map_err(|why| HostError::new(kubeconfig, HostErrorKind::RequestFailed(why)))?;
    let client = reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(config)
        .no_proxy()
        .connect_timeout(API_TIMEOUT)
        .timeout(API_TIMEOUT)
        .build()
        .map_err(|error| request_failed(&url, &error))?;
    get_body(&client, &url, MAX_NODE_BODY)
}

fn get_body(
    client: &reqwest::blocking::Client,
    url: &str,
    max_bytes: u64,
) -> Result<String, HostError> {
    let response = client
        .get(url)
        .send()
        .map_err(|error| request_failed(url, &error))?;
    let status = response.status();
    if !status.is_success() {
        let why = format!("HTTP status {status}");
        return Err(HostError::new(url, HostErrorKind::RequestFailed(why)));
    }
    let mut body = Vec::new();
    response
        .take(max_bytes + 1)
        .read_to_end(&mut body)
        .map_err(|error| HostError::new(url, HostErrorKind::RequestFailed(error.to_string())))?;
    if body.len() as u64 > max_bytes {
        let kind = HostErrorKind::TooLarge {
            size: body.len() as u64,
            max: max_bytes,
        };
        return Err(HostError::new(url, kind));
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Describes a reqwest error with its causes, which name the timeout or refused connection.
fn request_failed(url: &str, error: &reqwest::Error) -> HostError {
    let mut why = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        why.push_str(": ");
        why.push_str(&cause.to_string());
        source = cause.source();
    }
    HostError::new(url, HostErrorKind::RequestFailed(why))
}

type ClientIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn tls_config(
    roots: rustls::RootCertStore,
    client: Option<ClientIdentity>,
) -> Result<rustls::ClientConfig, String> {
    // The crate uses ring, not aws-lc-rs. rustls 0.23.48 deprecates ring's provider because it
    // lacks post-quantum key exchange; classical key exchange is what API servers offer anyway.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots);
    match client {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|error| format!("invalid client certificate or key: {error}")),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The server, CA and client certificate of a kubeconfig's current context.
struct ApiCredentials {
    server: String,
    roots: rustls::RootCertStore,
    client: ClientIdentity,
}

impl ApiCredentials {
    fn load(rootfs: &RootFs, path: &str) -> Result<ApiCredentials, HostError> {
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
                    "the cluster has no certificate authority".to_string(),
                ));
            }
        };
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(&ca_pem) {
            let certificate = certificate.map_err(|error| invalid(format!("CA: {error}")))?;
            roots
                .add(certificate)
                .map_err(|error| invalid(format!("CA: {error}")))?;
        }

        let user = current.user;
        let read = |material: Option<Material>, data: &Option<String>, field: &str| match material {
            Some(Material::Embedded) => {
                decode_data(field, data.as_deref().unwrap_or_default()).map_err(invalid)
            }
            Some(Material::File(file)) => rootfs.read_file(&file, MAX_CREDENTIAL_FILE),
            None => Err(invalid(format!("the user has no {field}"))),
        };
        let cert_pem = read(
            kubeconfig.client_certificate(user),
            &user.client_certificate_data,
            "client-certificate-data",
        )?;
        let key_pem = read(
            kubeconfig.client_key(user),
            &user.client_key_data,
            "client-key-data",
        )?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| invalid(format!("client certificate: {error}")))?;
        // The error names the PEM problem only, never the key bytes.
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|error| invalid(format!("client key: {error}")))?;
        Ok(ApiCredentials {
            server,
            roots,
            client: (chain, key),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::time::Instant;

    use super::*;

    #[test]
    fn metadata_answer_is_returned() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let body = "10.19.0.57";
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).unwrap();
        });
        let answer = get_metadata(&url, "/metadata/v1/interfaces/public/0/anchor_ipv4/address");
        assert_eq!(answer.unwrap(), "10.19.0.57");
    }

    #[test]
    fn metadata_hang_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            // Accept and hold the connection without a response, for longer than the timeout.
            let held = listener.accept();
            std::thread::sleep(Duration::from_secs(5));
            drop(held);
        });
        let started = Instant::now();
        let error = get_metadata(&url, "/metadata/v1/hostname").unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(
            matches!(error.kind, HostErrorKind::RequestFailed(_)),
            "{error}"
        );
    }

    #[test]
    fn metadata_error_status_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let response =
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            stream.write_all(response.as_bytes()).unwrap();
        });
        let error = get_metadata(&url, "/missing").unwrap_err();
        assert!(error.to_string().contains("404"), "{error}");
    }
}
