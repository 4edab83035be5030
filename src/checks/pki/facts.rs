//! The facts about this control-plane node that the pki check gathers before it reads
//! certificates: the static pod manifests, the kubeadm configuration, the node name, external CAs and
//! whether etcd runs here.

use crate::certs::{ExternalCas, PKI_DIR};
use crate::check::Context;
use crate::host::Host;
use crate::kube::kubeadm_config::KubeadmConfig;
use crate::kube::static_pod::{StaticPod, manifest_path};

/// The way the API server reaches etcd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EtcdMode {
    /// kubeadm's stacked etcd: an etcd static pod and the etcd CA in the PKI directory.
    Local,
    /// etcd runs elsewhere. The reason names what showed it.
    External { reason: String },
}

pub struct Facts {
    pub node_name: String,
    pub node_name_source: String,
    pub apiserver: Option<StaticPod>,
    pub controller_manager: Option<StaticPod>,
    pub etcd: Option<StaticPod>,
    pub config: KubeadmConfig,
    pub external: ExternalCas,
    pub etcd_mode: EtcdMode,
}

impl Facts {
    pub fn gather(context: &Context) -> Facts {
        let host = context.host.as_ref();
        let apiserver = read_manifest(context, "kube-apiserver");
        let controller_manager = read_manifest(context, "kube-controller-manager");
        let etcd = read_manifest(context, "etcd");
        let config = KubeadmConfig::read(host);
        let etcd_mode = etcd_mode(host, etcd.is_some(), apiserver.as_ref(), &config);

        let (node_name, node_name_source) = match config.node.as_ref() {
            Some((source, node)) if node.node_name.is_some() => (
                node.node_name.clone().unwrap_or_default(),
                format!("nodeRegistration.name in {source}"),
            ),
            _ => (context.node.name.clone(), context.node.source.clone()),
        };

        Facts {
            node_name,
            node_name_source,
            apiserver,
            controller_manager,
            etcd,
            config,
            external: ExternalCas::read(host),
            etcd_mode,
        }
    }

    pub fn manifest(&self, component: &str) -> Option<&StaticPod> {
        match component {
            "kube-apiserver" => self.apiserver.as_ref(),
            "kube-controller-manager" => self.controller_manager.as_ref(),
            "etcd" => self.etcd.as_ref(),
            _ => None,
        }
    }

    pub fn local_etcd(&self) -> bool {
        self.etcd_mode == EtcdMode::Local
    }
}

fn read_manifest(context: &Context, component: &str) -> Option<StaticPod> {
    if !context.host.exists(&manifest_path(component)) {
        return None;
    }
    match StaticPod::read_cached(context, component).as_ref() {
        Ok(pod) => Some(pod.clone()),
        Err(error) => {
            // control-plane-flags reports the broken manifest.
            tracing::debug!(%error, "manifest not usable for the pki check");
            None
        }
    }
}

/// Decides whether etcd is kubeadm's local etcd. An `etcd.external` block means external.
/// Otherwise an etcd manifest or the etcd CA on this node means local, as in the certificate
/// inventory, and anything else means external.
fn etcd_mode(
    host: &dyn Host,
    has_etcd_manifest: bool,
    apiserver: Option<&StaticPod>,
    config: &KubeadmConfig,
) -> EtcdMode {
    if config
        .cluster()
        .is_some_and(|cluster| cluster.etcd.external.is_some())
    {
        return EtcdMode::External {
            reason: format!("etcd.external is set in {}", config.cluster_source()),
        };
    }
    if has_etcd_manifest || host.exists(&format!("{PKI_DIR}/etcd/ca.crt")) {
        return EtcdMode::Local;
    }
    let servers = apiserver
        .and_then(|pod| pod.value("etcd-servers"))
        .unwrap_or("not set");
    EtcdMode::External {
        reason: format!(
            "there is no etcd static pod and no {PKI_DIR}/etcd/ca.crt; the API server's \
             --etcd-servers is {servers}"
        ),
    }
}
