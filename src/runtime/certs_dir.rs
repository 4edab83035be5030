//! Docker's per-registry certificate directory layout, which CRI-O (containers/image) and
//! containerd's fallback read too: `*.crt` files are CA certificates, `*.cert` files are client
//! certificates whose key is the `*.key` file of the same base name. Other files are ignored.
//!
//! Docker (moby `registry.ReadCertsDirectory`) and containers/image (`SetupCertificates`) stop
//! with an error on a `.cert` without its `.key` or a `.key` without its `.cert`, so every pull
//! from that registry fails. containerd's fallback (`loadCertFiles`) instead loads a lone
//! `.cert` as a combined certificate-and-key file, which fails unless it holds a key.

use crate::host::{DirEntry, FileKind, Host};

/// The name of containerd's per-registry configuration file.
pub const HOSTS_TOML: &str = "hosts.toml";

/// File name endings that people use for CA certificates but that no runtime reads.
const IGNORED_CA_ENDINGS: [&str; 6] = [".pem", ".cer", ".ca", ".der", ".crt.txt", ".cacert"];

/// One registry's certificate directory, such as /etc/docker/certs.d/registry.example.test:5000.
#[derive(Clone, Debug)]
pub struct CertsDir {
    pub path: String,
    pub state: DirState,
}

#[derive(Clone, Debug)]
pub enum DirState {
    Missing,
    Directory(Vec<DirEntry>),
    /// Something other than a directory sits where the directory should be.
    NotADirectory(FileKind),
    Unreadable(String),
}

/// A file layout that a runtime rejects or silently ignores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayoutProblem {
    /// A client certificate without the key of the same base name.
    CertWithoutKey { cert: String, key: String },
    /// A key without the client certificate of the same base name.
    KeyWithoutCert { key: String, cert: String },
    /// A certificate file whose name ending no runtime reads.
    IgnoredFile { file: String },
    /// A file where a registry directory should be.
    NotADirectory { path: String, kind: FileKind },
}

impl CertsDir {
    pub fn read(host: &dyn Host, path: &str) -> CertsDir {
        let state = match host.stat(path) {
            Err(error) if error.is_not_found() => DirState::Missing,
            Err(error) => DirState::Unreadable(error.to_string()),
            Ok(meta) if meta.kind != FileKind::Directory => DirState::NotADirectory(meta.kind),
            Ok(_) => match host.read_dir(path) {
                Ok(entries) => DirState::Directory(entries),
                Err(error) => DirState::Unreadable(error.to_string()),
            },
        };
        CertsDir {
            path: path.to_string(),
            state,
        }
    }

    pub fn exists(&self) -> bool {
        !matches!(self.state, DirState::Missing)
    }

    fn entries(&self) -> &[DirEntry] {
        match &self.state {
            DirState::Directory(entries) => entries,
            _ => &[],
        }
    }

    fn file_names(&self) -> impl Iterator<Item = &str> {
        self.entries()
            .iter()
            .filter(|entry| entry.kind != FileKind::Directory)
            .map(|entry| entry.name.as_str())
    }

    /// Returns the host paths of the `*.crt` files, which the runtimes add as CA roots.
    pub fn ca_files(&self) -> Vec<String> {
        self.file_names()
            .filter(|name| name.ends_with(".crt"))
            .map(|name| format!("{}/{name}", self.path))
            .collect()
    }

    /// Returns the host paths of the `*.cert` client certificates.
    pub fn client_certificates(&self) -> Vec<String> {
        self.file_names()
            .filter(|name| name.ends_with(".cert"))
            .map(|name| format!("{}/{name}", self.path))
            .collect()
    }

    pub fn has_hosts_toml(&self) -> bool {
        self.file_names().any(|name| name == HOSTS_TOML)
    }

    pub fn hosts_toml_path(&self) -> String {
        format!("{}/{HOSTS_TOML}", self.path)
    }

    /// Lists the files in this directory that break the `.crt`/`.cert`/`.key` rules.
    pub fn layout_problems(&self) -> Vec<LayoutProblem> {
        if let DirState::NotADirectory(kind) = self.state {
            return vec![LayoutProblem::NotADirectory {
                path: self.path.clone(),
                kind,
            }];
        }
        let names: Vec<&str> = self.file_names().collect();
        let mut problems = Vec::new();
        for name in &names {
            if let Some(base) = name.strip_suffix(".cert") {
                let key = format!("{base}.key");
                if !names.contains(&key.as_str()) {
                    problems.push(LayoutProblem::CertWithoutKey {
                        cert: format!("{}/{name}", self.path),
                        key: format!("{}/{key}", self.path),
                    });
                }
            } else if let Some(base) = name.strip_suffix(".key") {
                let cert = format!("{base}.cert");
                if !names.contains(&cert.as_str()) {
                    problems.push(LayoutProblem::KeyWithoutCert {
                        key: format!("{}/{name}", self.path),
                        cert: format!("{}/{cert}", self.path),
                    });
                }
            } else if is_ignored_ca_name(name) {
                problems.push(LayoutProblem::IgnoredFile {
                    file: format!("{}/{name}", self.path),
                });
            }
        }
        problems
    }
}

/// Returns whether a file name looks like a certificate but lacks the exact `.crt` ending.
pub fn is_ignored_ca_name(name: &str) -> bool {
    if name.ends_with(".crt") || name.ends_with(".cert") || name.ends_with(".key") {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".crt") || IGNORED_CA_ENDINGS.iter().any(|end| lower.ends_with(end))
}

/// The registry directories under a certs.d root, and files that sit where directories belong.
#[derive(Clone, Debug, Default)]
pub struct CertsRoot {
    pub path: String,
    pub exists: bool,
    /// Directory names, which are registry names such as `registry.example.test:5000`.
    pub registries: Vec<String>,
    pub problems: Vec<LayoutProblem>,
}

impl CertsRoot {
    pub fn read(host: &dyn Host, path: &str) -> CertsRoot {
        let mut root = CertsRoot {
            path: path.to_string(),
            ..CertsRoot::default()
        };
        let entries = match host.read_dir(path) {
            Ok(entries) => entries,
            Err(error) => {
                if !error.is_not_found() {
                    tracing::debug!(%error, "cannot list a certs.d directory");
                }
                return root;
            }
        };
        root.exists = true;
        for entry in entries {
            let entry_path = format!("{path}/{}", entry.name);
            let kind = match entry.kind {
                FileKind::Symlink => host.stat(&entry_path).map_or(FileKind::Symlink, |m| m.kind),
                kind => kind,
            };
            if kind == FileKind::Directory {
                root.registries.push(entry.name);
            } else {
                root.problems.push(LayoutProblem::NotADirectory {
                    path: entry_path,
                    kind,
                });
            }
        }
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(names: &[&str]) -> CertsDir {
        CertsDir {
            path: "/etc/docker/certs.d/r".to_string(),
            state: DirState::Directory(
                names
                    .iter()
                    .map(|name| DirEntry {
                        name: name.to_string(),
                        kind: FileKind::Regular,
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn pairs_and_cas_are_accepted() {
        let certs = dir(&["ca.crt", "client.cert", "client.key"]);
        assert!(certs.layout_problems().is_empty());
        assert_eq!(certs.ca_files(), vec!["/etc/docker/certs.d/r/ca.crt"]);
    }

    #[test]
    fn lone_cert_and_key_are_reported() {
        let certs = dir(&["ca.cert", "other.key"]);
        let problems = certs.layout_problems();
        assert_eq!(problems.len(), 2);
        assert!(
            matches!(&problems[0], LayoutProblem::CertWithoutKey { key, .. } if key.ends_with("ca.key"))
        );
        assert!(
            matches!(&problems[1], LayoutProblem::KeyWithoutCert { cert, .. } if cert.ends_with("other.cert"))
        );
    }

    #[test]
    fn other_endings_are_ignored_files() {
        let certs = dir(&["ca.pem", "ca.CRT", "hosts.toml", "README"]);
        let problems = certs.layout_problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
