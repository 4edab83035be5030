//! The host seam: every read of the node goes through [`Host`].
//!
//! Checks never open a path, spawn a command or call the network themselves. They ask a `Host`,
//! which is either the running machine ([`LiveHost`], honouring `--root`) or a captured node
//! ([`SnapshotHost`]). Both resolve paths the same way, under a root that symlinks cannot escape,
//! so a check gives the same answer on a node and on a snapshot of it.

pub mod api;
mod command;
mod error;
mod fetch;
mod http;
mod kernel_root;
mod live;
mod memo;
mod meta;
mod network;
mod rootfs;
mod snapshot;

pub use command::{CommandOutput, HostCommand};
pub use error::{HostError, HostErrorKind};
pub use fetch::{DEFAULT_METADATA_URL, FetchRequest, NetworkSettings};
pub use live::LiveHost;
pub(crate) use live::encode_path_segment;
pub use memo::Memo;
pub use meta::{DirEntry, FileKind, FileMeta, FileTail};
pub use rootfs::RootFs;
pub use snapshot::{SNAPSHOT_FORMAT, SnapshotHost};

use std::net::TcpStream;
use std::time::Duration;

use jiff::Timestamp;

/// Where a host's data comes from, as the JSON report's `source` field names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Live,
    Snapshot,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Live => "live",
            Source::Snapshot => "snapshot",
        }
    }
}

/// Default size cap for configuration files, certificates and kubeconfigs.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Read access to one node. Every path is a host path such as `/etc/kubernetes/kubelet.conf`.
pub trait Host: Send + Sync {
    fn source(&self) -> Source;

    /// Returns the time checks compare validity windows against.
    fn now(&self) -> Timestamp;

    /// Returns the node name recorded by whoever captured the host, if any.
    fn recorded_node_name(&self) -> Option<String>;

    /// Returns the store for values derived once per run, when the host keeps one.
    fn memo(&self) -> Option<&Memo> {
        None
    }

    /// Reads a regular file, following symlinks under the root. Fails with
    /// [`HostErrorKind::TooLarge`] instead of reading more than `max_bytes`.
    fn read_file(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, HostError>;

    /// Reads at most the last `max_bytes` of a regular file, following symlinks under the root
    /// like [`Host::read_file`]. It seeks to the tail, so a huge or sparse log costs no more than
    /// a small one, and a FIFO or device fails with [`HostErrorKind::NotRegularFile`] without
    /// blocking.
    fn read_tail(&self, path: &str, max_bytes: u64) -> Result<FileTail, HostError>;

    /// Returns the metadata of `path`, following symlinks under the root.
    fn stat(&self, path: &str) -> Result<FileMeta, HostError>;

    /// Returns the metadata of `path` itself, without following a final symlink.
    fn lstat(&self, path: &str) -> Result<FileMeta, HostError>;

    /// Returns a symlink's target exactly as stored.
    fn read_link(&self, path: &str) -> Result<String, HostError>;

    /// Returns the host path that `path` names once every symlink is resolved under the root.
    fn canonicalize(&self, path: &str) -> Result<String, HostError>;

    /// Lists a directory, sorted by name.
    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError>;

    /// Runs one of the read-only commands checks may ask for, or reads its captured output.
    fn run(&self, command: &HostCommand) -> Result<CommandOutput, HostError>;

    /// Makes a network request, or reads its captured answer from a snapshot. Returns the
    /// response body. Fails with [`HostErrorKind::Unavailable`] when the request is not allowed
    /// (`--offline`) or the snapshot lacks the answer.
    fn fetch(&self, request: &FetchRequest) -> Result<String, HostError>;
    /// Opens a TCP connection to `host:port` within `timeout`. `host` is a DNS name or an IP
    /// address, and the host resolves names itself. Only a live host has a network: the default
    /// fails with [`HostErrorKind::Unavailable`].
    fn connect_tcp(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<TcpStream, HostError> {
        let _ = timeout;
        Err(HostError::new(
            format!("{host}:{port}"),
            HostErrorKind::Unavailable("a snapshot has no network".to_string()),
        ))
    }

    /// Returns the directory a live host's file system is read under (`--root`), or `None`
    /// for a snapshot.
    fn live_root(&self) -> Option<&std::path::Path> {
        None
    }

    /// Reads a file as UTF-8 text, replacing invalid sequences.
    fn read_text(&self, path: &str, max_bytes: u64) -> Result<String, HostError> {
        let bytes = self.read_file(path, max_bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Returns whether `path` exists, following symlinks. Errors other than "not found" count
    /// as existing, because something is there even if it cannot be read.
    fn exists(&self, path: &str) -> bool {
        match self.stat(path) {
            Ok(_) => true,
            Err(error) => !error.is_not_found(),
        }
    }
}
