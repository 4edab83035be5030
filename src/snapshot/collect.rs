//! `node-doctor collect`: runs every check against the live host through a [`RecordingHost`],
//! then copies what they read into a `node-doctor-snapshot/v1` directory or .tar.gz, with
//! secrets removed by [`super::redact`].

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde::Serialize;

use crate::check::{self, RunnerOptions};
use crate::host::{FileKind, FileMeta, Host, HostErrorKind, MAX_CONFIG_BYTES, SNAPSHOT_FORMAT};

use super::recording::{Captured, PathUse, RecordingHost};
use super::redact;

/// The most symlinks followed from one recorded path, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINK_HOPS: u32 = 40;

/// Cap on a file that no check read but whose directory a check listed. Bigger ones are
/// written empty, so a listing of large logs costs no more than their names.
const MAX_LISTED_FILE_BYTES: u64 = 64 * 1024;

/// What `collect` wrote, for the summary line and the tests.
#[derive(Debug, Default)]
pub struct CollectSummary {
    pub files: usize,
    pub symlinks: usize,
    pub special: usize,
    pub redacted: usize,
    pub unavailable: usize,
}

/// snapshot.json as `collect` writes it. The reader ignores the fields it does not know.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    format: &'static str,
    node: String,
    captured_at: String,
    collected_by: String,
    special: BTreeMap<String, &'static str>,
    /// Host path, or snapshot file for command output, to the changes made to it.
    redacted: BTreeMap<String, Vec<String>>,
    /// Command output and API responses that could not be captured, with the reason.
    unavailable: BTreeMap<String, String>,
    /// Files written shorter than on the node: log tails and large listed files.
    truncated: BTreeMap<String, String>,
}

/// Runs the checks on `host` and writes what they read to `output`: a .tar.gz (or .tgz) file,
/// or else a directory that must not exist yet or be empty.
pub fn collect(
    context_for: impl FnOnce(Arc<dyn Host>) -> anyhow::Result<crate::check::Context>,
    host: Arc<dyn Host>,
    output: &Path,
) -> anyhow::Result<CollectSummary> {
    let archive = is_archive_name(output);
    if !archive && output.exists() && fs::read_dir(output)?.next().is_some() {
        bail!(
            "{}: the directory is not empty; name a new directory or a .tar.gz file",
            output.display()
        );
    }

    let recorder = Arc::new(RecordingHost::new(Arc::clone(&host)));
    let context = Arc::new(context_for(Arc::clone(&recorder) as Arc<dyn Host>)?);
    tracing::info!(
        node = context.node_name(),
        "collect: running checks to record what they read"
    );
    check::run_checks(
        crate::checks::builtin(),
        Arc::clone(&context),
        &RunnerOptions::default(),
    );
    // `node-doctor certs` reads the kubeadm certificate table, which may name files no check
    // opened, so its reads are recorded too.
    if let Err(error) = crate::certs::render(&context, crate::cli::OutputFormat::Json) {
        tracing::debug!(%error, "certs table failed while collecting");
    }
    let recording = recorder.take();

    let staging_parent;
    let staging = if archive {
        staging_parent = tempfile::Builder::new()
            .prefix("node-doctor-collect-")
            .tempdir()
            .context("cannot create a temporary directory for the snapshot")?;
        staging_parent.path().to_path_buf()
    } else {
        fs::create_dir_all(output)
            .with_context(|| format!("cannot create {}", output.display()))?;
        output.to_path_buf()
    };

    let mut writer = Writer {
        host: host.as_ref(),
        rootfs: staging.join("rootfs"),
        done: HashSet::new(),
        manifest: Manifest {
            format: SNAPSHOT_FORMAT,
            node: context.node_name().to_string(),
            captured_at: context.now().to_string(),
            collected_by: format!("node-doctor {}", env!("CARGO_PKG_VERSION")),
            special: BTreeMap::new(),
            redacted: BTreeMap::new(),
            unavailable: BTreeMap::new(),
            truncated: BTreeMap::new(),
        },
        summary: CollectSummary::default(),
    };
    fs::create_dir_all(&writer.rootfs)?;
    for (path, used) in &recording.paths {
        writer.capture(path, *used, 0)?;
    }
    for (file, captured) in &recording.outputs {
        writer.write_output(&staging, file, captured)?;
    }
    let manifest = serde_json::to_string_pretty(&writer.manifest)? + "\n";
    fs::write(staging.join("snapshot.json"), manifest)?;

    if archive {
        write_tar_gz(&staging, output)?;
    }
    let summary = writer.summary;
    tracing::info!(
        output = %output.display(),
        files = summary.files,
        symlinks = summary.symlinks,
        special = summary.special,
        redacted = summary.redacted,
        unavailable = summary.unavailable,
        "collect finished"
    );
    Ok(summary)
}

/// Returns whether `path` names a gzip-compressed tar file rather than a directory.
pub fn is_archive_name(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

/// The bytes to write for one file, with a note for the manifest when they differ from the node.
struct Content {
    bytes: Vec<u8>,
    note: Option<String>,
    /// Extends the file with zeros to this size, as a sparse file.
    pad_to: Option<u64>,
}

impl Content {
    fn whole(bytes: Vec<u8>) -> Content {
        Content {
            bytes,
            note: None,
            pad_to: None,
        }
    }
}

struct Writer<'a> {
    host: &'a dyn Host,
    rootfs: PathBuf,
    /// Host paths already written, so shared parents and symlinks are handled once.
    done: HashSet<String>,
    manifest: Manifest,
    summary: CollectSummary,
}

impl Writer<'_> {
    /// Copies one host path, and every symlink on the way to it, into rootfs/.
    fn capture(&mut self, path: &str, used: PathUse, hops: u32) -> anyhow::Result<()> {
        if hops > MAX_SYMLINK_HOPS {
            return Ok(());
        }
        let components: Vec<&str> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        let mut current = String::new();
        for (index, component) in components.iter().enumerate() {
            if *component == ".." {
                if let Some(slash) = current.rfind('/') {
                    current.truncate(slash);
                }
                continue;
            }
            let candidate = format!("{current}/{component}");
            let is_last = index + 1 == components.len();
            if !is_last && self.done.contains(&candidate) && self.real(&candidate).is_dir() {
                current = candidate;
                continue;
            }
            let meta = match self.host.lstat(&candidate) {
                Ok(meta) => meta,
                Err(error) if error.is_not_found() => return Ok(()),
                Err(error) => {
                    tracing::debug!(path = candidate, %error, "collect: cannot stat");
                    return Ok(());
                }
            };
            if meta.kind == FileKind::Symlink {
                let target = self.write_symlink(&candidate)?;
                let Some(target) = target else {
                    return Ok(());
                };
                let base = if target.starts_with('/') {
                    target
                } else {
                    format!("{current}/{target}")
                };
                let rest = components[index + 1..].join("/");
                let next = if rest.is_empty() {
                    base
                } else {
                    format!("{base}/{rest}")
                };
                return self.capture(&next, used, hops + 1);
            }
            if is_last || meta.kind != FileKind::Directory {
                return self.write_object(&candidate, &meta, used);
            }
            self.make_dir(&candidate, &meta)?;
            current = candidate;
        }
        if components.is_empty() && used.listed {
            let meta = self.host.lstat("/")?;
            self.write_object("/", &meta, used)?;
        }
        Ok(())
    }

    fn real(&self, host_path: &str) -> PathBuf {
        self.rootfs.join(host_path.trim_start_matches('/'))
    }

    fn make_dir(&mut self, path: &str, meta: &FileMeta) -> anyhow::Result<()> {
        let real = self.real(path);
        if !real.is_dir() {
            fs::create_dir_all(&real)?;
            set_mode(&real, meta.mode | 0o700);
        }
        self.done.insert(path.to_string());
        Ok(())
    }

    /// Writes the symlink at `path` and returns its target, or `None` if it was written before.
    fn write_symlink(&mut self, path: &str) -> anyhow::Result<Option<String>> {
        let target = match self.host.read_link(path) {
            Ok(target) => target,
            Err(error) => {
                tracing::debug!(path, %error, "collect: cannot read symlink");
                return Ok(None);
            }
        };
        let real = self.real(path);
        if fs::symlink_metadata(&real).is_err() {
            fs::create_dir_all(real.parent().expect("a host path below / has a parent"))?;
            std::os::unix::fs::symlink(&target, &real)
                .with_context(|| format!("cannot write symlink {}", real.display()))?;
            self.summary.symlinks += 1;
        }
        // The target is followed once per recorded use, so it is not skipped when seen before.
        self.done.insert(path.to_string());
        Ok(Some(target))
    }

    fn write_object(&mut self, path: &str, meta: &FileMeta, used: PathUse) -> anyhow::Result<()> {
        match meta.kind {
            FileKind::Directory => {
                self.make_dir(path, meta)?;
                if used.listed {
                    self.write_listing(path)?;
                }
                Ok(())
            }
            FileKind::Regular => self.write_regular(path, meta, used),
            FileKind::Symlink => Ok(()),
            FileKind::Fifo | FileKind::Socket | FileKind::CharDevice | FileKind::BlockDevice => {
                let name = match meta.kind {
                    FileKind::Fifo => "fifo",
                    FileKind::Socket => "socket",
                    FileKind::CharDevice => "char-device",
                    _ => "block-device",
                };
                if self
                    .manifest
                    .special
                    .insert(path.to_string(), name)
                    .is_none()
                {
                    self.summary.special += 1;
                }
                Ok(())
            }
        }
    }

    /// Makes every entry of a listed directory exist in the snapshot with its type. Entries no
    /// check read are copied when small and written empty when not, so names and types match.
    fn write_listing(&mut self, path: &str) -> anyhow::Result<()> {
        let entries = match self.host.read_dir(path) {
            Ok(entries) => entries,
            Err(error) => {
                tracing::debug!(path, %error, "collect: cannot list");
                return Ok(());
            }
        };
        for entry in entries {
            let child = format!("{}/{}", path.trim_end_matches('/'), entry.name);
            if self.done.contains(&child) {
                continue;
            }
            let Ok(meta) = self.host.lstat(&child) else {
                continue;
            };
            match meta.kind {
                FileKind::Symlink => {
                    self.write_symlink(&child)?;
                }
                FileKind::Directory => self.make_dir(&child, &meta)?,
                _ => self.write_object(&child, &meta, PathUse::default())?,
            }
        }
        Ok(())
    }

    fn write_regular(&mut self, path: &str, meta: &FileMeta, used: PathUse) -> anyhow::Result<()> {
        if self.done.contains(path) && used == PathUse::default() {
            return Ok(());
        }
        let Some(content) = self.read_for_snapshot(path, meta, used) else {
            return Ok(());
        };
        let Content {
            bytes,
            note,
            pad_to,
        } = content;
        let redacted = redact::redact(&bytes);
        if !redacted.changes.is_empty() {
            self.summary.redacted += 1;
            self.manifest
                .redacted
                .insert(path.to_string(), redacted.changes);
        }
        if let Some(note) = note {
            self.manifest.truncated.insert(path.to_string(), note);
        }
        let real = self.real(path);
        fs::create_dir_all(real.parent().expect("a host path below / has a parent"))?;
        let file_existed = real.exists();
        // A path read both whole and as a tail is written once with the longer content.
        if !file_existed || fs::metadata(&real)?.len() < redacted.bytes.len() as u64 {
            fs::write(&real, &redacted.bytes)
                .with_context(|| format!("cannot write {}", real.display()))?;
            set_mode(&real, meta.mode);
        }
        if let Some(size) = pad_to {
            let file = fs::OpenOptions::new().write(true).open(&real)?;
            file.set_len(size)?;
        }
        if !file_existed {
            self.summary.files += 1;
        }
        self.done.insert(path.to_string());
        Ok(())
    }

    /// Reads what the checks read of a file: the whole file, its tail, or for a file that was
    /// only stat'ed or listed, the file when it is small. Returns `None` when it cannot be read.
    fn read_for_snapshot(&self, path: &str, meta: &FileMeta, used: PathUse) -> Option<Content> {
        if let Some(max) = used.read_max {
            match self.host.read_file(path, max) {
                Ok(bytes) => return Some(Content::whole(bytes)),
                Err(error) => {
                    if let HostErrorKind::TooLarge { size, max } = error.kind {
                        // A sparse file one byte over the cap gives the same "too large" error
                        // without carrying the file.
                        return Some(Content {
                            bytes: Vec::new(),
                            note: Some(format!(
                                "{size} bytes on the node, over the {max}-byte cap: written as {} zero bytes",
                                max + 1
                            )),
                            pad_to: Some(max + 1),
                        });
                    }
                    tracing::debug!(path, %error, "collect: cannot read");
                    used.tail_max?;
                }
            }
        }
        if let Some(max) = used.tail_max {
            let tail = match self.host.read_tail(path, max) {
                Ok(tail) => tail,
                Err(error) => {
                    tracing::debug!(path, %error, "collect: cannot read tail");
                    return None;
                }
            };
            if tail.offset == 0 {
                return Some(Content::whole(tail.bytes));
            }
            // Log readers drop the partial first line of a tail, so it is not kept.
            let start = tail
                .bytes
                .iter()
                .position(|&b| b == b'\n')
                .map_or(tail.bytes.len(), |i| i + 1);
            let note = format!(
                "last {} of {} bytes kept",
                tail.bytes.len() - start,
                tail.file_size
            );
            return Some(Content {
                bytes: tail.bytes[start..].to_vec(),
                note: Some(note),
                pad_to: None,
            });
        }
        let cap = if path.starts_with("/proc/") || path.starts_with("/sys/") {
            MAX_CONFIG_BYTES
        } else {
            MAX_LISTED_FILE_BYTES
        };
        if meta.size > cap {
            let note = format!(
                "{} bytes on the node, not read by any check: written empty",
                meta.size
            );
            return Some(Content {
                bytes: Vec::new(),
                note: Some(note),
                pad_to: None,
            });
        }
        match self.host.read_file(path, cap) {
            Ok(bytes) => Some(Content::whole(bytes)),
            Err(error) => {
                tracing::debug!(path, %error, "collect: cannot read");
                Some(Content {
                    bytes: Vec::new(),
                    note: Some(format!("unreadable: {}", error.kind)),
                    pad_to: None,
                })
            }
        }
    }

    fn write_output(
        &mut self,
        staging: &Path,
        file: &str,
        captured: &Captured,
    ) -> anyhow::Result<()> {
        if file.split('/').any(|c| c == ".." || c.is_empty()) {
            tracing::warn!(file, "collect: skipping output with an unsafe file name");
            return Ok(());
        }
        match &captured.result {
            Ok(text) => {
                let redacted = redact::redact_text(text);
                if !redacted.changes.is_empty() {
                    self.summary.redacted += 1;
                    self.manifest
                        .redacted
                        .insert(file.to_string(), redacted.changes);
                }
                let path = staging.join(file);
                fs::create_dir_all(path.parent().expect("output files are in a folder"))?;
                fs::write(&path, &redacted.bytes)?;
            }
            Err(why) => {
                tracing::info!(command = captured.display, why, "collect: not captured");
                self.summary.unavailable += 1;
                self.manifest
                    .unavailable
                    .insert(file.to_string(), format!("{}: {why}", captured.display));
            }
        }
        Ok(())
    }
}

fn set_mode(path: &Path, mode: u32) {
    if let Err(error) = fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o777)) {
        tracing::debug!(path = %path.display(), %error, "collect: cannot set mode");
    }
}

/// Packs `dir` into a gzip-compressed tar at `output`, with entries at the top level and
/// symlinks kept as symlinks.
fn write_tar_gz(dir: &Path, output: &Path) -> anyhow::Result<()> {
    let file =
        fs::File::create(output).with_context(|| format!("cannot create {}", output.display()))?;
    let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    builder.follow_symlinks(false);
    builder
        .append_dir_all(".", dir)
        .with_context(|| format!("cannot write {}", output.display()))?;
    builder.into_inner()?.finish()?;
    Ok(())
}
