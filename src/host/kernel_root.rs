//! Path lookup under a root done by the kernel: openat2(2) with RESOLVE_IN_ROOT.
//!
//! RESOLVE_IN_ROOT makes the kernel treat a directory as `/` for one lookup: absolute symlink
//! targets restart there and `..` stops there, the rules [`super::RootFs`] applies by hand. One
//! openat2 call replaces an lstat per path component, which matters because checks probe
//! thousands of paths (unit search paths, drop-in folders) and most of them do not exist.
//! Kernels before Linux 5.6, and seccomp profiles that block the call, make it fail with ENOSYS
//! or EPERM; callers then fall back to the walk in [`super::RootFs`]. Setting
//! NODE_DOCTOR_NO_OPENAT2 to any value forces that walk, so tests can run both.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, open, openat2};
use nix::sys::stat::Mode;

/// Set once openat2 has failed as unsupported, so later lookups skip straight to the walk.
static UNSUPPORTED: AtomicBool = AtomicBool::new(false);

/// A root directory held open for openat2 lookups.
#[derive(Debug)]
pub struct KernelRoot {
    fd: OwnedFd,
}

impl KernelRoot {
    /// Opens `root`, or returns `None` when it cannot be opened or openat2 is known not to work.
    pub fn open(root: &Path) -> Option<KernelRoot> {
        if UNSUPPORTED.load(Ordering::Relaxed)
            || std::env::var_os("NODE_DOCTOR_NO_OPENAT2").is_some()
        {
            return None;
        }
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        match open(root, flags, Mode::empty()) {
            Ok(fd) => Some(KernelRoot { fd }),
            Err(error) => {
                tracing::debug!(root = %root.display(), %error, "cannot hold the root open; resolving paths by hand");
                None
            }
        }
    }

    /// Opens `path` (a host path) under the root with `flags`. Returns `None` when openat2 is
    /// unsupported here, so the caller resolves the path itself.
    pub fn open_at(&self, path: &str, flags: OFlag) -> Option<io::Result<File>> {
        if UNSUPPORTED.load(Ordering::Relaxed) {
            return None;
        }
        // Magic links such as /proc/self/root would lead out of the root, so they are rejected.
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let relative = match path.trim_start_matches('/') {
            "" => ".",
            relative => relative,
        };
        match openat2(&self.fd, relative, how) {
            Ok(fd) => Some(Ok(File::from(fd))),
            Err(Errno::ENOSYS | Errno::EPERM | Errno::E2BIG) => {
                tracing::debug!("openat2 is not available; resolving paths by hand");
                UNSUPPORTED.store(true, Ordering::Relaxed);
                None
            }
            Err(errno) => Some(Err(io::Error::from(errno))),
        }
    }
}
