//! Finding a container's log files on the node.

use crate::host::{FileKind, Host};

const PODS_DIR: &str = "/var/log/pods";
const CONTAINERS_DIR: &str = "/var/log/containers";

/// How many log files of one container are read: the current container's and the one before.
const FILES_PER_CONTAINER: usize = 2;

/// A pod's folder under /var/log/pods, named NAMESPACE_POD_UID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodLogDir {
    pub namespace: String,
    pub pod: String,
    pub uid: String,
}

impl PodLogDir {
    fn parse(name: &str) -> Option<PodLogDir> {
        // Namespaces and pod names cannot contain `_`, so the name splits into exactly three.
        let mut parts = name.split('_');
        let (namespace, pod, uid) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || namespace.is_empty() || pod.is_empty() || uid.is_empty() {
            return None;
        }
        Some(PodLogDir {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
            uid: uid.to_string(),
        })
    }

    pub fn path(&self) -> String {
        format!("{PODS_DIR}/{}_{}_{}", self.namespace, self.pod, self.uid)
    }
}

/// Lists the pod folders under /var/log/pods whose namespace is `namespace` and whose pod name
/// starts with `pod_prefix`.
pub fn pod_log_dirs(host: &dyn Host, namespace: &str, pod_prefix: &str) -> Vec<PodLogDir> {
    let Ok(entries) = host.read_dir(PODS_DIR) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter(|entry| entry.kind == FileKind::Directory || entry.kind == FileKind::Symlink)
        .filter_map(|entry| PodLogDir::parse(&entry.name))
        .filter(|dir| dir.namespace == namespace && dir.pod.starts_with(pod_prefix))
        .collect()
}

/// Returns the host paths of a container's newest log files, newest first, at most two.
///
/// `uid` narrows /var/log/pods to one pod. When /var/log/pods has no N.log files,
/// /var/log/containers links are used, and `runtime_ids` (from the pod's container statuses,
/// newest first) pick the matching ones.
pub fn container_log_files(
    host: &dyn Host,
    namespace: &str,
    pod: &str,
    uid: Option<&str>,
    container: &str,
    runtime_ids: &[String],
) -> Vec<String> {
    let mut files = from_pods_dir(host, namespace, pod, uid, container);
    if files.is_empty() {
        files = from_containers_dir(host, namespace, pod, container, runtime_ids);
    }
    files.truncate(FILES_PER_CONTAINER);
    files
}

/// Lists /var/log/pods/NS_POD_UID/CONTAINER/N.log, highest N (the latest restart) first.
// NOTE: the older layout /var/log/pods/UID/CONTAINER_N.log is not read. Docker nodes of that
// era still have the /var/log/containers links, which are.
fn from_pods_dir(
    host: &dyn Host,
    namespace: &str,
    pod: &str,
    uid: Option<&str>,
    container: &str,
) -> Vec<String> {
    let mut found: Vec<(Option<jiff::Timestamp>, u64, String)> = Vec::new();
    for dir in pod_log_dirs(host, namespace, pod) {
        if dir.pod != pod || uid.is_some_and(|uid| uid != dir.uid) {
            continue;
        }
        found.extend(restart_logs(host, &dir, container));
    }
    // Several folders of one pod name (a deleted pod not yet cleaned up) are ordered by age.
    found.sort_by_key(|entry| std::cmp::Reverse((entry.0, entry.1)));
    found.into_iter().map(|(_, _, path)| path).collect()
}

/// Lists CONTAINER/N.log in one pod log folder, highest N (the latest restart) first. Callers
/// that already listed /var/log/pods use this instead of [`container_log_files`], which lists
/// it again, so that going through every folder stays linear in the number of folders.
pub fn container_log_files_in(host: &dyn Host, dir: &PodLogDir, container: &str) -> Vec<String> {
    let mut found = restart_logs(host, dir, container);
    found.sort_by_key(|entry| std::cmp::Reverse((entry.0, entry.1)));
    found.truncate(FILES_PER_CONTAINER);
    found.into_iter().map(|(_, _, path)| path).collect()
}

/// Returns each N.log of one container in one pod log folder with its modification time and N.
fn restart_logs(
    host: &dyn Host,
    dir: &PodLogDir,
    container: &str,
) -> Vec<(Option<jiff::Timestamp>, u64, String)> {
    let mut found = Vec::new();
    let container_dir = format!("{}/{container}", dir.path());
    let Ok(entries) = host.read_dir(&container_dir) else {
        return found;
    };
    for entry in entries {
        let Some(restart) = entry
            .name
            .strip_suffix(".log")
            .and_then(|number| number.parse::<u64>().ok())
        else {
            continue;
        };
        let path = format!("{container_dir}/{}", entry.name);
        let modified = host.stat(&path).ok().and_then(|meta| meta.modified);
        found.push((modified, restart, path));
    }
    found
}

/// Lists /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log links: those of `runtime_ids` in
/// that order, else every match by modification time, newest first.
fn from_containers_dir(
    host: &dyn Host,
    namespace: &str,
    pod: &str,
    container: &str,
    runtime_ids: &[String],
) -> Vec<String> {
    let Ok(entries) = host.read_dir(CONTAINERS_DIR) else {
        return Vec::new();
    };
    let prefix = format!("{pod}_{namespace}_{container}-");
    let names: Vec<&str> = entries
        .iter()
        .map(|entry| entry.name.as_str())
        .filter(|name| name.starts_with(&prefix) && name.ends_with(".log"))
        .collect();
    if !runtime_ids.is_empty() {
        return runtime_ids
            .iter()
            .filter_map(|id| {
                names
                    .iter()
                    .find(|name| name[prefix.len()..].starts_with(id.as_str()))
            })
            .map(|name| format!("{CONTAINERS_DIR}/{name}"))
            .collect();
    }
    let mut found: Vec<(Option<jiff::Timestamp>, String)> = names
        .iter()
        .map(|name| {
            let path = format!("{CONTAINERS_DIR}/{name}");
            (host.stat(&path).ok().and_then(|meta| meta.modified), path)
        })
        .collect();
    found.sort_by(|a, b| b.cmp(a));
    found.into_iter().map(|(_, path)| path).collect()
}

/// Lists /var/log/containers links of a container in pods whose name starts with
/// `pod_prefix`, newest first, at most two: for when no pod is known from the API and
/// /var/log/pods has no log of it.
pub fn container_links_by_prefix(
    host: &dyn Host,
    namespace: &str,
    pod_prefix: &str,
    container: &str,
) -> Vec<String> {
    let Ok(entries) = host.read_dir(CONTAINERS_DIR) else {
        return Vec::new();
    };
    let mut found: Vec<(Option<jiff::Timestamp>, String)> = entries
        .iter()
        .filter(|entry| {
            let mut parts = entry.name.splitn(3, '_');
            let (Some(pod), Some(link_namespace), Some(rest)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return false;
            };
            pod.starts_with(pod_prefix)
                && link_namespace == namespace
                && rest.starts_with(&format!("{container}-"))
                && rest.ends_with(".log")
        })
        .map(|entry| {
            let path = format!("{CONTAINERS_DIR}/{}", entry.name);
            (host.stat(&path).ok().and_then(|meta| meta.modified), path)
        })
        .collect();
    found.sort_by(|a, b| b.cmp(a));
    found.truncate(FILES_PER_CONTAINER);
    found.into_iter().map(|(_, path)| path).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_dir_name_parses() {
        let dir =
            PodLogDir::parse("kube-system_kube-proxy-x7k2p_0b7d0e62-1111-2222-3333-444455556666")
                .unwrap();
        assert_eq!(dir.namespace, "kube-system");
        assert_eq!(dir.pod, "kube-proxy-x7k2p");
        assert!(PodLogDir::parse("kube-system_kube-proxy").is_none());
        assert!(PodLogDir::parse("a_b_c_d").is_none());
    }
}
