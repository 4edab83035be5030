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

/// Cap on the number of entries a .tar.gz snapshot may hold. Each unpacked entry costs file
/// system calls: a 1 MB archive of 200,000 empty entries took 14 s to unpack (debug build on
/// two shared cores).
// NOTE: 50,000 is an estimate of room for /proc and the pod logs of a busy node, not a measured
// maximum of real snapshots.
const MAX_ARCHIVE_ENTRIES: u64 = 50_000;

/// Cap on the size of snapshot.json.
const MAX_MANIFEST_BYTES: u64 = super::MAX_CONFIG_BYTES;

/// First guess of the bytes per journal line when reading a captured journal's tail.
const JOURNAL_LINE_GUESS: u64 = 256;

/// Cap on the tail of a captured journal that one command reads.
// NOTE: 8 MiB contains 5,000 lines of up to 1.6 KiB; a journal of longer lines yields fewer lines
// than requested, where live journalctl would return them all.
const MAX_JOURNAL_TAIL: u64 = 8 * 1024 * 1024;

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
    /// Every path component of every `special` key, to skip resolving paths that cannot match.
    special_names: std::collections::HashSet<String>,
    memo: super::Memo,
    /// Keeps an unpacked .tar.gz alive for as long as the host is used.
    _unpacked: Option<tempfile::TempDir>,
}

impl SnapshotHost {
    /// Opens a snapshot directory or .tar.gz file. `now` overrides the capture time.
    pub fn open(path: &Path, now: Option<Timestamp>) -> anyhow::Result<SnapshotHost> {
        let metadata = fs::metadata(path)
            .with_context(|| format!("cannot open snapshot {}", path.display()))?;
        if metadata.is_dir() {
            return SnapshotHost::from_dir(path.to_path_buf(), path.to_path_buf(), now, None);
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
        // Messages name files inside the archive as ARCHIVE/PATH, not by the temporary directory.
        let shown = match dir.strip_prefix(unpacked.path()) {
            Ok(inside) if !inside.as_os_str().is_empty() => path.join(inside),
            _ => path.to_path_buf(),
        };
        SnapshotHost::from_dir(dir, shown, now, Some(unpacked))
    }

    /// Opens the unpacked snapshot in `dir`. `shown` is the path error messages give for `dir`.
    fn from_dir(
        dir: PathBuf,
        shown: PathBuf,
        now: Option<Timestamp>,
        unpacked: Option<tempfile::TempDir>,
    ) -> anyhow::Result<SnapshotHost> {
        // snapshot.json and rootfs/ are looked up under the snapshot directory like any path
        // in rootfs/, so a symlink in their place cannot lead node-doctor to a file outside the
        // snapshot, and a FIFO or device in place of snapshot.json cannot hang the read.
        let snapshot_files = RootFs::new(&dir);
        let manifest_path = shown.join("snapshot.json");
        let bytes = snapshot_files
            .read_file("/snapshot.json", MAX_MANIFEST_BYTES)
            .map_err(|error| {
                anyhow::anyhow!("cannot read {}: {}", manifest_path.display(), error.kind)
            })?;
        let text = String::from_utf8(bytes)
            .with_context(|| format!("{} is not UTF-8 text", manifest_path.display()))?;
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

        let rootfs = snapshot_files
            .canonicalize("/rootfs")
            .map(|resolved| snapshot_files.real_path(&resolved))
            .map_err(|error| {
                anyhow::anyhow!("cannot open rootfs/ in {}: {}", shown.display(), error.kind)
            })?;

        tracing::debug!(dir = %dir.display(), node = ?manifest.node, "opened snapshot");
        let special_names = special
            .keys()
            .flat_map(|key| key.split('/'))
            .filter(|name| !name.is_empty())
            .map(str::to_string)
            .collect();
        Ok(SnapshotHost {
            special_names,
            rootfs: RootFs::new(rootfs),
            dir,
            node: manifest.node,
            captured_at,
            now,
            special,
            memo: super::Memo::default(),
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
        if !self.may_name_special(path) {
            return None;
        }
        let resolved = self.resolve_for_special(path, follow_last);
        self.special.get(&resolved).copied()
    }

    /// Returns whether `path` can resolve to a `special` entry or a folder above one: its last
    /// component appears in some entry, or it is a symlink in rootfs/ that may point at one.
    fn may_name_special(&self, path: &str) -> bool {
        let name = path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        if self.special_names.contains(name) {
            return true;
        }
        matches!(self.rootfs.lstat(path), Ok(meta) if meta.kind == FileKind::Symlink)
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
        if !self.may_name_special(path) {
            return None;
        }
        let resolved = self.resolve_for_special(path, follow_last);
        self.has_special_under(&resolved).then(|| FileMeta {
            mode: 0o755,
            ..FileMeta::special(FileKind::Directory)
        })
    }

    /// Stats a path. A `special` entry is looked up by its literal path first, and by the
    /// resolved path only when rootfs/ lacks the file, because resolving costs a walk of every
    /// component and nearly all paths checks ask for are ordinary files.
    fn stat_with(&self, path: &str, follow_last: bool) -> Result<FileMeta, HostError> {
        if let Some(kind) = self.special.get(path) {
            return Ok(FileMeta::special(*kind));
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

    fn memo(&self) -> Option<&super::Memo> {
        Some(&self.memo)
    }

    fn read_file(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, HostError> {
        if let Some(kind) = self.special.get(path) {
            return Err(HostError::new(path, HostErrorKind::NotRegularFile(*kind)));
        }
        match self.rootfs.read_file(path, max_bytes) {
            Err(error) if error.is_not_found() => match self.special_kind(path, true) {
                Some(kind) => Err(HostError::new(path, HostErrorKind::NotRegularFile(kind))),
                None => Err(error),
            },
            other => other,
        }
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
        if self.special.is_empty() || !self.may_name_special(path) {
            return self.rootfs.read_dir(path);
        }
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
        if let HostCommand::Journal { lines, .. } = command {
            let stdout = self.read_journal_tail(&command.snapshot_path(), *lines, command)?;
            return Ok(CommandOutput { stdout });
        }
        let stdout = self.read_captured(&command.snapshot_path(), &command.display())?;
        Ok(CommandOutput { stdout })
    }

    fn fetch(&self, request: &FetchRequest) -> Result<String, HostError> {
        self.read_captured(&request.snapshot_path(), &request.display())
    }
}

impl SnapshotHost {
    /// Returns the last `lines` lines of a captured journal, as `journalctl -n` does, reading
    /// only the end of the file so a long journal costs no more than a short one.
    fn read_journal_tail(
        &self,
        relative: &str,
        lines: u32,
        command: &HostCommand,
    ) -> Result<String, HostError> {
        let snapshot_files = RootFs::new(&self.dir);
        // Starts from a guess of the bytes per line and reads more until the tail holds
        // `lines` whole lines, the whole file, or MAX_JOURNAL_TAIL bytes.
        let mut max_bytes = (u64::from(lines) * JOURNAL_LINE_GUESS).clamp(1, MAX_JOURNAL_TAIL);
        let tail = loop {
            let tail = match snapshot_files.read_tail(relative, max_bytes) {
                Ok(tail) => tail,
                Err(error) if error.is_not_found() => {
                    let why = format!("the snapshot has no {relative}");
                    return Err(HostError::new(
                        command.display(),
                        HostErrorKind::Unavailable(why),
                    ));
                }
                Err(error) => return Err(error),
            };
            let newlines = tail.bytes.iter().filter(|&&b| b == b'\n').count();
            if tail.offset == 0 || newlines > lines as usize || max_bytes >= MAX_JOURNAL_TAIL {
                break tail;
            }
            max_bytes = (max_bytes * 4).min(MAX_JOURNAL_TAIL);
        };
        let text = String::from_utf8_lossy(&tail.bytes);
        let mut body: &str = &text;
        if tail.offset > 0 {
            // The first line of a tail that starts mid-file may be cut, so it is dropped.
            body = body.split_once('\n').map_or("", |(_, rest)| rest);
        }
        let all: Vec<&str> = body.lines().collect();
        let keep = all.len().saturating_sub(lines as usize);
        let mut out = all[keep..].join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        Ok(out)
    }

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
/// `into`. An archive over [`MAX_ARCHIVE_ENTRIES`] or [`MAX_UNPACKED_BYTES`] is rejected by a
/// first pass that only decompresses, before anything is written.
fn unpack_tar_gz(archive_path: &Path, into: &Path) -> anyhow::Result<()> {
    check_archive_limits(archive_path)?;

    let mut archive = open_tar_gz(archive_path)?;
    archive.set_preserve_permissions(false);
    archive.set_unpack_xattrs(false);
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !is_unpacked(entry.header().entry_type()) {
            let name = entry.path()?.display().to_string();
            tracing::debug!(
                entry = name,
                "skipping archive entry that is not a file, directory or symlink"
            );
            continue;
        }
        entry.unpack_in(into)?;
    }
    Ok(())
}

/// Counts the entries and the bytes they would unpack to, failing at the first cap passed.
fn check_archive_limits(archive_path: &Path) -> anyhow::Result<()> {
    let mut archive = open_tar_gz(archive_path)?;
    let mut total: u64 = 0;
    for (index, entry) in archive.entries()?.enumerate() {
        if index as u64 >= MAX_ARCHIVE_ENTRIES {
            bail!("archive has more than {MAX_ARCHIVE_ENTRIES} entries");
        }
        let entry = entry?;
        if is_unpacked(entry.header().entry_type()) {
            total = total.saturating_add(entry.header().size()?);
        }
        if total > MAX_UNPACKED_BYTES {
            bail!("archive unpacks to more than {MAX_UNPACKED_BYTES} bytes");
        }
    }
    Ok(())
}

fn open_tar_gz(archive_path: &Path) -> anyhow::Result<tar::Archive<impl std::io::Read>> {
    let file = fs::File::open(archive_path)?;
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(file)))
}

fn is_unpacked(kind: tar::EntryType) -> bool {
    kind.is_file() || kind.is_dir() || kind.is_symlink()
}

/// Finds the directory with snapshot.json: the archive's top level, or its single folder. A
/// symlink in the folder's place is skipped, because it could point outside the archive.
fn find_snapshot_dir(unpacked: &Path) -> anyhow::Result<PathBuf> {
    if fs::symlink_metadata(unpacked.join("snapshot.json")).is_ok() {
        return Ok(unpacked.to_path_buf());
    }
    for entry in fs::read_dir(unpacked)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        if fs::symlink_metadata(path.join("snapshot.json")).is_ok() {
            return Ok(path);
        }
    }
    bail!("snapshot.json not found")
}
