//! A read-only client for the Kubernetes API server, used by the live host's
//! [`FetchRequest`](super::FetchRequest)s.
//!
//! Credentials come from `--kubeconfig`, else the in-cluster service account, else the node's
//! own kubeconfig (kubelet.conf, whose node credentials may read this node and the pods bound
//! to it). The server is verified against the kubeconfig's CA only, never the system roots, and
//! the TLS server name is the host of the server URL, also when `--resolve` sends the
//! connection elsewhere. The checks only send GET requests. The agent's
//! `--report-to-apiserver` also patches this node's status and creates Events.

mod credentials;
mod in_cluster;

pub use crate::net::ResolveOverride;
pub use credentials::{BearerToken, ClientIdentity, Credentials};
pub use in_cluster::{SERVICE_ACCOUNT_DIR, detect_with as detect_in_cluster_with};

use std::time::Duration;

use reqwest::Url;

use super::http::{read_capped, request_failed, tls_config};
use super::{HostError, HostErrorKind, NetworkSettings, RootFs};

/// Maximum wait for one API request, connection included.
pub const API_TIMEOUT: Duration = Duration::from_secs(5);

/// Cap on the part of an error response read for its Status message.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Longest Status message quoted in an error.
const MAX_MESSAGE_CHARS: usize = 300;

/// A connection setup for one API server and one set of credentials.
pub struct ApiClient {
    client: reqwest::blocking::Client,
    server: Url,
    token: Option<BearerToken>,
    origin: String,
}

impl ApiClient {
    /// Picks the credentials (see the module documentation) and builds the client.
    /// `node_kubeconfig` is the node's own kubeconfig, a host path.
    pub fn connect(
        settings: &NetworkSettings,
        rootfs: &RootFs,
        node_kubeconfig: &str,
    ) -> Result<ApiClient, HostError> {
        let credentials = select_credentials(settings, rootfs, node_kubeconfig)?;
        tracing::debug!(credentials = credentials.origin, "API credentials selected");
        ApiClient::build(credentials, settings)
    }

    /// Builds a client for these credentials, with `--api-server` and `--resolve` applied.
    pub fn build(
        credentials: Credentials,
        settings: &NetworkSettings,
    ) -> Result<ApiClient, HostError> {
        let server_text = settings
            .api_server
            .clone()
            .unwrap_or_else(|| credentials.server.clone());
        let invalid = |why: String| HostError::new(&server_text, HostErrorKind::RequestFailed(why));
        let server = Url::parse(&server_text)
            .map_err(|error| invalid(format!("invalid API server URL: {error}")))?;
        if server.scheme() != "https" {
            return Err(invalid(
                "the API server URL must use https, so the server is verified and no credential is sent in clear text".to_string(),
            ));
        }
        let host = server
            .host_str()
            .ok_or_else(|| invalid("the API server URL has no host".to_string()))?
            .to_string();
        let port = server.port_or_known_default().unwrap_or(443);

        let config = tls_config(credentials.roots, credentials.identity).map_err(invalid)?;
        let mut builder = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(config)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(API_TIMEOUT)
            .timeout(API_TIMEOUT);
        for entry in settings
            .resolve
            .iter()
            .filter(|entry| entry.matches(&host, port))
        {
            tracing::debug!(host, port, address = %entry.address, "connecting to the --resolve address");
            builder = builder.resolve(&host, entry.socket_address());
        }
        let client = builder
            .build()
            .map_err(|error| request_failed(&server_text, &error))?;
        Ok(ApiClient {
            client,
            server,
            token: credentials.token,
            origin: credentials.origin,
        })
    }

    /// Returns the description of the credentials that error messages use.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Sends `GET path_and_query` and returns the body of a 2xx response, at most `max_bytes`.
    pub fn get(&self, path_and_query: &str, max_bytes: u64) -> Result<String, HostError> {
        self.send(reqwest::Method::GET, path_and_query, None, max_bytes)
    }

    /// Sends `PATCH path` with a body of `content_type`, such as
    /// `application/strategic-merge-patch+json`, and returns the body of a 2xx response.
    pub fn patch(
        &self,
        path: &str,
        content_type: &'static str,
        body: String,
        max_bytes: u64,
    ) -> Result<String, HostError> {
        self.send(
            reqwest::Method::PATCH,
            path,
            Some((content_type, body)),
            max_bytes,
        )
    }

    /// Sends `POST path` with a JSON body and returns the body of a 2xx response.
    pub fn post_json(&self, path: &str, body: String, max_bytes: u64) -> Result<String, HostError> {
        self.send(
            reqwest::Method::POST,
            path,
            Some(("application/json", body)),
            max_bytes,
        )
    }

    fn send(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<(&'static str, String)>,
        max_bytes: u64,
    ) -> Result<String, HostError> {
        let url = self.server.join(path_and_query).map_err(|error| {
            HostError::new(
                path_and_query,
                HostErrorKind::RequestFailed(error.to_string()),
            )
        })?;
        tracing::debug!(%method, %url, credentials = self.origin, "API request");
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .header("Accept", "application/json");
        if let Some((content_type, body)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
        }
        if let Some(token) = &self.token {
            let value = token
                .header_value()
                .map_err(|why| HostError::new(url.as_str(), HostErrorKind::RequestFailed(why)))?;
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        let response = request
            .send()
            .map_err(|error| request_failed(url.as_str(), &error))?;
        let status = response.status();
        if !status.is_success() {
            let body = read_capped(response, url.as_str(), MAX_ERROR_BODY).unwrap_or_default();
            let why = status_error(status, method.as_str(), url.path(), &self.origin, &body);
            tracing::info!(%method, %url, status = status.as_u16(), "the API server rejected the request");
            return Err(HostError::new(
                url.as_str(),
                HostErrorKind::HttpStatus {
                    status: status.as_u16(),
                    why,
                },
            ));
        }
        read_capped(response, url.as_str(), max_bytes)
    }
}

fn select_credentials(
    settings: &NetworkSettings,
    rootfs: &RootFs,
    node_kubeconfig: &str,
) -> Result<Credentials, HostError> {
    if let Some(path) = &settings.kubeconfig {
        return Credentials::from_kubeconfig(rootfs, path, "--kubeconfig");
    }
    if let Some(in_cluster) = in_cluster::detect() {
        return in_cluster;
    }
    Credentials::from_kubeconfig(rootfs, node_kubeconfig, "the node's kubeconfig")
}

/// Explains an error status: for 401 and 403 which credentials were refused, and the API
/// server's own Status message when the body has one.
fn status_error(
    status: reqwest::StatusCode,
    method: &str,
    path: &str,
    origin: &str,
    body: &str,
) -> String {
    let message = status_message(body)
        .map(|message| format!(" The API server says: {message}"))
        .unwrap_or_default();
    match status.as_u16() {
        401 => format!(
            "HTTP 401 Unauthorized for {method} {path}: the API server did not accept the {origin}. The certificate may be expired or issued by another CA, or the token revoked.{message}"
        ),
        403 => format!(
            "HTTP 403 Forbidden for {method} {path}: the {origin} is authenticated but not allowed to do this.{message}"
        ),
        _ => format!("HTTP {status} for {method} {path}.{message}"),
    }
}

/// Returns the `message` of a Kubernetes Status object, with control characters replaced and
/// cut to [`MAX_MESSAGE_CHARS`].
fn status_message(body: &str) -> Option<String> {
    let status: serde_json::Value = serde_json::from_str(body).ok()?;
    let message = status.get("message")?.as_str()?;
    let mut clean: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_MESSAGE_CHARS)
        .collect();
    if message.chars().count() > MAX_MESSAGE_CHARS {
        clean.push_str("...");
    }
    Some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_credentials_and_message() {
        let body = r#"{"kind":"Status","status":"Failure","message":"daemonsets.apps is forbidden: User \"system:node:node-1\" cannot list resource \"daemonsets\"","reason":"Forbidden","code":403}"#;
        let why = status_error(
            reqwest::StatusCode::FORBIDDEN,
            "GET",
            "/apis/apps/v1/daemonsets",
            "client certificate \"CN=system:node:node-1\" of user \"system:node:node-1\" from /etc/kubernetes/kubelet.conf (the node's kubeconfig)",
            body,
        );
        assert!(
            why.starts_with("HTTP 403 Forbidden for GET /apis/apps/v1/daemonsets"),
            "{why}"
        );
        assert!(why.contains("/etc/kubernetes/kubelet.conf"), "{why}");
        assert!(why.contains("cannot list resource"), "{why}");
    }

    #[test]
    fn unauthorized_without_status_body() {
        let why = status_error(
            reqwest::StatusCode::UNAUTHORIZED,
            "GET",
            "/api/v1/nodes/node-1",
            "bearer token of user \"admin\" from /root/.kube/config (--kubeconfig)",
            "<html>no</html>",
        );
        assert!(why.contains("did not accept the bearer token"), "{why}");
        assert!(!why.contains("says"), "{why}");
    }

    #[test]
    fn long_message_is_cut() {
        let body = format!(r#"{{"message":"{}\u001b[31m"}}"#, "x".repeat(1000));
        let message = status_message(&body).unwrap();
        assert!(message.len() < MAX_MESSAGE_CHARS + 10);
        assert!(!message.contains('\u{1b}'));
    }
}
