//! `node-doctor certs`: certificate expiry in the layout of `kubeadm certs check-expiration`,
//! with the kubelet's client certificate added as the row `kubelet-client`.
//!
//! [`Inventory`] reads the certificates through the host. The `cert-expiry` check uses the same
//! inventory, so the table and the findings always agree.

mod catalog;
mod external_ca;
mod human_duration;
mod inventory;
mod json;
mod load;
mod prometheus;
mod tabwriter;
mod text;

pub use catalog::{
    AUTHORITIES, CERTIFICATES, KUBELET_CLIENT, KUBERNETES_DIR, Kind, PKI_DIR, Spec, ca_paths,
};
pub use external_ca::ExternalCas;
pub use human_duration::short_human_duration;
pub use inventory::{Entry, Inventory, State, is_control_plane};
pub use tabwriter::{KUBEADM as KUBEADM_TABWRITER, TabWriter};
pub use text::format_expiry;

use jiff::Timestamp;

use crate::check::Context;
use crate::cli::OutputFormat;

/// Reads this node's certificates and renders them in the requested format.
pub fn render(context: &Context, format: OutputFormat) -> anyhow::Result<String> {
    let inventory = Inventory::read(context.host.as_ref());
    let now = context.now();
    match format {
        OutputFormat::Text => Ok(text::render(&inventory, now)),
        OutputFormat::Json => json::render(&inventory, now),
        OutputFormat::Prometheus => Ok(prometheus::render(&inventory)),
        OutputFormat::Npd => anyhow::bail!(
            "`node-doctor certs` has no npd output; use --output text, json or prometheus"
        ),
    }
}

/// Returns the whole seconds from `now` until `not_after`, truncated towards zero as kubeadm
/// does, and negative once it has passed.
pub fn residual_seconds(not_after: Timestamp, now: Timestamp) -> i64 {
    not_after.duration_since(now).as_secs()
}
