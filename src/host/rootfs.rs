//! File access under a root directory, with symlinks resolved as if the root were `/`.
//!
//! A container that mounts the node at /host sees `/host/var/lib/kubelet/pki/
//! kubelet-client-current.pem -> /var/lib/kubelet/pki/kubelet-client-2026-....pem`. The target is
//! a host path, so following it with the kernel would leave /host. [`RootFs`] walks each path one
//! component at a time and restarts absolute targets at the root, and `..` stops at the root, the
//! way path lookup works inside a chroot. Nothing it resolves can name a file outside the root.
//! Where the kernel offers the same lookup (openat2 with RESOLVE_IN_ROOT), reads and stats use it
//! instead, which costs one system call instead of one per path component.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use nix::fcntl::OFlag;

use super::kernel_root::KernelRoot;
use super::{DirEntry, FileKind, FileMeta, FileTail, HostError, HostErrorKind};

/// The most symlinks one lookup follows before it is reported as a loop, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINK_HOPS: u32 = 40;

/// A directory that plays the part of `/` for every path a check reads.
#[derive(Clone, Debug)]
pub struct RootFs {
    root: PathBuf,
    /// The root held open for kernel lookups, when the kernel supports them.
    kernel: Option<Arc<KernelRoot>>,
}

/// A host path after symlink resolution, with the real path it maps to.
struct Resolved {
    host: String,
    real: PathBuf,
}

impl RootFs {
    pub fn new(root: impl Into<PathBuf>) -> RootFs {
        let root = root.into();
        let kernel = KernelRoot::open(&root).map(Arc::new);
        RootFs { root, kernel }
    }

    /// Opens a file for reading without blocking, so a FIFO planted where a file should be
    /// cannot hang the read.
    fn open_for_read(&self, path: &str) -> Result<File, HostError> {
        let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
        if let Some(opened) = self.kernel.as_ref().and_then(|k| k.open_at(path, flags)) {
            return opened.map_err(|e| HostError::io(path, e));
        }
        let resolved = self.resolve(path, true)?;
        open_nonblocking(&resolved.real).map_err(|e| HostError::io(path, e))
    }

    /// Stats through the kernel lookup. Returns `None` when it is not available.
    fn stat_in_kernel(&self, path: &str, follow_last: bool) -> Option<Result<FileMeta, HostError>> {
        let mut flags = OFlag::O_PATH;
        if !follow_last {
            flags |= OFlag::O_NOFOLLOW;
        }
        let opened = self.kernel.as_ref()?.open_at(path, flags)?;
        Some(
            opened
                .and_then(|file| file.metadata())
                .map(|metadata| FileMeta::from_metadata(&metadata))
                .map_err(|e| HostError::io(path, e)),
        )
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Maps a host path to the real path without resolving symlinks.
    pub fn real_path(&self, host_path: &str) -> PathBuf {
        let relative = host_path.trim_start_matches('/');
        if relative.is_empty() {
            self.root.clone()
        } else {
            self.root.join(relative)
        }
    }

    pub fn read_file(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, HostError> {
        let file = self.open_for_read(path)?;
        let metadata = file.metadata().map_err(|e| HostError::io(path, e))?;
        let kind = FileKind::from_file_type(metadata.file_type());
        if kind != FileKind::Regular {
            return Err(HostError::new(path, HostErrorKind::NotRegularFile(kind)));
        }
        if metadata.len() > max_bytes {
            let size = metadata.len();
            return Err(HostError::new(
                path,
                HostErrorKind::TooLarge {
                    size,
                    max: max_bytes,
                },
            ));
        }

        let mut contents = Vec::with_capacity(metadata.len() as usize);
        file.take(max_bytes + 1)
            .read_to_end(&mut contents)
            .map_err(|e| HostError::io(path, e))?;
        if contents.len() as u64 > max_bytes {
            let size = contents.len() as u64;
            return Err(HostError::new(
                path,
                HostErrorKind::TooLarge {
                    size,
                    max: max_bytes,
                },
            ));
        }
        Ok(contents)
    }

    /// Reads at most the last `max_bytes` of a regular file. It seeks instead of reading from
    /// the start, so the cost does not depend on the file's size, and a sparse file of any
    /// length is as cheap as a small one.
    pub fn read_tail(&self, path: &str, max_bytes: u64) -> Result<FileTail, HostError> {
        let mut file = self.open_for_read(path)?;
        let metadata = file.metadata().map_err(|e| HostError::io(path, e))?;
        let kind = FileKind::from_file_type(metadata.file_type());
        if kind != FileKind::Regular {
            return Err(HostError::new(path, HostErrorKind::NotRegularFile(kind)));
        }

        let size = metadata.len();
        let offset = size.saturating_sub(max_bytes);
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| HostError::io(path, e))?;
        // The file may grow between fstat and the read, so the read is capped again here.
        let mut bytes = Vec::with_capacity((size - offset) as usize);
        file.take(max_bytes)
            .read_to_end(&mut bytes)
            .map_err(|e| HostError::io(path, e))?;
        Ok(FileTail {
            bytes,
            offset,
            file_size: size,
        })
    }

    pub fn stat(&self, path: &str) -> Result<FileMeta, HostError> {
        if let Some(result) = self.stat_in_kernel(path, true) {
            return result;
        }
        let resolved = self.resolve(path, true)?;
        let metadata = fs::symlink_metadata(&resolved.real).map_err(|e| HostError::io(path, e))?;
        Ok(FileMeta::from_metadata(&metadata))
    }

    pub fn lstat(&self, path: &str) -> Result<FileMeta, HostError> {
        if let Some(result) = self.stat_in_kernel(path, false) {
            return result;
        }
        let resolved = self.resolve(path, false)?;
        let metadata = fs::symlink_metadata(&resolved.real).map_err(|e| HostError::io(path, e))?;
        Ok(FileMeta::from_metadata(&metadata))
    }

    pub fn read_link(&self, path: &str) -> Result<String, HostError> {
        let resolved = self.resolve(path, false)?;
        let target = fs::read_link(&resolved.real).map_err(|e| HostError::io(path, e))?;
        Ok(target.to_string_lossy().into_owned())
    }

    pub fn canonicalize(&self, path: &str) -> Result<String, HostError> {
        Ok(self.resolve(path, true)?.host)
    }

    pub fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        if let Some(result) = self.read_dir_in_kernel(path) {
            return result;
        }
        let resolved = self.resolve(path, true)?;
        let entries = fs::read_dir(&resolved.real).map_err(|e| HostError::io(path, e))?;
        let mut listing = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| HostError::io(path, e))?;
            let kind = match entry.file_type() {
                Ok(file_type) => FileKind::from_file_type(file_type),
                Err(error) => {
                    tracing::debug!(path, %error, "skipping directory entry without a type");
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            listing.push(DirEntry { name, kind });
        }
        listing.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listing)
    }

    /// Lists a directory opened through the kernel lookup. Returns `None` when it is not
    /// available.
    fn read_dir_in_kernel(&self, path: &str) -> Option<Result<Vec<DirEntry>, HostError>> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NONBLOCK;
        let opened = self.kernel.as_ref()?.open_at(path, flags)?;
        Some(
            opened
                .map_err(|e| HostError::io(path, e))
                .and_then(|file| list_open_dir(path, file)),
        )
    }

    /// Resolves `path` component by component. A final symlink is followed only when
    /// `follow_last` is set. A missing final component is not an error here: the caller's open
    /// or stat reports it.
    fn resolve(&self, path: &str, follow_last: bool) -> Result<Resolved, HostError> {
        let mut pending: Vec<OsString> = components_reversed(Path::new(path));
        let mut current: Vec<OsString> = Vec::new();
        // `real` is the root joined with `current`, kept in step with it.
        let mut real = self.root.clone();
        let mut hops = 0;

        while let Some(component) = pending.pop() {
            if component == ".." {
                if current.pop().is_some() {
                    real.pop();
                }
                continue;
            }
            real.push(&component);
            current.push(component);
            let is_last = pending.is_empty();

            let metadata = match fs::symlink_metadata(&real) {
                Ok(metadata) => metadata,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound && is_last => break,
                Err(error) => return Err(HostError::io(path, error)),
            };
            if !metadata.file_type().is_symlink() || (is_last && !follow_last) {
                continue;
            }

            hops += 1;
            if hops > MAX_SYMLINK_HOPS {
                return Err(HostError::new(path, HostErrorKind::SymlinkLoop));
            }
            let target = fs::read_link(&real).map_err(|e| HostError::io(path, e))?;
            current.pop();
            real.pop();
            if target.is_absolute() {
                current.clear();
                real = self.root.clone();
            }
            pending.extend(components_reversed(&target));
        }

        Ok(Resolved {
            host: host_path_string(&current),
            real,
        })
    }
}

/// Splits a path into normal and `..` components, last first, so `Vec::pop` yields them in order.
fn components_reversed(path: &Path) -> Vec<OsString> {
    let mut components: Vec<OsString> = path
        .components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    components.reverse();
    components
}

fn host_path_string(components: &[OsString]) -> String {
    let mut host = String::new();
    for component in components {
        host.push('/');
        host.push_str(&String::from_utf8_lossy(component.as_bytes()));
    }
    if host.is_empty() {
        host.push('/');
    }
    host
}

/// Opens a resolved file without blocking, so a FIFO planted where a file should be cannot hang
/// the read. `O_NOFOLLOW` rejects a symlink swapped in after resolution.
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY | nix::libc::O_NOFOLLOW)
        .open(path)
}

/// Lists an open directory. Entries whose type the file system does not report are stat'ed.
fn list_open_dir(path: &str, dir: File) -> Result<Vec<DirEntry>, HostError> {
    use nix::dir::{Dir, Type};
    use std::os::fd::{AsFd, OwnedFd};

    let mut dir = Dir::from_fd(OwnedFd::from(dir)).map_err(|e| HostError::io(path, e.into()))?;
    let mut named: Vec<(String, Option<Type>)> = Vec::new();
    for entry in dir.iter() {
        let entry = entry.map_err(|e| HostError::io(path, e.into()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != "." && name != ".." {
            named.push((name, entry.file_type()));
        }
    }

    let mut listing = Vec::with_capacity(named.len());
    for (name, file_type) in named {
        let kind = match file_type {
            Some(Type::Directory) => FileKind::Directory,
            Some(Type::File) => FileKind::Regular,
            Some(Type::Symlink) => FileKind::Symlink,
            Some(Type::Fifo) => FileKind::Fifo,
            Some(Type::Socket) => FileKind::Socket,
            Some(Type::CharacterDevice) => FileKind::CharDevice,
            Some(Type::BlockDevice) => FileKind::BlockDevice,
            None => {
                let flags = nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW;
                match nix::sys::stat::fstatat(dir.as_fd(), name.as_str(), flags) {
                    Ok(stat) => kind_from_mode(stat.st_mode),
                    Err(error) => {
                        tracing::debug!(path, name, %error, "skipping directory entry without a type");
                        continue;
                    }
                }
            }
        };
        listing.push(DirEntry { name, kind });
    }
    listing.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(listing)
}

fn kind_from_mode(mode: nix::libc::mode_t) -> FileKind {
    match mode & nix::libc::S_IFMT {
        nix::libc::S_IFDIR => FileKind::Directory,
        nix::libc::S_IFLNK => FileKind::Symlink,
        nix::libc::S_IFIFO => FileKind::Fifo,
        nix::libc::S_IFSOCK => FileKind::Socket,
        nix::libc::S_IFCHR => FileKind::CharDevice,
        nix::libc::S_IFBLK => FileKind::BlockDevice,
        _ => FileKind::Regular,
    }
}
