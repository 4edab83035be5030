//! The built-in checks, one file each.

use std::sync::Arc;

use crate::check::Check;

mod join_preflight;
mod kubelet_client_cert;
mod mount_propagation;

pub use join_preflight::JoinPreflight;
pub use kubelet_client_cert::KubeletClientCert;
pub use mount_propagation::MountPropagation;

/// Returns every built-in check, in the order reports list them.
pub fn builtin() -> Vec<Arc<dyn Check>> {
    vec![
        Arc::new(KubeletClientCert),
        Arc::new(MountPropagation),
        Arc::new(JoinPreflight),
    ]
}
