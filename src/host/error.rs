use std::fmt;
use std::io;

use super::FileKind;

/// A failed read of the host, naming the host path involved.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct HostError {
    pub path: String,
    pub kind: HostErrorKind,
}

#[derive(Debug)]
pub enum HostErrorKind {
    NotFound,
    NotRegularFile(FileKind),
    TooLarge {
        size: u64,
        max: u64,
    },
    SymlinkLoop,
    /// The file exists but this process may not read it, which means node-doctor does not run
    /// as root: the kubelet's and the control plane's files are readable by root only.
    PermissionDenied,
    /// The snapshot does not contain this part, or the command is not available on this host.
    Unavailable(String),
    CommandFailed(String),
    /// An HTTP request failed: connection refused, timed out, or an error status.
    RequestFailed(String),
    /// A server responded with an HTTP error status. `why` names the request, the status and
    /// the credentials that were sent, never their secret part.
    HttpStatus {
        status: u16,
        why: String,
    },
    Io(io::Error),
}

impl HostError {
    pub fn new(path: impl Into<String>, kind: HostErrorKind) -> HostError {
        HostError {
            path: path.into(),
            kind,
        }
    }

    pub fn io(path: impl Into<String>, error: io::Error) -> HostError {
        let kind = match error.kind() {
            io::ErrorKind::NotFound => HostErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => HostErrorKind::PermissionDenied,
            _ if error.raw_os_error() == Some(nix::libc::ELOOP) => HostErrorKind::SymlinkLoop,
            _ => HostErrorKind::Io(error),
        };
        HostError::new(path, kind)
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, HostErrorKind::NotFound)
    }

    pub fn is_unavailable(&self) -> bool {
        matches!(self.kind, HostErrorKind::Unavailable(_))
    }

    /// Returns the HTTP error status of the response, when that is why the request failed.
    pub fn http_status(&self) -> Option<u16> {
        match self.kind {
            HostErrorKind::HttpStatus { status, .. } => Some(status),
            _ => None,
        }
    }
}

impl fmt::Display for HostErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostErrorKind::NotFound => write!(f, "no such file or directory"),
            HostErrorKind::NotRegularFile(kind) => {
                write!(f, "is {}, not a regular file", kind.with_article())
            }
            HostErrorKind::TooLarge { size, max } => {
                write!(
                    f,
                    "file is {size} bytes, over the {max}-byte limit for this file"
                )
            }
            HostErrorKind::SymlinkLoop => write!(f, "too many levels of symbolic links"),
            HostErrorKind::PermissionDenied => {
                write!(f, "permission denied; run node-doctor as root to read it")
            }
            HostErrorKind::Unavailable(why) => write!(f, "not available: {why}"),
            HostErrorKind::CommandFailed(why) => write!(f, "command failed: {why}"),
            HostErrorKind::RequestFailed(why) => write!(f, "request failed: {why}"),
            HostErrorKind::HttpStatus { why, .. } => write!(f, "request failed: {why}"),
            HostErrorKind::Io(error) => write!(f, "{error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_denied_says_run_as_root() {
        let error = HostError::io(
            "/etc/kubernetes/pki/ca.key",
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert!(matches!(error.kind, HostErrorKind::PermissionDenied));
        assert_eq!(
            error.to_string(),
            "/etc/kubernetes/pki/ca.key: permission denied; run node-doctor as root to read it"
        );
    }
}
