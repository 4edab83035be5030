//! Facts about control-plane flags: which take no value, which may repeat, and which name a
//! file that must exist.
//!
//! Flag names are from the components' `--help` (kube-apiserver, kube-controller-manager,
//! kube-scheduler 1.22 to 1.31, etcd 3.4 and 3.5). The lists cover the flags kubeadm and
//! common hardening guides set; an unknown bare flag is reported, because pflag then reads the
//! next list item as its value.

/// Flags that take no value, so a bare `--name` is complete.
const BOOLEAN_FLAGS: &[&str] = &[
    "allow-privileged",
    "allocate-node-cidrs",
    "alsologtostderr",
    "anonymous-auth",
    "audit-log-compress",
    "auto-tls",
    "client-cert-auth",
    "configure-cloud-routes",
    "contention-profiling",
    "debug",
    "enable-aggregator-routing",
    "enable-bootstrap-token-auth",
    "enable-garbage-collector",
    "enable-hostpath-provisioner",
    "enable-logs-handler",
    "enable-pprof",
    "enable-priority-and-fairness",
    "enable-v2",
    "experimental-initial-corrupt-check",
    "force-new-cluster",
    "leader-elect",
    "logtostderr",
    "peer-auto-tls",
    "peer-client-cert-auth",
    "profiling",
    "service-account-extend-token-expiration",
    "strict-reconfig-check",
    "use-service-account-credentials",
    "v2-deprecation",
];

/// Flags that may be given several times, each occurrence adding to a list.
const REPEATABLE_FLAGS: &[&str] = &[
    "service-account-key-file",
    "service-account-issuer",
    "tls-sni-cert-key",
    "api-audiences",
    "enable-admission-plugins",
    "disable-admission-plugins",
    "authorization-mode",
    "controllers",
];

/// Flags that name an output file or a directory, which need not exist beforehand.
const NOT_INPUT_FILES: &[&str] = &["log-file", "audit-log-path", "write-config-to", "cert-dir"];

/// Flags whose value kubeadm itself leaves empty: with an external CA it passes
/// `--cluster-signing-cert-file=` and `--cluster-signing-key-file=` so the controller
/// manager's CSR signer stays off (controlplane/manifests.go, getControllerManagerCommand).
pub const EMPTY_ALLOWED: &[&str] = &["cluster-signing-cert-file", "cluster-signing-key-file"];

/// Flags whose value is a comma-separated list, where a split item ends up as a bare flag,
/// in the order a CamelCase item most likely belongs to them.
pub const LIST_FLAGS: &[&str] = &[
    "enable-admission-plugins",
    "disable-admission-plugins",
    "feature-gates",
    "authorization-mode",
    "runtime-config",
    "tls-cipher-suites",
    "controllers",
    "kubelet-preferred-address-types",
    "api-audiences",
];

pub fn is_boolean(name: &str) -> bool {
    BOOLEAN_FLAGS.contains(&name)
}

pub fn is_repeatable(name: &str) -> bool {
    REPEATABLE_FLAGS.contains(&name)
}

/// Returns whether the flag names a file the component reads at start: certificates, keys,
/// CA bundles, kubeconfigs and configuration or policy files.
pub fn names_input_file(name: &str) -> bool {
    if NOT_INPUT_FILES.contains(&name) {
        return false;
    }
    const SUFFIXES: [&str; 7] = [
        "-file",
        "-certfile",
        "-keyfile",
        "-cafile",
        "kubeconfig",
        "-certificate",
        "-client-key",
    ];
    name == "config"
        || name.ends_with("-config")
        || SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

/// Returns whether a flag name cannot be a real flag: every Kubernetes and etcd flag is
/// lowercase kebab-case, so `--PodNodeSelector` is a list item that lost its flag.
pub fn looks_like_list_item(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_flags_are_recognised() {
        for name in [
            "tls-cert-file",
            "etcd-certfile",
            "etcd-cafile",
            "kubeconfig",
            "authentication-kubeconfig",
            "kubelet-client-certificate",
            "kubelet-client-key",
            "encryption-provider-config",
            "config",
            "peer-trusted-ca-file",
        ] {
            assert!(names_input_file(name), "{name}");
        }
        for name in [
            "log-file",
            "data-dir",
            "advertise-address",
            "audit-log-path",
        ] {
            assert!(!names_input_file(name), "{name}");
        }
    }
}
