//! node-doctor: finds out why a Kubernetes node is broken, or about to break, and says how to
//! fix it.
//!
//! The binary is a thin wrapper around [`app::run`]. Checks read the node only through
//! [`host::Host`], report [`check::Finding`]s with codes from the [`check::Code`] catalog, and
//! [`report`] renders them as text, JSON or Prometheus metrics.

pub mod agent;
pub mod app;
pub mod certs;
pub mod check;
pub mod checks;
pub mod cli;
pub mod diagnose;
pub mod duration;
pub mod host;
pub mod kernel;
pub mod kube;
pub mod net;
pub mod network;
pub mod report;
pub mod rules;
pub mod runtime;
pub mod snapshot;
pub mod systemd;
