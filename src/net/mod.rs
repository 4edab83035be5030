//! Network probes checks may run on a live host: registry addresses, `--resolve` overrides and
//! a TLS handshake that records the certificate chain a server sends.

mod address;
mod tls;

pub use address::{RegistryAddress, ResolveOverride};
pub use tls::{HandshakeError, ServedChain, handshake};
