//! The certificates on this node that `node-doctor certs` lists and `cert-expiry` checks.
//!
//! The control-plane part matches what `kubeadm certs check-expiration` reads with the default
//! certificate directory /etc/kubernetes/pki: etcd rows only with local etcd, super-admin.conf
//! only when present, and nothing on a node that is not a control-plane node. The kubelet's
//! client certificate is added as the row `kubelet-client`.

use crate::host::Host;
use crate::kube::cert::Certificate;
use crate::kube::kubelet_flags::KubeletFlags;
use crate::kube::{KUBELET_KUBECONFIG, MANIFESTS_DIR};

use super::catalog::{self, AUTHORITIES, CERTIFICATES, KUBELET, Kind, PKI_DIR, Spec};
use super::external_ca::ExternalCas;
use super::load::{self, LoadError, Loaded};

/// The state of one certificate on the node.
#[derive(Clone, Debug)]
pub enum State {
    Present(Box<Certificate>),
    /// Absent. kubeadm prints `!MISSING! <name>`.
    Missing,
    /// Present but not readable as a certificate, with a message naming the file.
    Unreadable(String),
}

/// One row of either table.
#[derive(Clone, Debug)]
pub struct Entry {
    pub spec: Spec,
    /// The host path the certificate was read from, or would have been.
    pub path: String,
    pub externally_managed: bool,
    pub state: State,
}

/// Both tables, rows sorted by name as kubeadm prints them.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// Whether the control-plane rows were read. False on a worker node.
    pub control_plane: bool,
    pub certificates: Vec<Entry>,
    pub authorities: Vec<Entry>,
}

impl Inventory {
    /// Reads every certificate through the host.
    pub fn read(host: &dyn Host) -> Inventory {
        let control_plane = is_control_plane(host);
        let local_etcd = control_plane && has_local_etcd(host);
        let external = ExternalCas::read(host);
        let mut inventory = Inventory {
            control_plane,
            ..Inventory::default()
        };

        if control_plane {
            for spec in CERTIFICATES
                .iter()
                .filter(|s| local_etcd || !s.needs_local_etcd())
            {
                let path = spec.path();
                if spec.optional && !host.exists(&path) {
                    continue;
                }
                inventory
                    .certificates
                    .push(read_entry(host, &external, spec, path));
            }
            for spec in AUTHORITIES
                .iter()
                .filter(|s| local_etcd || !s.needs_local_etcd())
            {
                inventory
                    .authorities
                    .push(read_entry(host, &external, spec, spec.path()));
            }
        }
        if let Some(kubelet) = read_kubelet_entry(host, &external) {
            inventory.certificates.push(kubelet);
        }

        inventory.certificates.sort_by_key(|entry| entry.spec.name);
        inventory.authorities.sort_by_key(|entry| entry.spec.name);
        inventory
    }

    /// Returns every row of both tables, certificates first.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.certificates.iter().chain(&self.authorities)
    }
}

impl Entry {
    pub fn certificate(&self) -> Option<&Certificate> {
        match &self.state {
            State::Present(certificate) => Some(certificate),
            _ => None,
        }
    }
}

/// Returns whether this node runs the control plane. A kubeadm worker also has
/// /etc/kubernetes/pki, holding only ca.crt, so the directory alone does not decide it.
pub fn is_control_plane(host: &dyn Host) -> bool {
    if !host.exists(PKI_DIR) {
        return false;
    }
    let markers = [
        format!("{PKI_DIR}/apiserver.crt"),
        format!("{PKI_DIR}/ca.key"),
        format!("{MANIFESTS_DIR}/kube-apiserver.yaml"),
        format!("{}/admin.conf", catalog::KUBERNETES_DIR),
    ];
    markers.iter().any(|path| host.exists(path))
}

/// Returns whether etcd runs on this node, by the files a stacked etcd member has.
fn has_local_etcd(host: &dyn Host) -> bool {
    host.exists(&format!("{PKI_DIR}/etcd/ca.crt"))
        || host.exists(&format!("{MANIFESTS_DIR}/etcd.yaml"))
}

fn read_entry(host: &dyn Host, external: &ExternalCas, spec: &Spec, path: String) -> Entry {
    let loaded = match spec.kind {
        Kind::Kubeconfig => load::read_embedded_client_certificate(host, &path),
        _ => load::read_pem_file(host, &path),
    };
    entry_from(external, *spec, path, loaded)
}

/// Reads the kubelet's client certificate through the kubeconfig its flags name. Returns
/// nothing when the node has no kubelet kubeconfig at all.
fn read_kubelet_entry(host: &dyn Host, external: &ExternalCas) -> Option<Entry> {
    let flags = KubeletFlags::read(host);
    let kubeconfig = flags
        .value("kubeconfig")
        .unwrap_or(KUBELET_KUBECONFIG)
        .to_string();
    if !host.exists(&kubeconfig) {
        tracing::debug!(
            kubeconfig,
            "no kubelet kubeconfig, so no kubelet-client row"
        );
        return None;
    }
    let loaded = load::read_client_certificate(host, &kubeconfig);
    Some(entry_from(external, KUBELET, kubeconfig, loaded))
}

fn entry_from(
    external: &ExternalCas,
    spec: Spec,
    path: String,
    loaded: Result<Loaded, LoadError>,
) -> Entry {
    let externally_managed = spec.kind != Kind::Kubelet && external.is_external(spec.ca_file);
    let (path, state) = match loaded {
        Ok(loaded) => (loaded.path, State::Present(Box::new(loaded.certificate))),
        Err(LoadError::Missing(missing)) => (missing, State::Missing),
        Err(LoadError::Unreadable(message)) => {
            tracing::warn!(name = spec.name, path, %message, "certificate unreadable");
            (path, State::Unreadable(message))
        }
    };
    Entry {
        spec,
        path,
        externally_managed,
        state,
    }
}
