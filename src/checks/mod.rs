//! The built-in checks, one file or folder each.

use std::sync::Arc;

use crate::check::Check;

mod cert_expiry;
mod control_plane_flags;
mod kubelet_client_cert;
mod pki;

pub use cert_expiry::CertExpiry;
pub use control_plane_flags::ControlPlaneFlags;
pub use kubelet_client_cert::KubeletClientCert;
pub use pki::Pki;

/// Returns every built-in check, in the order reports list them.
pub fn builtin() -> Vec<Arc<dyn Check>> {
    vec![
        Arc::new(KubeletClientCert),
        Arc::new(CertExpiry),
        Arc::new(Pki),
        Arc::new(ControlPlaneFlags),
    ]
}
