//! A captured node in the `node-doctor-snapshot/v1` format: a directory, or a .tar.gz of one,
//! with `snapshot.json`, the node's files under `rootfs/` and command output under `commands/`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use jiff::Timestamp;
use serde::Deserialize;

use super::{
    CommandOutput, DirEntry, FetchRequest, FileKind, FileMeta, FileTail, Host, HostCommand,
    HostError, HostErrorKind, RootFs, Source,
};

pub const SNAPSHOT_FORMAT: &str = "node-doctor-snapshot/v1";

/// Cap on the bytes a .tar.gz snapshot may unpack to, so a compressed bomb cannot fill the disk.
const MAX_UNPACKED_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Cap on the size of one captured command output.
const MAX_COMMAND_FILE: u64 = 64 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    format: String,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    captured_at: Option<String>,
    #[serde(default)]
    special: BTreeMap<String, String>,
}

pub struct SnapshotHost {
    dir: PathBuf,
    rootfs: RootFs,
    node: Option<String>,
    captured_at: Option<Timestamp>,
    now: Option<Timestamp>,
    special: BTreeMap<String, FileKind>,
    /// Keeps an unpacked .tar.gz alive for as long as the host is used.
    _unpacked: Option<tempfile::TempDir>,
}

impl SnapshotHost {
    /// Opens a snapshot directory or .tar.gz file. `now` overrides the capture time.
    pub fn open(path: &Path, now: Option<Timestamp>) -> anyhow::Result<SnapshotHost> {
        let metadata = fs::metadata(path)
            .with_context(|| format!("cannot open snapshot {}", path.display()))?;
        if metadata.is_dir() {
            return SnapshotHost::from_dir(path.to_path_buf(), now, None);
        }

        let unpacked = tempfile::Builder::new()
            .prefix("node-doctor-snapshot-")
            .tempdir()
            .context("cannot create a temporary directory to unpack the snapshot")?;
        unpack_tar_gz(path, unpacked.path())
            .with_context(|| format!("cannot unpack snapshot {}", path.display()))?;
        let dir = find_snapshot_dir(unpacked.path()).with_context(|| {
            format!(
                "{}: no snapshot.json at the top of the archive",
                path.display()
            )
        })?;
        SnapshotHost::from_dir(dir, now, Some(unpacked))
    }

    fn from_dir(
        dir: PathBuf,
        now: Option<Timestamp>,
        unpacked: Option<tempfile::TempDir>,
    ) -> anyhow::Result<SnapshotHost> {
        let manifest_path = dir.join("snapshot.json");
        let text = fs::read_to_string(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid snapshot JSON", manifest_path.display()))?;
        if manifest.format != SNAPSHOT_FORMAT {
            bail!(
                "{}: format is {:?}, expected {SNAPSHOT_FORMAT:?}",
                manifest_path.display(),
                manifest.format
            );
        }

        let captured_at = match &manifest.captured_at {
            Some(text) => Some(text.parse::<Timestamp>().with_context(|| {
                format!(
                    "{}: capturedAt {text:?} is not an RFC 3339 time",
                    manifest_path.display()
                )
            })?),
            None => None,
        };

        let mut special = BTreeMap::new();
        for (path, name) in &manifest.special {
            match FileKind::from_snapshot_name(name) {
                Some(kind) => {
                    special.insert(normalize_special_path(path), kind);
                }
                None => tracing::warn!(path, kind = name, "ignoring unknown special file type"),
            }
        }

        tracing::debug!(dir = %dir.display(), node = ?manifest.node, "opened snapshot");
        Ok(SnapshotHost {
            rootfs: RootFs::new(dir.join("rootfs")),
            dir,
            node: manifest.node,
            captured_at,
            now,
            special,
            _unpacked: unpacked,
        })
    }

    /// Returns the type a `special` entry gives `path`. The lookup uses the path after
    /// symlinks in rootfs/ are resolved, so `/var/run/x.sock` finds an entry for `/run/x.sock`
    /// when rootfs/var/run links to /run.
    fn special_kind(&self, path: &str, follow_last: bool) -> Option<FileKind> {
        if self.special.is_empty() {
            return None;
        }
        if let Some(kind) = self.special.get(path) {
            return Some(*kind);
        }
        let resolved = self.resolve_for_special(path, follow_last);
        self.special.get(&resolved).copied()
    }

    /// Resolves `path` under rootfs/ as far as rootfs/ has its components. The rest, which only
    /// the `special` map may describe, is appended as written.
    fn resolve_for_special(&self, path: &str, follow_last: bool) -> String {
        let trimmed = path.trim_end_matches('/');
        if follow_last && let Ok(resolved) = self.rootfs.canonicalize(trimmed) {
            return resolved;
        }
        match trimmed.rsplit_once('/') {
            Some((parent, name)) if !parent.is_empty() => {
                let parent = self.resolve_for_special(parent, true);
                format!("{}/{name}", parent.trim_end_matches('/'))
            }
            _ => trimmed.to_string(),
        }
    }

    /// Returns whether some `special` entry lies below the directory `resolved`.
    fn has_special_under(&self, resolved: &str) -> bool {
        let prefix = format!("{}/", resolved.trim_end_matches('/'));
        self.special
            .keys()
            .any(|special| special.starts_with(&prefix))
    }

    /// Returns the metadata of a special file, or of a directory that rootfs/ lacks but that
    /// contains a special file, such as /run/containerd for /run/containerd/containerd.sock.
    fn special_meta(&self, path: &str, follow_last: bool) -> Option<FileMeta> {
        if let Some(kind) = self.special_kind(path, follow_last) {
            return Some(FileMeta::special(kind));
        }
        let resolved = self.resolve_for_special(path, follow_last);
        self.has_special_under(&resolved).then(|| FileMeta {
            mode: 0o755,
            ..FileMeta::special(FileKind::Directory)
        })
    }

    fn stat_with(&self, path: &str, follow_last: bool) -> Result<FileMeta, HostError> {
        if let Some(kind) = self.special_kind(path, follow_last) {
            return Ok(FileMeta::special(kind));
        }
        let stat = if follow_last {
            self.rootfs.stat(path)
        } else {
            self.rootfs.lstat(path)
        };
        match stat {
            Err(error) if error.is_not_found() => self.special_meta(path, follow_last).ok_or(error),
            other => other,
        }
    }
}

/// Writes a `special` key the way host paths are compared: absolute, no trailing slash.
fn normalize_special_path(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

impl Host for SnapshotHost {
    fn source(&self) -> Source {
        Source::Snapshot
    }

    fn now(&self) -> Timestamp {
        self.now.or(self.captured_at).unwrap_or_else(Timestamp::now)
    }

    fn recorded_node_name(&self) -> Option<String> {
        self.node.clone()
    }

    fn read_file(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, HostError> {
        if let Some(kind) = self.special_kind(path, true) {
            return Err(HostError::new(path, HostErrorKind::NotRegularFile(kind)));
        }
        self.rootfs.read_file(path, max_bytes)
    }

    fn read_tail(&self, path: &str, max_bytes: u64) -> Result<FileTail, HostError> {
        if let Some(kind) = self.special_kind(path, true) {
            return Err(HostError::new(path, HostErrorKind::NotRegularFile(kind)));
        }
        self.rootfs.read_tail(path, max_bytes)
    }

    fn stat(&self, path: &str) -> Result<FileMeta, HostError> {
        self.stat_with(path, true)
    }

    fn lstat(&self, path: &str) -> Result<FileMeta, HostError> {
        self.stat_with(path, false)
    }

    fn read_link(&self, path: &str) -> Result<String, HostError> {
        self.rootfs.read_link(path)
    }

    fn canonicalize(&self, path: &str) -> Result<String, HostError> {
        self.rootfs.canonicalize(path)
    }

    /// Lists rootfs/ merged with the `special` entries below `path`: a special file directly
    /// inside is listed with its type, and one deeper down lists its top folder as a directory.
    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        let resolved = self.resolve_for_special(path, true);
        let mut entries = match self.rootfs.read_dir(path) {
            Ok(entries) => entries,
            Err(error) if error.is_not_found() && self.has_special_under(&resolved) => Vec::new(),
            Err(error) => return Err(error),
        };
        let prefix = format!("{}/", resolved.trim_end_matches('/'));
        for (special, kind) in &self.special {
            let Some(rest) = special.strip_prefix(&prefix) else {
                continue;
            };
            let (name, kind) = match rest.split_once('/') {
                Some((folder, _)) => (folder, FileKind::Directory),
                None => (rest, *kind),
            };
            if !name.is_empty() && !entries.iter().any(|entry| entry.name == name) {
                entries.push(DirEntry {
                    name: name.to_string(),
                    kind,
                });
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    fn run(&self, command: &HostCommand) -> Result<CommandOutput, HostError> {
        let stdout = self.read_captured(&command.snapshot_path(), &command.display())?;
        Ok(CommandOutput { stdout })
    }

    fn fetch(&self, request: &FetchRequest) -> Result<String, HostError> {
        self.read_captured(&request.snapshot_path(), &request.display())
    }
}

impl SnapshotHost {
    /// Reads a file outside rootfs/ (commands/, api/, metadata/), or reports it as unavailable.
    fn read_captured(&self, relative: &str, shown: &str) -> Result<String, HostError> {
        let snapshot_files = RootFs::new(&self.dir);
        match snapshot_files.read_file(relative, MAX_COMMAND_FILE) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(error) if error.is_not_found() => {
                let why = format!("the snapshot has no {relative}");
                Err(HostError::new(shown, HostErrorKind::Unavailable(why)))
            }
            Err(error) => Err(error),
        }
    }
}

/// Unpacks regular files, directories and symlinks, refusing entries that would land outside
/// `into` and stopping at [`MAX_UNPACKED_BYTES`].
fn unpack_tar_gz(archive_path: &Path, into: &Path) -> anyhow::Result<()> {
    let file = fs::File::open(archive_path)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    archive.set_preserve_permissions(false);
    archive.set_unpack_xattrs(false);

    let mut total: u64 = 0;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir() || kind.is_symlink()) {
            let name = entry.path()?.display().to_string();
            tracing::debug!(
                entry = name,
                "skipping archive entry that is not a file, directory or symlink"
            );
            continue;
        }
        total = total.saturating_add(entry.header().size()?);
        if total > MAX_UNPACKED_BYTES {
            bail!("archive unpacks to more than {MAX_UNPACKED_BYTES} bytes");
        }
        entry.unpack_in(into)?;
    }
    Ok(())
}

/// Finds the directory with snapshot.json: the archive's top level, or its single folder.
fn find_snapshot_dir(unpacked: &Path) -> anyhow::Result<PathBuf> {
    if unpacked.join("snapshot.json").is_file() {
        return Ok(unpacked.to_path_buf());
    }
    for entry in fs::read_dir(unpacked)? {
        let path = entry?.path();
        if path.join("snapshot.json").is_file() {
            return Ok(path);
        }
    }
    bail!("snapshot.json not found")
}
