//! kubeadm's "externally managed" rule for certificate authorities.
//!
//! kubeadm treats the cluster CA as external when ca.crt contains a valid CA certificate and
//! ca.key is absent (`UsingExternalCA`), and the front-proxy CA likewise
//! (`UsingExternalFrontProxyCA`). The etcd CA is never external. A certificate is externally
//! managed when the CA that signs it is (renewal/manager.go, `IsExternallyManaged`).

use crate::host::Host;

use super::catalog::{CA_FILE, FRONT_PROXY_CA_FILE, ca_paths};
use super::load::read_pem_file;

/// The external state of the two CAs that can be external, read once per inventory.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExternalCas {
    pub ca: bool,
    pub front_proxy_ca: bool,
}

impl ExternalCas {
    pub fn read(host: &dyn Host) -> ExternalCas {
        ExternalCas {
            ca: has_certificate_without_key(host, CA_FILE),
            front_proxy_ca: has_certificate_without_key(host, FRONT_PROXY_CA_FILE),
        }
    }

    /// Returns whether the CA with base name `ca_file`, such as `front-proxy-ca`, is external.
    pub fn is_external(&self, ca_file: &str) -> bool {
        match ca_file {
            CA_FILE => self.ca,
            FRONT_PROXY_CA_FILE => self.front_proxy_ca,
            _ => false,
        }
    }
}

fn has_certificate_without_key(host: &dyn Host, ca_file: &str) -> bool {
    let (certificate_path, key_path) = ca_paths(ca_file);
    let is_valid_ca = match read_pem_file(host, &certificate_path) {
        Ok(loaded) => loaded.certificate.is_ca,
        Err(_) => false,
    };
    is_valid_ca && !host.exists(&key_path)
}
