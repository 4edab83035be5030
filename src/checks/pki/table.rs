//! kubeadm's certificate table: for each certificate, its role, the subject each kubeadm release
//! writes, and the manifest flags that name its files.
//!
//! Sources: cmd/kubeadm/app/phases/certs/certlist.go (CommonName, Organization, Usages of each
//! KubeadmCert) and cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go (client names and groups of
//! admin.conf, super-admin.conf, controller-manager.conf, scheduler.conf). kubeadm 1.29
//! changed three organisations: apiserver-kubelet-client and admin.conf moved from
//! system:masters to kubeadm:cluster-admins, the etcd client certificates dropped
//! system:masters, and super-admin.conf was added with system:masters. `kubeadm upgrade` renews
//! certificates with their old subject, so both releases' values stay valid.

/// The purpose a certificate is presented for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Server,
    Client,
    /// etcd's server and peer certificates: kubeadm adds clientAuth because etcd 3.2 and newer
    /// use the server certificate as a client certificate too.
    ServerAndClient,
}

impl Role {
    pub fn required_purposes(self) -> &'static [&'static str] {
        match self {
            Role::Server => &["serverAuth"],
            Role::Client => &["clientAuth"],
            Role::ServerAndClient => &["serverAuth", "clientAuth"],
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
            Role::ServerAndClient => "server and client",
        }
    }
}

/// The CommonName kubeadm writes.
#[derive(Clone, Copy, Debug)]
pub enum CommonName {
    Fixed(&'static str),
    /// kubeadm writes the node name. Kubernetes' certificate best-practices page names the
    /// given CN instead, so both are accepted.
    NodeName {
        documented: &'static str,
    },
}

/// An accepted set of organisations and the kubeadm releases that write it.
#[derive(Clone, Copy, Debug)]
pub struct OrganizationRule {
    pub organizations: &'static [&'static str],
    pub releases: &'static str,
}

/// The storage of a leaf certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// `<file>.crt` and `<file>.key` under the PKI directory, or the files a manifest names.
    Pki,
    /// The client certificate and key embedded in a kubeconfig under /etc/kubernetes.
    Kubeconfig,
}

/// The manifest flags that name a certificate's files, where kubeadm sets them.
#[derive(Clone, Copy, Debug)]
pub struct ManifestFlags {
    pub component: &'static str,
    pub certificate: &'static str,
    pub key: &'static str,
    /// The flag naming the CA that peers verify this certificate with, if the same component
    /// names it.
    pub ca: Option<&'static str>,
}

/// One row of kubeadm's certificate table.
#[derive(Clone, Copy, Debug)]
pub struct Leaf {
    /// The name `kubeadm certs renew` takes, as in the certs catalog.
    pub name: &'static str,
    pub storage: Storage,
    pub role: Role,
    pub common_name: CommonName,
    pub organizations: &'static [OrganizationRule],
    /// Whether a component authorizes by this identity, which makes a wrong subject critical.
    pub identity_used: bool,
    pub flags: Option<ManifestFlags>,
}

const NO_ORGANIZATION: &[OrganizationRule] = &[OrganizationRule {
    organizations: &[],
    releases: "every kubeadm release",
}];

const MASTERS_THEN_NONE: &[OrganizationRule] = &[
    OrganizationRule {
        organizations: &["system:masters"],
        releases: "kubeadm 1.28 and older",
    },
    OrganizationRule {
        organizations: &[],
        releases: "kubeadm 1.29 and newer",
    },
];

const MASTERS_THEN_CLUSTER_ADMINS: &[OrganizationRule] = &[
    OrganizationRule {
        organizations: &["system:masters"],
        releases: "kubeadm 1.28 and older",
    },
    OrganizationRule {
        organizations: &["kubeadm:cluster-admins"],
        releases: "kubeadm 1.29 and newer",
    },
];

const SUPER_ADMIN: &[OrganizationRule] = &[OrganizationRule {
    organizations: &["system:masters"],
    releases: "kubeadm 1.29 and newer",
}];

pub const LEAVES: &[Leaf] = &[
    Leaf {
        name: "apiserver",
        storage: Storage::Pki,
        role: Role::Server,
        common_name: CommonName::Fixed("kube-apiserver"),
        organizations: NO_ORGANIZATION,
        identity_used: false,
        flags: Some(ManifestFlags {
            component: "kube-apiserver",
            certificate: "tls-cert-file",
            key: "tls-private-key-file",
            ca: None,
        }),
    },
    Leaf {
        name: "apiserver-kubelet-client",
        storage: Storage::Pki,
        role: Role::Client,
        common_name: CommonName::Fixed("kube-apiserver-kubelet-client"),
        organizations: MASTERS_THEN_CLUSTER_ADMINS,
        identity_used: true,
        flags: Some(ManifestFlags {
            component: "kube-apiserver",
            certificate: "kubelet-client-certificate",
            key: "kubelet-client-key",
            ca: None,
        }),
    },
    Leaf {
        name: "front-proxy-client",
        storage: Storage::Pki,
        role: Role::Client,
        common_name: CommonName::Fixed("front-proxy-client"),
        organizations: NO_ORGANIZATION,
        identity_used: true,
        flags: Some(ManifestFlags {
            component: "kube-apiserver",
            certificate: "proxy-client-cert-file",
            key: "proxy-client-key-file",
            ca: Some("requestheader-client-ca-file"),
        }),
    },
    Leaf {
        name: "apiserver-etcd-client",
        storage: Storage::Pki,
        role: Role::Client,
        common_name: CommonName::Fixed("kube-apiserver-etcd-client"),
        organizations: MASTERS_THEN_NONE,
        identity_used: false,
        flags: Some(ManifestFlags {
            component: "kube-apiserver",
            certificate: "etcd-certfile",
            key: "etcd-keyfile",
            ca: Some("etcd-cafile"),
        }),
    },
    Leaf {
        name: "etcd-server",
        storage: Storage::Pki,
        role: Role::ServerAndClient,
        common_name: CommonName::NodeName {
            documented: "kube-etcd",
        },
        organizations: NO_ORGANIZATION,
        identity_used: false,
        flags: Some(ManifestFlags {
            component: "etcd",
            certificate: "cert-file",
            key: "key-file",
            ca: Some("trusted-ca-file"),
        }),
    },
    Leaf {
        name: "etcd-peer",
        storage: Storage::Pki,
        role: Role::ServerAndClient,
        common_name: CommonName::NodeName {
            documented: "kube-etcd-peer",
        },
        organizations: NO_ORGANIZATION,
        identity_used: false,
        flags: Some(ManifestFlags {
            component: "etcd",
            certificate: "peer-cert-file",
            key: "peer-key-file",
            ca: Some("peer-trusted-ca-file"),
        }),
    },
    Leaf {
        name: "etcd-healthcheck-client",
        storage: Storage::Pki,
        role: Role::Client,
        common_name: CommonName::Fixed("kube-etcd-healthcheck-client"),
        organizations: MASTERS_THEN_NONE,
        identity_used: false,
        flags: None,
    },
    Leaf {
        name: "admin.conf",
        storage: Storage::Kubeconfig,
        role: Role::Client,
        common_name: CommonName::Fixed("kubernetes-admin"),
        organizations: MASTERS_THEN_CLUSTER_ADMINS,
        identity_used: true,
        flags: None,
    },
    Leaf {
        name: "super-admin.conf",
        storage: Storage::Kubeconfig,
        role: Role::Client,
        common_name: CommonName::Fixed("kubernetes-super-admin"),
        organizations: SUPER_ADMIN,
        identity_used: true,
        flags: None,
    },
    Leaf {
        name: "controller-manager.conf",
        storage: Storage::Kubeconfig,
        role: Role::Client,
        common_name: CommonName::Fixed("system:kube-controller-manager"),
        organizations: NO_ORGANIZATION,
        identity_used: true,
        flags: None,
    },
    Leaf {
        name: "scheduler.conf",
        storage: Storage::Kubeconfig,
        role: Role::Client,
        common_name: CommonName::Fixed("system:kube-scheduler"),
        organizations: NO_ORGANIZATION,
        identity_used: true,
        flags: None,
    },
];

impl Leaf {
    pub fn is_etcd_member(&self) -> bool {
        matches!(
            self.name,
            "etcd-server" | "etcd-peer" | "etcd-healthcheck-client"
        )
    }

    /// Returns the catalog entry with the file name, CA and `kubeadm init phase` of this row.
    pub fn spec(&self) -> &'static crate::certs::Spec {
        crate::certs::CERTIFICATES
            .iter()
            .find(|spec| spec.name == self.name)
            .expect("every row of the table is in the certs catalog")
    }
}

/// The three kubeadm CAs, by catalog name, with the base name of their files.
pub const AUTHORITIES: [(&str, &str); 3] = [
    ("ca", "ca"),
    ("front-proxy-ca", "front-proxy-ca"),
    ("etcd-ca", "etcd/ca"),
];
