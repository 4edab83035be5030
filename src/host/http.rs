//! The live host's HTTP plumbing: cloud metadata requests, and the TLS setup, body cap and
//! error text that the API client in [`super::api`] shares.
//!
//! Requests use reqwest's blocking client with rustls on the ring provider, never a proxy from the
//! environment, a timeout, and a cap on the body read.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use super::api::ClientIdentity;
use super::{HostError, HostErrorKind};

/// Maximum wait for the metadata service. Where it exists it responds on a link-local address
/// within milliseconds, so a longer wait only delays runs off the cloud.
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(1);

/// Cap on a metadata response body.
const MAX_METADATA_BODY: u64 = 64 * 1024;

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
        return Err(HostError::new(
            url,
            HostErrorKind::HttpStatus {
                status: status.as_u16(),
                why,
            },
        ));
    }
    read_capped(response, url, max_bytes)
}

/// Reads a response body, failing with [`HostErrorKind::TooLarge`] past `max_bytes`.
pub(super) fn read_capped(
    response: reqwest::blocking::Response,
    url: &str,
    max_bytes: u64,
) -> Result<String, HostError> {
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
pub(super) fn request_failed(url: &str, error: &reqwest::Error) -> HostError {
    let mut why = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        why.push_str(": ");
        why.push_str(&cause.to_string());
        source = cause.source();
    }
    HostError::new(url, HostErrorKind::RequestFailed(why))
}

pub(super) fn tls_config(
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
