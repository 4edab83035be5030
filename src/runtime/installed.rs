//! Detection of installed container runtimes from their units, configuration files, programs
//! and sockets.

use crate::host::Host;
use crate::systemd::Unit;

/// A container runtime whose files node-doctor reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Runtime {
    Containerd,
    Docker,
    CriO,
}

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Containerd => "containerd",
            Runtime::Docker => "Docker",
            Runtime::CriO => "CRI-O",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Runtime::Containerd => "containerd.service",
            Runtime::Docker => "docker.service",
            Runtime::CriO => "crio.service",
        }
    }

    /// Returns the CRI sockets the kubelet may use with this runtime, the paths kubeadm looks for.
    pub fn cri_sockets(self) -> &'static [&'static str] {
        match self {
            Runtime::Containerd => &["/run/containerd/containerd.sock"],
            Runtime::Docker => &["/run/cri-dockerd.sock", "/run/docker.sock"],
            Runtime::CriO => &["/run/crio/crio.sock"],
        }
    }

    fn marker_files(self) -> &'static [&'static str] {
        match self {
            Runtime::Containerd => &[
                "/etc/containerd/config.toml",
                "/usr/bin/containerd",
                "/usr/local/bin/containerd",
            ],
            Runtime::Docker => &["/etc/docker/daemon.json", "/usr/bin/dockerd"],
            Runtime::CriO => &["/etc/crio/crio.conf", "/usr/bin/crio"],
        }
    }

    pub const ALL: [Runtime; 3] = [Runtime::Containerd, Runtime::Docker, Runtime::CriO];
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Returns the runtimes with a unit, a configuration file, a program or a socket on the host.
/// Docker 18.09 and later also bring containerd, which is then listed too.
pub fn installed_runtimes(host: &dyn Host) -> Vec<Runtime> {
    Runtime::ALL
        .into_iter()
        .filter(|runtime| {
            Unit::load(host, runtime.unit()).fragment.is_some()
                || runtime
                    .marker_files()
                    .iter()
                    .chain(runtime.cri_sockets())
                    .any(|path| host.exists(path))
        })
        .collect()
}
