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
/// Returns the YAML parser settings every Kubernetes file is read with. The parser's defaults
/// allow 50,000 aliases and a million events, which let a 2 KB alias bomb take seconds; real
/// kubeconfigs, kubelet configs and manifests use few or no aliases and nest a dozen levels.
// NOTE: the caps are estimates with wide room above real files, not measured maxima.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_events = 200_000;
    budget.max_nodes = 100_000;
    budget.max_depth = 64;
    budget.max_recorded_anchor_events = 10_000;
    budget.max_recorded_anchor_bytes = 4 * 1024 * 1024;
    budget.max_total_scalar_bytes = 16 * 1024 * 1024;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

pub fn yaml_error_message(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}
