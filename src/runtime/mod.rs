//! Container runtime configuration: which runtimes are installed and which one the kubelet
//! talks to, containerd's config.toml and Docker's daemon.json as far as the kubelet's settings
//! depend on them, and how Docker, containerd and CRI-O decide whether to trust a registry.

pub mod certs_dir;
pub mod containerd;
pub mod containerd_registry;
pub mod crio;
pub mod docker;
pub mod docker_registry;
pub mod hosts_toml;
mod installed;
pub mod k3s;
mod kubelet;
pub mod system_roots;
pub mod trust;

pub use installed::{Runtime, installed_runtimes};
pub use kubelet::{KubeletRuntime, detect_kubelet_runtime};

/// A value read from a configuration file, with the 1-based line that sets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub line: usize,
}

/// Returns the 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The cgroup driver a kubelet or runtime uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupDriver {
    Systemd,
    Cgroupfs,
}

impl CgroupDriver {
    pub fn parse(value: &str) -> Option<CgroupDriver> {
        match value.trim() {
            "systemd" => Some(CgroupDriver::Systemd),
            "cgroupfs" => Some(CgroupDriver::Cgroupfs),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CgroupDriver::Systemd => "systemd",
            CgroupDriver::Cgroupfs => "cgroupfs",
        }
    }
}

impl std::fmt::Display for CgroupDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
