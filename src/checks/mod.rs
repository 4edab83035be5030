//! The built-in checks, one file each.

use std::sync::Arc;

use crate::check::Check;

/// Returns every built-in check, in the order reports list them.
pub fn builtin() -> Vec<Arc<dyn Check>> {
    vec![]
}
