//! Helpers for the registry-ca tests: a test PKI made with rcgen, TLS servers on 127.0.0.1
//! that serve a chosen chain, and node roots with runtime configuration files.
//!
//! Keys live only in memory; no key file is written anywhere.
#![allow(dead_code)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};

/// The registry name every test uses; it is always resolved to 127.0.0.1 with --resolve.
pub const REGISTRY_HOST: &str = "registry.example.test";

/// A generated certificate with its key.
pub struct Cert {
    pub pem: String,
    pub der: Vec<u8>,
    key: KeyPair,
    params: CertificateParams,
}

impl Cert {
    /// Creates a self-signed root CA.
    pub fn root(common_name: &str) -> Cert {
        let params = ca_params(common_name);
        let key = KeyPair::generate().unwrap();
        let certificate = params.self_signed(&key).unwrap();
        Cert {
            pem: certificate.pem(),
            der: certificate.der().to_vec(),
            key,
            params,
        }
    }

    /// Creates a self-signed root CA that expired in 2020.
    pub fn expired_root(common_name: &str) -> Cert {
        let mut params = ca_params(common_name);
        params.not_before = rcgen::date_time_ymd(2015, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        let key = KeyPair::generate().unwrap();
        let certificate = params.self_signed(&key).unwrap();
        Cert {
            pem: certificate.pem(),
            der: certificate.der().to_vec(),
            key,
            params,
        }
    }

    /// Creates an intermediate CA signed by this CA.
    pub fn intermediate(&self, common_name: &str) -> Cert {
        self.sign(ca_params(common_name))
    }

    /// Creates a server certificate for `names` signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> Cert {
        self.sign(leaf_params(names))
    }

    /// Creates a server certificate that expired in 2020.
    pub fn expired_leaf(&self, names: &[&str]) -> Cert {
        let mut params = leaf_params(names);
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Cert {
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::new(self.params.clone(), &self.key);
        let certificate = params.signed_by(&key, &issuer).unwrap();
        Cert {
            pem: certificate.pem(),
            der: certificate.der().to_vec(),
            key,
            params,
        }
    }
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn leaf_params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "registry server");
    params
}

/// A TLS server on 127.0.0.1 that serves `chain` (leaf first) with the leaf's key.
pub struct TlsServer {
    pub port: u16,
}

impl TlsServer {
    pub fn start(chain: &[&Cert]) -> TlsServer {
        let leaf = chain[0];
        let certificates: Vec<CertificateDer<'static>> = chain
            .iter()
            .map(|c| CertificateDer::from(c.der.clone()))
            .collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.serialize_der()));
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certificates, key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
                let Ok(mut connection) = ServerConnection::new(Arc::clone(&config)) else {
                    continue;
                };
                let _ = connection.complete_io(&mut stream);
                connection.send_close_notify();
                let _ = connection.complete_io(&mut stream);
            }
        });
        TlsServer { port }
    }
}

/// Starts a server on 127.0.0.1 that accepts TCP connections and never sends a byte.
pub fn start_silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut open_connections: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming().flatten() {
            let mut reader = stream.try_clone().unwrap();
            open_connections.push(stream);
            std::thread::spawn(move || {
                let mut sink = [0u8; 1024];
                while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

/// A node root directory for `--root`, with the kubelet set to use containerd.
pub struct NodeRoot {
    pub dir: tempfile::TempDir,
}

impl NodeRoot {
    pub fn containerd() -> NodeRoot {
        let root = NodeRoot {
            dir: tempfile::tempdir().unwrap(),
        };
        root.write(
            "/var/lib/kubelet/kubeadm-flags.env",
            "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n",
        );
        root.write(
            "/etc/containerd/config.toml",
            "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n",
        );
        root
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn real(&self, host_path: &str) -> PathBuf {
        self.dir.path().join(host_path.trim_start_matches('/'))
    }

    pub fn write(&self, host_path: &str, contents: &str) {
        let path = self.real(host_path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}

/// Returns `registry.example.test:PORT`, the registry name images would use.
pub fn registry(port: u16) -> String {
    format!("{REGISTRY_HOST}:{port}")
}

/// Runs node-doctor's registry-ca check on a node root, resolving the test registry to
/// 127.0.0.1, and returns the JSON report.
pub fn run_live(root: &NodeRoot, port: u16, extra: &[&str]) -> serde_json::Value {
    let resolve = format!("{REGISTRY_HOST}:{port}:127.0.0.1");
    let mut command = assert_cmd::Command::cargo_bin("node-doctor").unwrap();
    command
        .timeout(Duration::from_secs(60))
        .args(["check", "--only", "registry-ca", "-o", "json", "--root"])
        .arg(root.path())
        .args(["--resolve", &resolve])
        .args(extra);
    let output = command.output().unwrap();
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "report is not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Returns the codes of a report's findings.
pub fn codes(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

pub fn finding<'a>(report: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {:#}", report["findings"]))
}

/// Joins a finding's evidence into one text for `contains` checks.
pub fn evidence_text(finding: &serde_json::Value) -> String {
    finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} | {} | {}",
                e["source"].as_str().unwrap(),
                e["field"].as_str().unwrap(),
                e["value"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
