//! Finds the files of each row of kubeadm's certificate table on this node: the paths the
//! static pod manifests name, else kubeadm's recommended paths, and the CA each row must chain
//! to.

use crate::certs::{KUBERNETES_DIR, PKI_DIR, ca_paths};
use crate::host::Host;

use super::facts::Facts;
use super::material::{self, CertificateFile, Pair};
use super::table::{LEAVES, Leaf, Storage};

/// One certificate of the table as found on this node.
pub struct Examined {
    pub leaf: &'static Leaf,
    pub pair: Pair,
    /// The kubeadm name of the CA that must sign it: `ca`, `front-proxy-ca` or `etcd-ca`.
    pub ca_name: &'static str,
    pub ca: Option<CertificateFile>,
    pub externally_managed: bool,
    /// The API server's etcd client certificate when etcd runs outside kubeadm.
    pub external_etcd: bool,
}

impl Examined {
    /// Returns the files that make up the pair, for backup commands.
    pub fn files(&self) -> Vec<String> {
        let mut files = vec![self.pair.certificate.path.clone()];
        if self.leaf.storage == Storage::Pki && self.pair.key_source != self.pair.certificate.path {
            files.push(self.pair.key_source.clone());
        }
        files
    }

    /// Describes the certificate for summaries, such as `apiserver (/etc/kubernetes/pki/apiserver.crt)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.leaf.name, self.pair.certificate.path)
    }
}

/// Reads every row that applies to this node. Rows whose certificate is missing or unreadable
/// are left out: `cert-expiry` reports those.
pub fn examine(host: &dyn Host, facts: &Facts) -> Vec<Examined> {
    let mut examined = Vec::new();
    for leaf in LEAVES {
        let external_etcd = !facts.local_etcd() && leaf.name == "apiserver-etcd-client";
        if !facts.local_etcd() && leaf.is_etcd_member() {
            continue;
        }
        let spec = leaf.spec();
        let (certificate_path, key_path) = paths(leaf, facts);

        let pair = match leaf.storage {
            Storage::Pki => material::read_pair(host, &certificate_path, &key_path),
            Storage::Kubeconfig => material::read_kubeconfig_pair(host, &certificate_path),
        };
        let Some(pair) = pair else {
            tracing::debug!(
                name = leaf.name,
                path = certificate_path,
                "certificate not examined"
            );
            continue;
        };

        let ca_path = ca_path(leaf, facts);
        let ca = material::read_certificate(host, &ca_path);
        examined.push(Examined {
            leaf,
            pair,
            ca_name: ca_name(spec.ca_file),
            ca,
            externally_managed: facts.external.is_external(spec.ca_file),
            external_etcd,
        });
    }
    examined
}

/// Returns the certificate and key paths: the manifest's flags when set, else kubeadm's.
fn paths(leaf: &Leaf, facts: &Facts) -> (String, String) {
    let spec = leaf.spec();
    if leaf.storage == Storage::Kubeconfig {
        let path = format!("{KUBERNETES_DIR}/{}", spec.file);
        return (path.clone(), path);
    }
    let mut certificate = format!("{PKI_DIR}/{}.crt", spec.file);
    let mut key = format!("{PKI_DIR}/{}.key", spec.file);
    if let Some(flags) = leaf.flags
        && let Some(pod) = facts.manifest(flags.component)
    {
        if let Some(value) = pod.value(flags.certificate).filter(|v| !v.is_empty()) {
            certificate = value.to_string();
        }
        if let Some(value) = pod.value(flags.key).filter(|v| !v.is_empty()) {
            key = value.to_string();
        }
    }
    (certificate, key)
}

/// Returns the CA file this row must chain to: the manifest's CA flag when set, else kubeadm's.
fn ca_path(leaf: &Leaf, facts: &Facts) -> String {
    let (default, _) = ca_paths(leaf.spec().ca_file);
    leaf.flags
        .and_then(|flags| {
            let pod = facts.manifest(flags.component)?;
            pod.value(flags.ca?).filter(|v| !v.is_empty())
        })
        .map_or(default, str::to_string)
}

pub fn ca_name(ca_file: &str) -> &'static str {
    match ca_file {
        "front-proxy-ca" => "front-proxy-ca",
        "etcd/ca" => "etcd-ca",
        _ => "ca",
    }
}
