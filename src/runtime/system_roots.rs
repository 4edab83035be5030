//! The node's system trust store, which Docker, containerd and CRI-O all start from.
//!
//! They are Go programs, and Go's `x509.SystemCertPool` loads the first bundle of
//! crypto/x509/root_linux.go's list that exists, plus the files in /etc/ssl/certs and
//! /etc/pki/tls/certs. Go loads the pool once per process, so a CA added to the store reaches a
//! runtime only after it restarts.

use crate::host::Host;
use crate::kube::cert::Certificate;
use crate::kube::pem;

/// Go's list of system bundles, in its search order.
pub const BUNDLES: [&str; 6] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Where Debian-family systems take extra CAs from, for `update-ca-certificates`.
pub const LOCAL_CA_DIR: &str = "/usr/local/share/ca-certificates";

/// Cap on the size of a system bundle; Debian's is about 220 KB.
const MAX_BUNDLE_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Clone, Debug, Default)]
pub struct SystemRoots {
    /// The bundle read, if any.
    pub bundle: Option<String>,
    pub certificates: Vec<Certificate>,
}

impl SystemRoots {
    // NOTE: only the bundle is read, not the per-file directories Go also scans; on common
    // distributions the bundle is generated from those files.
    pub fn read(host: &dyn Host) -> SystemRoots {
        for bundle in BUNDLES {
            match host.read_file(bundle, MAX_BUNDLE_BYTES) {
                Ok(bytes) => {
                    let certificates = parse_lenient(&bytes);
                    tracing::debug!(
                        bundle,
                        count = certificates.len(),
                        "read system trust store"
                    );
                    return SystemRoots {
                        bundle: Some(bundle.to_string()),
                        certificates,
                    };
                }
                Err(error) if error.is_not_found() => continue,
                Err(error) => tracing::debug!(%error, "cannot read a system CA bundle"),
            }
        }
        SystemRoots::default()
    }
}

/// Parses every certificate in a PEM file and skips blocks that do not parse, as Go's
/// `CertPool.AppendCertsFromPEM` does.
pub fn parse_lenient(bytes: &[u8]) -> Vec<Certificate> {
    let Ok(blocks) = pem::decode_all(bytes) else {
        return Vec::new();
    };
    blocks
        .iter()
        .filter(|block| block.label == "CERTIFICATE")
        .filter_map(|block| Certificate::from_der(&block.der).ok())
        .collect()
}
