//! The built-in checks, one file or folder each.

use std::sync::Arc;

use crate::check::Check;

mod cert_expiry;
mod control_plane_flags;
mod join_preflight;
mod kube_proxy_cloud_init;
mod kubelet_client_cert;
mod log_signatures;
mod mount_propagation;
mod node_ip;
mod pki;
mod registry_ca;

pub use cert_expiry::CertExpiry;
pub use control_plane_flags::ControlPlaneFlags;
pub use join_preflight::JoinPreflight;
pub use kube_proxy_cloud_init::KubeProxyCloudInit;
pub use kubelet_client_cert::KubeletClientCert;
pub use log_signatures::{LogSignatures, SIGNATURES, Signature, scan};
pub use mount_propagation::MountPropagation;
pub use node_ip::NodeIp;
pub use pki::Pki;
pub use registry_ca::RegistryCa;

/// Returns every built-in check, in the order reports list them.
pub fn builtin() -> Vec<Arc<dyn Check>> {
    vec![
        Arc::new(KubeletClientCert),
        Arc::new(CertExpiry),
        Arc::new(NodeIp),
        Arc::new(MountPropagation),
        Arc::new(JoinPreflight),
        Arc::new(Pki),
        Arc::new(ControlPlaneFlags),
        Arc::new(RegistryCa),
        Arc::new(KubeProxyCloudInit),
        Arc::new(LogSignatures::default()),
    ]
}
