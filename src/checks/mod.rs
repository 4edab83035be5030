//! The built-in checks, one file or folder each.

use std::sync::Arc;

use crate::check::Check;

mod cert_expiry;
mod kube_proxy_cloud_init;
mod kubelet_client_cert;
mod node_ip;

pub use cert_expiry::CertExpiry;
pub use kube_proxy_cloud_init::KubeProxyCloudInit;
pub use kubelet_client_cert::KubeletClientCert;
pub use node_ip::NodeIp;

/// Returns every built-in check, in the order reports list them.
pub fn builtin() -> Vec<Arc<dyn Check>> {
    vec![
        Arc::new(KubeletClientCert),
        Arc::new(CertExpiry),
        Arc::new(NodeIp),
        Arc::new(KubeProxyCloudInit),
    ]
}
