//! The built-in checks, one file or folder each.

use std::sync::Arc;

use crate::check::Check;

mod cert_expiry;
mod kubelet_client_cert;
mod registry_ca;

pub use cert_expiry::CertExpiry;
pub use kubelet_client_cert::KubeletClientCert;
pub use registry_ca::RegistryCa;

/// Returns every built-in check, in the order reports list them.
pub fn builtin() -> Vec<Arc<dyn Check>> {
    vec![
        Arc::new(KubeletClientCert),
        Arc::new(CertExpiry),
        Arc::new(RegistryCa),
    ]
}
