//! A [`Host`] wrapper that passes every call to another host and remembers what was asked, so
//! `collect` can copy exactly the files, command output and API answers the checks read.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use crate::host::{
    CommandOutput, DirEntry, FetchRequest, FileMeta, FileTail, Host, HostCommand, HostError, Source,
};

/// How a check used one host path. A path used several ways keeps the widest use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathUse {
    /// The largest `max_bytes` of a whole-file read, if the file was read whole.
    pub read_max: Option<u64>,
    /// The largest `max_bytes` of a tail read, if only its end was read.
    pub tail_max: Option<u64>,
    /// Set when the directory was listed.
    pub listed: bool,
}

/// The output of one command or request, or why it was not available.
#[derive(Clone, Debug)]
pub struct Captured {
    /// What an operator would type, such as `ip -j addr show`.
    pub display: String,
    pub result: Result<String, String>,
}

/// Everything a run read, keyed by host path or by the snapshot file that stores it.
#[derive(Debug, Default)]
pub struct Recording {
    pub paths: BTreeMap<String, PathUse>,
    /// Keyed by the file the output goes to, such as `commands/ip-addr.json`.
    pub outputs: BTreeMap<String, Captured>,
}

/// Passes every call to `inner` and records the paths, commands and requests involved.
pub struct RecordingHost {
    inner: Arc<dyn Host>,
    recording: Mutex<Recording>,
}

impl RecordingHost {
    pub fn new(inner: Arc<dyn Host>) -> RecordingHost {
        RecordingHost {
            inner,
            recording: Mutex::new(Recording::default()),
        }
    }

    /// Returns the host the calls go to.
    pub fn inner(&self) -> &Arc<dyn Host> {
        &self.inner
    }

    /// Takes what has been recorded so far, leaving the recording empty.
    pub fn take(&self) -> Recording {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recording> {
        self.recording.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn touch(&self, path: &str, update: impl FnOnce(&mut PathUse)) {
        let mut recording = self.lock();
        update(recording.paths.entry(path.to_string()).or_default());
    }

    fn capture(&self, file: String, display: String, result: Result<String, String>) {
        // A later success replaces an earlier failure, never the other way round.
        let mut recording = self.lock();
        let keep_old = recording
            .outputs
            .get(&file)
            .is_some_and(|old| old.result.is_ok() && result.is_err());
        if !keep_old {
            recording.outputs.insert(file, Captured { display, result });
        }
    }
}

impl Host for RecordingHost {
    fn source(&self) -> Source {
        self.inner.source()
    }

    fn now(&self) -> Timestamp {
        self.inner.now()
    }

    fn recorded_node_name(&self) -> Option<String> {
        self.inner.recorded_node_name()
    }

    fn read_file(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, HostError> {
        self.touch(path, |u| {
            u.read_max = Some(u.read_max.unwrap_or(0).max(max_bytes));
        });
        self.inner.read_file(path, max_bytes)
    }

    fn read_tail(&self, path: &str, max_bytes: u64) -> Result<FileTail, HostError> {
        self.touch(path, |u| {
            u.tail_max = Some(u.tail_max.unwrap_or(0).max(max_bytes));
        });
        self.inner.read_tail(path, max_bytes)
    }

    fn stat(&self, path: &str) -> Result<FileMeta, HostError> {
        self.touch(path, |_| {});
        self.inner.stat(path)
    }

    fn lstat(&self, path: &str) -> Result<FileMeta, HostError> {
        self.touch(path, |_| {});
        self.inner.lstat(path)
    }

    fn read_link(&self, path: &str) -> Result<String, HostError> {
        self.touch(path, |_| {});
        self.inner.read_link(path)
    }

    fn canonicalize(&self, path: &str) -> Result<String, HostError> {
        self.touch(path, |_| {});
        self.inner.canonicalize(path)
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        self.touch(path, |u| u.listed = true);
        self.inner.read_dir(path)
    }

    fn run(&self, command: &HostCommand) -> Result<CommandOutput, HostError> {
        let result = self.inner.run(command);
        let text = match &result {
            Ok(output) => Ok(output.stdout.clone()),
            Err(error) => Err(error.kind.to_string()),
        };
        self.capture(command.snapshot_path(), command.display(), text);
        result
    }

    fn fetch(&self, request: &FetchRequest) -> Result<String, HostError> {
        let result = self.inner.fetch(request);
        let text = match &result {
            Ok(body) => Ok(body.clone()),
            Err(error) => Err(error.kind.to_string()),
        };
        self.capture(request.snapshot_path(), request.display(), text);
        result
    }

    fn connect_tcp(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<std::net::TcpStream, HostError> {
        self.inner.connect_tcp(host, port, timeout)
    }
}
