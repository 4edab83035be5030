//! A small HTTPS API server of the tests' own on 127.0.0.1, for the live API path.
//!
//! It presents the kubeadm-real fixture's apiserver certificate (which names cp.example.test)
//! and verifies client certificates against the fixture's cluster CA. It serves Node, PodList
//! and DaemonSetList JSON, accepts PATCH of the Node's status and POST of Events (returning
//! the Node and the Event as sent, without applying the patch), or fails in a chosen way: an error status, invalid JSON, or no
//! response at all. It records every request so tests can check what was sent. It stops when dropped, and
//! on its own after [`MAX_LIFETIME`].

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use crate::certgen::TestCa;

/// The maximum time a server runs, so a server a test does not drop still stops.
const MAX_LIFETIME: Duration = Duration::from_secs(120);

/// How long a hanging response keeps the connection open.
const HANG: Duration = Duration::from_secs(30);

/// The server's response to every request.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// 200 with the configured documents.
    Serve,
    /// This status with a Kubernetes Status body, for every request.
    Status(u16),
    /// 200 with a body that is not JSON.
    InvalidJson,
    /// Reads the request and never responds.
    Hang,
    /// Serves the Node and pods, and responds 403 for DaemonSets, as node credentials get.
    ForbidDaemonSets,
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub target: String,
    pub content_type: Option<String>,
    /// The request body, read up to its Content-Length.
    pub body: String,
    /// The subject of the verified client certificate, if one was presented.
    pub client_subject: Option<String>,
    pub authorization: Option<String>,
}

/// The documents the server returns for each path.
#[derive(Clone, Debug, Default)]
pub struct Documents {
    pub node: String,
    pub pods: String,
    pub daemon_sets: String,
}

pub struct ApiServer {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

impl ApiServer {
    /// Starts a server with the certificate and CA of the PKI folder `pki` (a kubeadm
    /// /etc/kubernetes/pki). With `require_client_cert`, a connection without a client
    /// certificate signed by the CA fails in the handshake.
    pub fn start(
        pki: &Path,
        documents: Documents,
        behaviour: Behaviour,
        require_client_cert: bool,
    ) -> ApiServer {
        let config = Arc::new(server_config(pki, require_client_cert));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));

        let thread_received = Arc::clone(&received);
        let thread_stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let started = Instant::now();
            while !thread_stop.load(Ordering::SeqCst) && started.elapsed() < MAX_LIFETIME {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let config = Arc::clone(&config);
                        let documents = documents.clone();
                        let behaviour = behaviour.clone();
                        let received = Arc::clone(&thread_received);
                        let stop = Arc::clone(&thread_stop);
                        std::thread::spawn(move || {
                            serve(stream, config, &documents, &behaviour, &received, &stop)
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        ApiServer {
            port,
            received,
            stop,
        }
    }

    /// Returns the requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Returns the arguments that send node-doctor's API requests here while TLS verifies
    /// cp.example.test.
    pub fn node_doctor_args(&self) -> Vec<String> {
        vec![
            "--api-server".to_string(),
            format!("https://cp.example.test:{}", self.port),
            "--resolve".to_string(),
            format!("cp.example.test:{}:127.0.0.1", self.port),
        ]
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn server_config(pki: &Path, require_client_cert: bool) -> rustls::ServerConfig {
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let ca_pem = std::fs::read(pki.join("ca.crt")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(&ca_pem) {
        roots.add(certificate.unwrap()).unwrap();
    }
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider));
    let verifier = if require_client_cert {
        verifier.build().unwrap()
    } else {
        verifier.allow_unauthenticated().build().unwrap()
    };
    let (cert_pem, key_pem) = server_certificate(pki);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap()
}

/// Returns the fixture's apiserver certificate and key. Once that certificate has expired
/// (it is valid until 2027-12-04), a new one for the same names is issued by the fixture CA,
/// so the test keeps working.
fn server_certificate(pki: &Path) -> (String, String) {
    let cert_pem = std::fs::read_to_string(pki.join("apiserver.crt")).unwrap();
    let key_pem = std::fs::read_to_string(pki.join("apiserver.key")).unwrap();
    let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap();
    let (_, parsed) = x509_parser::parse_x509_certificate(der.as_ref()).unwrap();
    if parsed.validity().is_valid() {
        return (cert_pem, key_pem);
    }
    let ca = TestCa::load(pki, "ca");
    let now = jiff::Timestamp::now();
    let issued = ca.issue_server(
        "kube-apiserver",
        &["cp.example.test", "kubernetes"],
        &(now - jiff::SignedDuration::from_hours(1)).to_string(),
        &(now + jiff::SignedDuration::from_hours(24)).to_string(),
    );
    (issued.cert_pem, issued.key_pem)
}

fn serve(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    documents: &Documents,
    behaviour: &Behaviour,
    received: &Mutex<Vec<Received>>,
    stop: &AtomicBool,
) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let connection = rustls::ServerConnection::new(config).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, stream);

    // Keep-alive connections carry several requests, one after the other.
    loop {
        let Some(head) = read_head(&mut tls) else {
            return;
        };
        let mut request_line = head.lines().next().unwrap_or_default().split_whitespace();
        let method = request_line.next().unwrap_or_default().to_string();
        let target = request_line.next().unwrap_or_default().to_string();
        let header = |wanted: &str| {
            head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case(wanted)
                    .then(|| value.trim().to_string())
            })
        };
        let authorization = header("authorization");
        let content_type = header("content-type");
        let length: usize = header("content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length.min(4 * 1024 * 1024)];
        if tls.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let client_subject = tls.conn.peer_certificates().and_then(|chain| {
            let (_, parsed) = x509_parser::parse_x509_certificate(chain.first()?.as_ref()).ok()?;
            Some(parsed.subject().to_string())
        });
        received.lock().unwrap().push(Received {
            method: method.clone(),
            target: target.clone(),
            content_type,
            body: body.clone(),
            client_subject,
            authorization,
        });

        let (status, body) = match respond(&method, &target, &body, documents, behaviour) {
            Some(answer) => answer,
            None => {
                let started = Instant::now();
                while started.elapsed() < HANG && !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return;
            }
        };
        let response = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            reason(status),
            body.len()
        );
        if tls.write_all(response.as_bytes()).is_err() || tls.flush().is_err() {
            return;
        }
    }
}

/// Reads up to the blank line that ends the request head, or returns None when the client
/// closed the connection or the handshake failed.
fn read_head(tls: &mut rustls::StreamOwned<rustls::ServerConnection, TcpStream>) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 * 1024 {
            return None;
        }
        match tls.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// Returns the status and body for a request, or None to hang.
fn respond(
    method: &str,
    target: &str,
    body: &str,
    documents: &Documents,
    behaviour: &Behaviour,
) -> Option<(u16, String)> {
    let path = target.split('?').next().unwrap_or_default();
    let created;
    let document = if method == "POST" && path == "/api/v1/namespaces/default/events" {
        created = body.to_string();
        &created
    } else if method == "PATCH" && !path.ends_with("/status") {
        return Some((
            405,
            status_body(405, "only the status subresource is patched"),
        ));
    } else if method != "GET" && method != "PATCH" {
        return Some((405, status_body(405, "method not allowed")));
    } else if path.starts_with("/api/v1/nodes/") {
        &documents.node
    } else if path == "/api/v1/pods" {
        &documents.pods
    } else if path == "/apis/apps/v1/daemonsets" {
        &documents.daemon_sets
    } else {
        return Some((
            404,
            status_body(404, "the server could not find the requested resource"),
        ));
    };
    match behaviour {
        Behaviour::Serve if method == "POST" => Some((201, document.clone())),
        Behaviour::Serve => Some((200, document.clone())),
        Behaviour::Status(status) => {
            Some((*status, status_body(*status, "rejected by the test server")))
        }
        Behaviour::InvalidJson => Some((200, "<html>not json</html>".to_string())),
        Behaviour::Hang => None,
        Behaviour::ForbidDaemonSets if path == "/apis/apps/v1/daemonsets" => Some((
            403,
            status_body(
                403,
                "daemonsets.apps is forbidden: User \"system:node:node-1\" cannot list resource \"daemonsets\" in API group \"apps\" at the cluster scope",
            ),
        )),
        Behaviour::ForbidDaemonSets => Some((200, document.clone())),
    }
}

fn status_body(code: u16, message: &str) -> String {
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason(code),
        "code": code,
    })
    .to_string()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        405 => "Method Not Allowed",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Error",
    }
}
