//! Merging of configuration folders by file name, as systemd does for unit drop-ins,
//! sysctl.d(5) and modules-load.d(5).

use std::collections::BTreeMap;

use crate::host::{FileKind, Host};

/// The files found in a set of configuration folders, in the order they apply.
#[derive(Clone, Debug, Default)]
pub struct ConfFiles {
    /// Host paths, sorted by file name. A later file overrides an earlier one.
    pub files: Vec<String>,
    /// Files hidden by a same-named file in a higher-priority folder, as `(hidden, by)`.
    pub masked: Vec<(String, String)>,
    /// Folders or entries that could not be read, with the reason.
    pub problems: Vec<String>,
}

/// Lists the files ending in `suffix` in `dirs`, given highest priority first.
///
/// A file name seen in an earlier folder masks the same name in later folders, and a symlink to
/// /dev/null masks the name without contributing a file. The result is sorted by file name
/// alone, whatever folder each file is in. A folder that does not exist is skipped. A folder
/// that cannot be listed, such as a regular file in place of a folder, is skipped too and
/// recorded in `problems`.
pub fn list_conf_files(host: &dyn Host, dirs: &[String], suffix: &str) -> ConfFiles {
    let mut result = ConfFiles::default();
    // File name to the host path that owns it, None when masked by /dev/null.
    let mut owners: BTreeMap<String, Option<String>> = BTreeMap::new();

    for dir in dirs {
        let entries = match host.read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.is_not_found() => continue,
            Err(error) => {
                tracing::debug!(%error, "cannot list configuration folder");
                result
                    .problems
                    .push(format!("{dir}: cannot list the folder: {}", error.kind));
                continue;
            }
        };
        for entry in entries {
            if !entry.name.ends_with(suffix) || entry.name.starts_with('.') {
                continue;
            }
            let path = format!("{dir}/{}", entry.name);
            if let Some(owner) = owners.get(&entry.name) {
                let by = owner
                    .clone()
                    .unwrap_or_else(|| "a link to /dev/null".to_string());
                result.masked.push((path, by));
                continue;
            }
            match classify(host, &path, entry.kind) {
                Entry::File => {
                    owners.insert(entry.name.clone(), Some(path));
                }
                Entry::DevNull => {
                    owners.insert(entry.name.clone(), None);
                }
                Entry::Skip(why) => result.problems.push(format!("{path}: {why}, ignored")),
            }
        }
    }
    result.files = owners.into_values().flatten().collect();
    result
}

enum Entry {
    File,
    DevNull,
    Skip(String),
}

fn classify(host: &dyn Host, path: &str, kind: FileKind) -> Entry {
    if kind == FileKind::Symlink
        && let Ok(target) = host.read_link(path)
        && target == "/dev/null"
    {
        return Entry::DevNull;
    }
    match host.stat(path) {
        Ok(meta) if meta.kind == FileKind::Regular => Entry::File,
        Ok(meta) => Entry::Skip(format!("is {}", meta.kind.with_article())),
        Err(error) => Entry::Skip(error.kind.to_string()),
    }
}
