//! The built-in checks, one file each.

mod cert_expiry;

use std::sync::Arc;

use crate::check::Check;

/// Returns every built-in check, in the order reports list them.
pub fn builtin() -> Vec<Arc<dyn Check>> {
    vec![Arc::new(cert_expiry::CertExpiry)]
}
