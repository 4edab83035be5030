//! Parsers for the Kubernetes files found on a node: kubeconfigs, the kubelet's flags and
//! configuration, certificates and keys.

pub mod cert;
pub mod keys;
pub mod kubeadm_config;
pub mod kubeconfig;
pub mod kubelet_config;
pub mod kubelet_flags;
mod node_identity;
pub mod node_status;
pub mod objects;
pub mod pem;
pub mod pod_log;
pub mod static_pod;

pub use node_identity::{NODE_USER_PREFIX, NodeIdentity};

/// The path of the kubelet's kubeconfig on kubeadm nodes.
pub const KUBELET_KUBECONFIG: &str = "/etc/kubernetes/kubelet.conf";
pub const BOOTSTRAP_KUBECONFIG: &str = "/etc/kubernetes/bootstrap-kubelet.conf";
pub const DEFAULT_CERT_DIR: &str = "/var/lib/kubelet/pki";
pub const PKI_DIR: &str = "/etc/kubernetes/pki";
pub const MANIFESTS_DIR: &str = "/etc/kubernetes/manifests";

/// Returns the first line of a YAML parse error, such as "line 6 column 11: unclosed bracket".
///
/// serde-saphyr appends an excerpt of the input around the error. The input may be a kubeconfig
/// with `client-key-data`, so the excerpt is dropped to keep key material out of reports.
pub fn yaml_error_message(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}
