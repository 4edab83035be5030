//! The certificates `kubeadm certs check-expiration` lists, with what node-doctor needs to
//! explain and fix each one.
//!
//! Names, files and parent CAs follow kubeadm's certificate list
//! (cmd/kubeadm/app/phases/certs/certlist.go) and its renewal manager
//! (cmd/kubeadm/app/phases/certs/renewal/manager.go).

/// The storage and role of a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A leaf certificate in the PKI directory, `<file>.crt` with `<file>.key`.
    Pki,
    /// The client certificate embedded in a kubeconfig under /etc/kubernetes.
    Kubeconfig,
    /// A certificate authority in the PKI directory.
    Authority,
    /// The kubelet's client certificate, found through the kubelet's kubeconfig.
    Kubelet,
}

/// One certificate kubeadm manages on a control-plane node.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// The name kubeadm prints and `kubeadm certs renew` accepts.
    pub name: &'static str,
    pub kind: Kind,
    /// The file name: relative to the PKI directory without `.crt` for PKI files and CAs, the
    /// kubeconfig name for kubeconfigs.
    pub file: &'static str,
    /// The CA name kubeadm 1.22 prints in the CERTIFICATE AUTHORITY column. kubeadm leaves it
    /// blank for kubeconfigs; newer releases print `ca` there.
    pub ca_name: &'static str,
    /// The base name of the CA that signs it, for the externally managed rule.
    pub ca_file: &'static str,
    /// Whether the node has it only when the file exists (super-admin.conf, kubeadm 1.29+).
    pub optional: bool,
    /// The static pods that load it and must restart to pick up a renewed copy.
    pub static_pods: &'static [&'static str],
    /// The `kubeadm init phase` that creates it, such as `certs apiserver`.
    pub init_phase: &'static str,
}

pub const PKI_DIR: &str = "/etc/kubernetes/pki";
pub const KUBERNETES_DIR: &str = "/etc/kubernetes";
pub const CA_FILE: &str = "ca";
pub const FRONT_PROXY_CA_FILE: &str = "front-proxy-ca";
pub const ETCD_CA_FILE: &str = "etcd/ca";

/// The row name of the kubelet client certificate, which kubeadm itself does not list.
pub const KUBELET_CLIENT: &str = "kubelet-client";

const APISERVER: &[&str] = &["kube-apiserver"];
const ETCD: &[&str] = &["etcd"];

const fn pki(
    name: &'static str,
    file: &'static str,
    ca_name: &'static str,
    ca_file: &'static str,
    static_pods: &'static [&'static str],
    init_phase: &'static str,
) -> Spec {
    Spec {
        name,
        kind: Kind::Pki,
        file,
        ca_name,
        ca_file,
        optional: false,
        static_pods,
        init_phase,
    }
}

const fn kubeconfig(
    file: &'static str,
    optional: bool,
    static_pods: &'static [&'static str],
    init_phase: &'static str,
) -> Spec {
    Spec {
        name: file,
        kind: Kind::Kubeconfig,
        file,
        ca_name: "",
        ca_file: CA_FILE,
        optional,
        static_pods,
        init_phase,
    }
}

const fn authority(name: &'static str, file: &'static str, init_phase: &'static str) -> Spec {
    Spec {
        name,
        kind: Kind::Authority,
        file,
        ca_name: "",
        ca_file: file,
        optional: false,
        static_pods: &[],
        init_phase,
    }
}

/// The certificates of the first table. kubeadm sorts them by name when it prints them.
pub const CERTIFICATES: &[Spec] = &[
    pki(
        "apiserver",
        "apiserver",
        "ca",
        CA_FILE,
        APISERVER,
        "certs apiserver",
    ),
    pki(
        "apiserver-kubelet-client",
        "apiserver-kubelet-client",
        "ca",
        CA_FILE,
        APISERVER,
        "certs apiserver-kubelet-client",
    ),
    pki(
        "front-proxy-client",
        "front-proxy-client",
        "front-proxy-ca",
        FRONT_PROXY_CA_FILE,
        APISERVER,
        "certs front-proxy-client",
    ),
    pki(
        "apiserver-etcd-client",
        "apiserver-etcd-client",
        "etcd-ca",
        ETCD_CA_FILE,
        APISERVER,
        "certs apiserver-etcd-client",
    ),
    pki(
        "etcd-server",
        "etcd/server",
        "etcd-ca",
        ETCD_CA_FILE,
        ETCD,
        "certs etcd-server",
    ),
    pki(
        "etcd-peer",
        "etcd/peer",
        "etcd-ca",
        ETCD_CA_FILE,
        ETCD,
        "certs etcd-peer",
    ),
    pki(
        "etcd-healthcheck-client",
        "etcd/healthcheck-client",
        "etcd-ca",
        ETCD_CA_FILE,
        ETCD,
        "certs etcd-healthcheck-client",
    ),
    kubeconfig("admin.conf", false, &[], "kubeconfig admin"),
    kubeconfig("super-admin.conf", true, &[], "kubeconfig super-admin"),
    kubeconfig(
        "controller-manager.conf",
        false,
        &["kube-controller-manager"],
        "kubeconfig controller-manager",
    ),
    kubeconfig(
        "scheduler.conf",
        false,
        &["kube-scheduler"],
        "kubeconfig scheduler",
    ),
];

/// The certificate authorities of the second table.
pub const AUTHORITIES: &[Spec] = &[
    authority("ca", CA_FILE, "certs ca"),
    authority(
        "front-proxy-ca",
        FRONT_PROXY_CA_FILE,
        "certs front-proxy-ca",
    ),
    authority("etcd-ca", ETCD_CA_FILE, "certs etcd-ca"),
];

impl Spec {
    /// Returns the host path of the file that contains the certificate. For the kubelet that is
    /// kubeadm's location of its kubeconfig, which names the certificate.
    pub fn path(&self) -> String {
        match self.kind {
            Kind::Kubeconfig => format!("{KUBERNETES_DIR}/{}", self.file),
            Kind::Pki | Kind::Authority => format!("{PKI_DIR}/{}.crt", self.file),
            Kind::Kubelet => crate::kube::KUBELET_KUBECONFIG.to_string(),
        }
    }

    /// Returns whether kubeadm lists it only when etcd runs on this node. kubeadm drops the
    /// etcd CA and everything it signs when the cluster uses external etcd.
    pub fn needs_local_etcd(&self) -> bool {
        self.ca_file == ETCD_CA_FILE
    }
}

/// Returns the host path of a CA's certificate or key, from its base name such as `etcd/ca`.
pub fn ca_paths(ca_file: &str) -> (String, String) {
    (
        format!("{PKI_DIR}/{ca_file}.crt"),
        format!("{PKI_DIR}/{ca_file}.key"),
    )
}

/// The kubelet client certificate row that node-doctor adds to kubeadm's table. The cluster CA
/// signs it through the CSR API.
pub const KUBELET: Spec = Spec {
    name: KUBELET_CLIENT,
    kind: Kind::Kubelet,
    file: "",
    ca_name: "ca",
    ca_file: CA_FILE,
    optional: false,
    static_pods: &[],
    init_phase: "",
};
