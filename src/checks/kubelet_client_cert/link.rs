//! The state of `kubelet-client-current.pem`, which the kubelet's certificate store keeps as an
//! absolute symlink to the newest `kubelet-client-TIMESTAMP.pem`.

use crate::host::{FileKind, Host, HostErrorKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// A symlink whose target exists; the host path of the target.
    Valid {
        target: String,
    },
    Missing,
    Dangling {
        target: String,
    },
    Loop,
    /// A regular file, which the kubelet rejects: it expects a symlink.
    RegularFile,
    Other(String),
}

impl LinkState {
    pub fn inspect(host: &dyn Host, path: &str) -> LinkState {
        let metadata = match host.lstat(path) {
            Ok(metadata) => metadata,
            Err(error) if error.is_not_found() => return LinkState::Missing,
            Err(error) if matches!(error.kind, HostErrorKind::SymlinkLoop) => {
                return LinkState::Loop;
            }
            Err(error) => return LinkState::Other(error.to_string()),
        };
        match metadata.kind {
            FileKind::Symlink => {}
            FileKind::Regular => return LinkState::RegularFile,
            other => return LinkState::Other(format!("{path} is {}", other.with_article())),
        }

        let target = host.read_link(path).unwrap_or_default();
        match host.canonicalize(path) {
            Ok(resolved) if host.exists(&resolved) => LinkState::Valid { target: resolved },
            Ok(_) => LinkState::Dangling { target },
            Err(error) if matches!(error.kind, HostErrorKind::SymlinkLoop) => LinkState::Loop,
            Err(error) if error.is_not_found() => LinkState::Dangling { target },
            Err(error) => LinkState::Other(error.to_string()),
        }
    }

    pub fn is_broken(&self) -> bool {
        !matches!(self, LinkState::Valid { .. } | LinkState::Missing)
    }

    pub fn describe(&self) -> String {
        match self {
            LinkState::Valid { target } => format!("symlink to {target}"),
            LinkState::Missing => "missing".to_string(),
            LinkState::Dangling { target } => format!("dangling symlink to {target}"),
            LinkState::Loop => "symlink loop (too many levels of symbolic links)".to_string(),
            LinkState::RegularFile => "regular file, not a symlink".to_string(),
            LinkState::Other(why) => why.clone(),
        }
    }
}
