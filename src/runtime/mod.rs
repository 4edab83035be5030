//! Container runtime configuration: which runtime the kubelet talks to, and how Docker,
//! containerd and CRI-O decide whether to trust a registry's certificate.

pub mod certs_dir;
pub mod containerd;
pub mod crio;
pub mod docker;
pub mod hosts_toml;
pub mod k3s;
mod kubelet;
pub mod system_roots;
pub mod trust;

pub use kubelet::{KubeletRuntime, detect_kubelet_runtime};

use std::fmt;

/// A container runtime that pulls images for the kubelet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Runtime {
    Docker,
    Containerd,
    Crio,
}

impl Runtime {
    pub const ALL: [Runtime; 3] = [Runtime::Containerd, Runtime::Crio, Runtime::Docker];

    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "Docker",
            Runtime::Containerd => "containerd",
            Runtime::Crio => "CRI-O",
        }
    }

    /// Returns the systemd unit that runs the runtime's daemon.
    pub fn unit(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::Crio => "crio",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
