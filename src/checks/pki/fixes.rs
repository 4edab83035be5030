//! The fixes the pki check offers, with this node's names, paths and addresses filled in.
//!
//! `kubeadm certs renew NAME` reissues a certificate with its old subject, SANs and usages and
//! a new key, signed by the CA on this node, so it fixes the issuer, the key pair and the
//! dates. A wrong subject, SAN list or usage needs the certificate generated again from the
//! configuration: move the old pair away, then `kubeadm init phase certs NAME` (or
//! `kubeadm init phase kubeconfig NAME`) writes a new one. Neither works when the CA is
//! external, because its key is not on this node.

use crate::check::Fix;
use crate::kube::MANIFESTS_DIR;

use super::examined::Examined;
use super::facts::Facts;
use super::table::Storage;

/// The file the fixes save the ClusterConfiguration to for `kubeadm init phase` commands.
pub const SAVED_CONFIG: &str = "/root/kubeadm-cluster.yaml";
const BACKUP_DIR: &str = "/root/pki-backup";

/// Builds the fix for a problem that `kubeadm certs renew` solves.
pub fn renew(examined: &Examined) -> Fix {
    if let Some(fix) = not_kubeadm_managed(examined) {
        return fix;
    }
    let name = examined.leaf.name;
    let fix = Fix::new(format!(
        "Renew {name} with kubeadm so the CA on this node signs it with a new key"
    ))
    .step(format!(
        "Renew {name}; kubeadm keeps its subject and SANs and signs it with the {} CA.",
        examined.ca_name
    ))
    .command(format!("kubeadm certs renew {name}"));
    restart(fix, examined)
}

/// Builds the fix that writes the certificate again from the kubeadm configuration.
pub fn regenerate(examined: &Examined, facts: &Facts, phase_command: Option<String>) -> Fix {
    if let Some(fix) = not_kubeadm_managed(examined) {
        return fix;
    }
    let name = examined.leaf.name;
    let spec = examined.leaf.spec();
    let mut fix = Fix::new(format!(
        "Move {name} away and let kubeadm generate it again"
    ))
    .step(format!(
        "`kubeadm certs renew` would copy the wrong values, so move the old files out of the \
         way first; kubeadm only writes {name} when it is absent."
    ))
    .command(format!("mkdir -p {BACKUP_DIR}"));
    for path in examined.files() {
        fix = fix.command(format!("mv {path} {BACKUP_DIR}/"));
    }

    let command = match phase_command {
        Some(command) => command,
        None => {
            fix = fix
                .step(
                    "Save the cluster's kubeadm configuration; kubeadm reads the names and \
                     addresses from it.",
                )
                .command(format!(
                    "kubectl -n kube-system get configmap kubeadm-config \
                     -o jsonpath='{{.data.ClusterConfiguration}}' > {SAVED_CONFIG}"
                ));
            if examined.leaf.is_etcd_member() {
                fix = fix.step(format!(
                    "etcd certificates are per node: the configuration must name this node \
                     ({}) and its advertise address, so append an InitConfiguration for it.",
                    facts.node_name
                ));
            }
            format!(
                "kubeadm init phase {} --config {SAVED_CONFIG}",
                spec.init_phase
            )
        }
    };
    fix = fix.step(format!("Generate {name} again.")).command(command);
    restart(fix, examined)
}

/// Returns the fix for certificates kubeadm cannot reissue: those of an external CA and the
/// API server's client certificate for an external etcd cluster.
fn not_kubeadm_managed(examined: &Examined) -> Option<Fix> {
    let name = examined.leaf.name;
    if examined.external_etcd {
        let fix = Fix::new(format!(
            "Get a new {name} certificate from the CA of the external etcd cluster"
        ))
        .step(
            "etcd runs outside this node, so kubeadm does not manage its client certificate: \
             `kubeadm certs renew` cannot renew it. Issue it with the CA the etcd members \
             trust (their --trusted-ca-file) and install it at the paths the API server names.",
        )
        .step(
            "Renew the certificates kubeadm does manage one by one (for example `kubeadm certs \
             renew apiserver`) instead of `kubeadm certs renew all`, which older releases stop \
             at this certificate.",
        )
        .command(format!(
            "openssl x509 -noout -subject -issuer -dates -in {}",
            examined.pair.certificate.path
        ));
        return Some(restart(fix, examined));
    }
    if examined.externally_managed {
        let fix = Fix::new(format!(
            "Get a new {name} certificate from whoever runs the external {} CA",
            examined.ca_name
        ))
        .step(format!(
            "The {} CA is external: its certificate is on this node but its key is not, so \
             kubeadm cannot renew or generate {name}. Ask the CA's operator for a new \
             certificate and install it at the same paths.",
            examined.ca_name
        ))
        .command(format!(
            "openssl x509 -noout -subject -issuer -dates -in {}",
            examined.pair.certificate.path
        ));
        return Some(restart(fix, examined));
    }
    None
}

/// Adds the static pod restart, so the components load the new files.
pub fn restart(fix: Fix, examined: &Examined) -> Fix {
    let pods = examined.leaf.spec().static_pods;
    if pods.is_empty() {
        return match examined.leaf.storage {
            Storage::Kubeconfig if examined.leaf.name.contains("admin") => fix
                .step("Copy the new file to every place that holds a copy, such as $HOME/.kube/config.")
                .command(format!(
                    "cp /etc/kubernetes/{} $HOME/.kube/config",
                    examined.leaf.name
                )),
            _ => fix,
        };
    }
    restart_pods(fix, pods)
}

/// Adds a restart of the given static pods: the kubelet stops a pod whose manifest leaves the
/// folder and starts it again when it comes back.
pub fn restart_pods(fix: Fix, pods: &[&str]) -> Fix {
    let mut fix = fix.step(format!(
        "Restart the static pods {} so they load the new files: move each manifest out of \
         {MANIFESTS_DIR}, wait for the kubelet to stop the pod (it rereads the folder every 20 \
         seconds), and move it back.",
        pods.join(", ")
    ));
    for pod in pods {
        fix = fix.command(format!(
            "mv {MANIFESTS_DIR}/{pod}.yaml /etc/kubernetes/{pod}.yaml.paused && sleep 20 && \
             mv /etc/kubernetes/{pod}.yaml.paused {MANIFESTS_DIR}/{pod}.yaml"
        ));
    }
    fix
}
