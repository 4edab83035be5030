//! The built-in checks, one file each.

use std::sync::Arc;

use crate::check::Check;

mod kubelet_client_cert;

pub use kubelet_client_cert::KubeletClientCert;

/// Returns every built-in check, in the order reports list them.
pub fn builtin() -> Vec<Arc<dyn Check>> {
    vec![Arc::new(KubeletClientCert)]
}
