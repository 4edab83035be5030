//! `node-doctor certs`: certificate expiry in the layout of `kubeadm certs check-expiration`.

use crate::check::Context;
use crate::cli::OutputFormat;

pub fn render(_context: &Context, _format: OutputFormat) -> anyhow::Result<String> {
    anyhow::bail!("not implemented yet")
}
