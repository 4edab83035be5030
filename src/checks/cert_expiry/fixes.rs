//! The fixes `cert-expiry` offers, filled in with this node's names and paths.
//!
//! Several expired control-plane certificates share one ordered remedy, because renewing them
//! one at a time leaves the control plane down in between. The order is: renew everything,
//! restart the static pods, refresh copies of admin.conf, then repair the kubelet's client
//! certificate, which the kubelet could not rotate while the API server rejected the others.

use crate::certs::{Entry, Inventory, Kind, State};
use crate::check::{Context, Fix};
use crate::kube::kubelet_flags::KubeletFlags;
use crate::kube::{KUBELET_KUBECONFIG, MANIFESTS_DIR};
use crate::report::format_rfc3339;

pub const CA_ROTATION_DOC: &str =
    "https://kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates/";

const CONTROL_PLANE_PODS: &[&str] = &[
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];

/// The file the fixes save the ClusterConfiguration to for `kubeadm init phase` commands.
const SAVED_CONFIG: &str = "/root/kubeadm-cluster.yaml";

/// The facts about this node that the fixes fill in.
pub struct Remedies {
    node: String,
    /// Expired certificates that `kubeadm certs renew` can renew. Two or more share the
    /// ordered remedy.
    renewable_expired: usize,
    static_pods: Vec<&'static str>,
    kubelet_kubeconfig: String,
    kubelet_certificate: Option<KubeletCertificate>,
}

struct KubeletCertificate {
    path: String,
    not_after: String,
}

impl Remedies {
    pub fn new(context: &Context, inventory: &Inventory) -> Remedies {
        let now = context.now();
        let renewable_expired = inventory
            .certificates
            .iter()
            .filter(|entry| is_renewable(entry))
            .filter(|entry| entry.certificate().is_some_and(|c| c.is_expired(now)))
            .count();

        let mut static_pods = CONTROL_PLANE_PODS.to_vec();
        if inventory
            .authorities
            .iter()
            .any(|e| e.spec.name == "etcd-ca")
        {
            static_pods.push("etcd");
        }

        let flags = KubeletFlags::read(context.host.as_ref());
        let kubelet_kubeconfig = flags
            .value("kubeconfig")
            .unwrap_or(KUBELET_KUBECONFIG)
            .to_string();
        let kubelet_certificate = inventory
            .certificates
            .iter()
            .find(|entry| entry.spec.kind == Kind::Kubelet)
            .map(|entry| KubeletCertificate {
                path: entry.path.clone(),
                not_after: match &entry.state {
                    State::Present(certificate) => format_rfc3339(certificate.not_after),
                    State::Missing => "missing".to_string(),
                    State::Unreadable(_) => "unreadable".to_string(),
                },
            });

        Remedies {
            node: context.node_name().to_string(),
            renewable_expired,
            static_pods,
            kubelet_kubeconfig,
            kubelet_certificate,
        }
    }

    pub fn for_expired(&self, entry: &Entry) -> Fix {
        if entry.spec.kind == Kind::Authority {
            return self.ca_rotation(entry);
        }
        if entry.externally_managed {
            return external_renewal(entry);
        }
        if self.renewable_expired >= 2 {
            return self.ordered_remedy();
        }
        self.renewal(entry)
    }

    pub fn for_expiring(&self, entry: &Entry) -> Fix {
        match entry.spec.kind {
            Kind::Authority => self.ca_rotation(entry),
            _ if entry.externally_managed => external_renewal(entry),
            _ => self.renewal(entry),
        }
    }

    pub fn for_not_yet_valid(&self, entry: &Entry) -> Fix {
        let mut fix = Fix::new(format!(
            "Check this node's clock, then reissue {} if the clock is right",
            entry.spec.name
        ))
        .step("Compare the node's UTC time with a trusted clock and the certificate's NotBefore.")
        .step("If the clock is behind, fix time synchronisation (chrony or systemd-timesyncd).")
        .command("date -u")
        .command("timedatectl status");
        if is_renewable(entry) {
            fix = fix
                .step("If the clock is right, the certificate was issued with a wrong date: renew it.")
                .command(format!("kubeadm certs renew {}", entry.spec.name));
        }
        fix
    }

    pub fn for_missing(&self, entry: &Entry) -> Fix {
        if entry.spec.kind == Kind::Authority {
            return restore_ca(entry);
        }
        let fix = Fix::new(format!(
            "Create {} again with `kubeadm init phase {}`",
            entry.path, entry.spec.init_phase
        ));
        self.regenerate(entry, fix)
    }

    pub fn for_unreadable(&self, entry: &Entry) -> Fix {
        if entry.spec.kind == Kind::Authority {
            return restore_ca(entry)
                .step(format!("Inspect the damaged file first: {}.", entry.path))
                .command(inspect_command(entry));
        }
        let fix = Fix::new(format!(
            "Move the damaged {} aside and create it again",
            entry.path
        ))
        .step(format!(
            "Inspect the damaged file, then move it aside: {}.",
            entry.path
        ))
        .command(inspect_command(entry))
        .command(format!("mv {0} {0}.broken", entry.path));
        self.regenerate(entry, fix)
    }

    /// Builds the ordered remedy for several expired control-plane certificates.
    fn ordered_remedy(&self) -> Fix {
        let mut fix = Fix::new(
            "Renew all control-plane certificates, restart the static pods, refresh copies of \
             admin.conf, then repair the kubelet client certificate",
        )
        .step(
            "Renew every certificate kubeadm manages on this node; on a cluster with several \
             control-plane nodes, do this on each of them.",
        )
        .command("kubeadm certs renew all");
        fix = self.restart_static_pods(fix, &self.static_pods);
        fix = refresh_admin_copies(fix);
        self.repair_kubelet(fix)
    }

    fn renewal(&self, entry: &Entry) -> Fix {
        let mut fix = Fix::new(format!(
            "Renew {} with kubeadm and restart what uses it",
            entry.spec.name
        ))
        .step(format!(
            "Renew the certificate {} with kubeadm.",
            entry.spec.name
        ))
        .command(format!("kubeadm certs renew {}", entry.spec.name));
        fix = self.restart_static_pods(fix, entry.spec.static_pods);
        if entry.spec.name == "admin.conf" {
            fix = refresh_admin_copies(fix);
        }
        fix
    }

    fn regenerate(&self, entry: &Entry, fix: Fix) -> Fix {
        let fix = fix
            .step(
                "Save the cluster's kubeadm configuration, then let kubeadm write the file again \
                 from it and the CA on this node.",
            )
            .command(format!(
                "kubectl -n kube-system get configmap kubeadm-config \
                 -o jsonpath='{{.data.ClusterConfiguration}}' > {SAVED_CONFIG}"
            ))
            .command(format!(
                "kubeadm init phase {} --config {SAVED_CONFIG}",
                entry.spec.init_phase
            ));
        self.restart_static_pods(fix, entry.spec.static_pods)
    }

    fn restart_static_pods(&self, fix: Fix, pods: &[&str]) -> Fix {
        if pods.is_empty() {
            return fix;
        }
        let mut fix = fix.step(format!(
            "Restart the static pods {} so they load the new files: move each manifest out of \
             {MANIFESTS_DIR}, wait until the kubelet has stopped the pod (it rereads the \
             folder every 20 seconds), and move it back. \
             `crictl stopp $(crictl pods --name <pod>-{} -q)` works too.",
            pods.join(", "),
            self.node
        ));
        for pod in pods {
            fix = fix.command(format!(
                "mv {MANIFESTS_DIR}/{pod}.yaml /etc/kubernetes/{pod}.yaml.paused && sleep 20 && \
                 mv /etc/kubernetes/{pod}.yaml.paused {MANIFESTS_DIR}/{pod}.yaml"
            ));
        }
        fix
    }

    fn repair_kubelet(&self, fix: Fix) -> Fix {
        let (path, not_after) = match &self.kubelet_certificate {
            Some(kubelet) => (kubelet.path.as_str(), kubelet.not_after.as_str()),
            None => ("/var/lib/kubelet/pki/kubelet-client-current.pem", "unknown"),
        };
        let kubeconfig = &self.kubelet_kubeconfig;
        fix.step(format!(
            "Check the kubelet client certificate {path} (notAfter {not_after}). The kubelet \
             cannot rotate it while the API server rejects the control plane's certificates. \
             If it has expired, back up {kubeconfig}, write a new one for \
             system:node:{node} with `kubeadm kubeconfig user`, restart the kubelet, and once \
             it has written kubelet-client-current.pem point client-certificate and client-key \
             in {kubeconfig} back at that file.",
            node = self.node
        ))
        .command(format!("openssl x509 -noout -enddate -in {path}"))
        .command(format!("cp {kubeconfig} {kubeconfig}.bak"))
        .command(format!(
            "kubeadm kubeconfig user --org system:nodes --client-name system:node:{} > {kubeconfig}",
            self.node
        ))
        .command("systemctl restart kubelet")
    }

    fn ca_rotation(&self, entry: &Entry) -> Fix {
        let name = entry.spec.name;
        if entry.externally_managed {
            return Fix::new(format!(
                "Get a renewed {name} CA from whoever runs the external CA"
            ))
            .step(format!(
                "The {name} CA is externally managed (its key is not on this node), so kubeadm \
                 cannot renew it or the certificates it signs."
            ))
            .command(inspect_command(entry));
        }
        Fix::new(format!(
            "Rotate the {name} CA: `kubeadm certs renew` does not renew certificate authorities"
        ))
        .step("Back up the PKI directory and the kubeconfigs before changing anything.")
        .step(format!(
            "Create a new {name} CA and make every component trust both the old and the new CA \
             during the change, following the manual CA rotation procedure."
        ))
        .step(format!(
            "Reissue every certificate the {name} CA signs (`kubeadm certs renew all` once the \
             new CA key is in place) and restart the static pods."
        ))
        .step("Distribute the new CA certificate to every node and kubeconfig that embeds it.")
        .command("cp -a /etc/kubernetes/pki /etc/kubernetes/pki.backup-$(date +%Y%m%d)")
        .command(inspect_command(entry))
    }
}

/// Returns whether `kubeadm certs renew <name>` can renew the certificate on this node.
fn is_renewable(entry: &Entry) -> bool {
    matches!(entry.spec.kind, Kind::Pki | Kind::Kubeconfig) && !entry.externally_managed
}

fn external_renewal(entry: &Entry) -> Fix {
    Fix::new(format!(
        "Get a new {} certificate from whoever runs the external CA",
        entry.spec.name
    ))
    .step(
        "The CA that signs it is externally managed (its key is not on this node), so \
         `kubeadm certs renew` cannot renew it.",
    )
    .command(inspect_command(entry))
}

fn refresh_admin_copies(fix: Fix) -> Fix {
    fix.step(
        "Copy the renewed /etc/kubernetes/admin.conf to every place that holds a copy, such as \
         $HOME/.kube/config of each administrator.",
    )
    .command("cp /etc/kubernetes/admin.conf $HOME/.kube/config")
    .command("chown $(id -u):$(id -g) $HOME/.kube/config")
}

fn restore_ca(entry: &Entry) -> Fix {
    Fix::new(format!("Restore {} from a backup", entry.path)).step(format!(
        "Do not generate a new {} CA on an existing cluster: every certificate it signed would \
         stop verifying. Restore the CA certificate and key from a backup or from another \
         control-plane node.",
        entry.spec.name
    ))
}

fn inspect_command(entry: &Entry) -> String {
    match entry.spec.kind {
        Kind::Kubeconfig => format!(
            "grep client-certificate-data {} | awk '{{print $2}}' | base64 -d | \
             openssl x509 -noout -subject -dates",
            entry.path
        ),
        _ => format!("openssl x509 -noout -subject -dates -in {}", entry.path),
    }
}
