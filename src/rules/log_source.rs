//! Where log lines come from: a systemd unit's journal, the logs of pods under /var/log/pods,
//! or a file. Each is read from its tail only.

use crate::host::{Host, HostCommand};
use crate::kube::pod_log::{self, ContainerLog};

use super::log_line::Line;

/// How many lines are read from the end of a unit's journal.
pub const JOURNAL_LINES: u32 = 5000;

/// The maximum number of container log files read for one pod source, newest first. A node
/// runs one pod of each DaemonSet and static pod, and the kubelet keeps the logs of its current
/// and last containers, so more files than this are leftovers. Each one read costs up to
/// [`pod_log::TAIL_BYTES`].
pub const MAX_POD_LOG_FILES: usize = 16;

/// A log to search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogSource {
    /// `journalctl -u UNIT`, or commands/journal/UNIT.log in a snapshot.
    Journal(String),
    /// The containers of the pods in NAMESPACE whose names start with PREFIX.
    Pods { namespace: String, prefix: String },
    /// A plain text file on the node, such as a saved `kubeadm join` log.
    File(String),
}

impl LogSource {
    /// Parses `NAMESPACE/POD-PREFIX`, the form the `pod` field takes.
    pub fn pods(spec: &str) -> Result<LogSource, String> {
        match spec.split_once('/') {
            Some((namespace, prefix)) if !namespace.is_empty() && !prefix.contains('/') => {
                Ok(LogSource::Pods {
                    namespace: namespace.to_string(),
                    prefix: prefix.to_string(),
                })
            }
            _ => Err(format!(
                "invalid pod {spec:?}; expected NAMESPACE/POD-NAME-PREFIX, such as kube-system/kube-apiserver"
            )),
        }
    }
}

/// Lines read from one log, with the name shown as evidence source.
#[derive(Clone, Debug)]
pub struct LogLines {
    pub source: String,
    pub lines: Vec<Line>,
}

/// Reads the tail of every log the source names. A source that does not exist on this node
/// gives no logs; other read failures are returned.
pub fn read(host: &dyn Host, source: &LogSource) -> Result<Vec<LogLines>, String> {
    match source {
        LogSource::Journal(unit) => read_journal(host, unit).map(|logs| logs.into_iter().collect()),
        LogSource::Pods { namespace, prefix } => Ok(read_pods(host, namespace, prefix)),
        LogSource::File(path) => read_file(host, path).map(|logs| logs.into_iter().collect()),
    }
}

fn read_journal(host: &dyn Host, unit: &str) -> Result<Option<LogLines>, String> {
    let command = HostCommand::Journal {
        unit: unit.to_string(),
        lines: JOURNAL_LINES,
    };
    match host.run(&command) {
        Ok(output) => Ok(Some(LogLines {
            source: format!("journalctl -u {unit}"),
            lines: output.stdout.lines().map(Line::from_text).collect(),
        })),
        Err(error) if error.is_unavailable() || error.is_not_found() => {
            tracing::debug!(%error, unit, "journal not read");
            Ok(None)
        }
        Err(error) => Err(error.to_string()),
    }
}

fn read_pods(host: &dyn Host, namespace: &str, prefix: &str) -> Vec<LogLines> {
    let mut files: Vec<(Option<jiff::Timestamp>, String)> = Vec::new();
    for dir in pod_log::pod_log_dirs(host, namespace, prefix) {
        let containers = match host.read_dir(&dir.path()) {
            Ok(entries) => entries,
            Err(error) => {
                tracing::debug!(%error, "pod log folder not read");
                continue;
            }
        };
        for container in containers {
            // The folder is already known, so it is not looked up again; that lookup lists
            // /var/log/pods and would make many folders cost quadratic time.
            let mut paths = pod_log::container_log_files_in(host, &dir, &container.name);
            if paths.is_empty() {
                paths = pod_log::container_log_files(
                    host,
                    &dir.namespace,
                    &dir.pod,
                    Some(&dir.uid),
                    &container.name,
                    &[],
                );
            }
            for path in paths {
                let modified = host.stat(&path).ok().and_then(|meta| meta.modified);
                files.push((modified, path));
            }
        }
    }

    files.sort_by(|a, b| b.cmp(a));
    if files.len() > MAX_POD_LOG_FILES {
        tracing::debug!(
            namespace,
            prefix,
            found = files.len(),
            read = MAX_POD_LOG_FILES,
            "reading only the newest pod logs"
        );
        files.truncate(MAX_POD_LOG_FILES);
    }

    let mut logs = Vec::new();
    for (_, path) in files {
        match ContainerLog::read(host, &path) {
            Ok(log) => logs.push(LogLines {
                source: path,
                lines: log
                    .lines
                    .into_iter()
                    .map(|line| Line {
                        time: Some(line.time),
                        text: line.text,
                    })
                    .collect(),
            }),
            Err(error) => tracing::debug!(%error, "container log not read"),
        }
    }
    logs
}

fn read_file(host: &dyn Host, path: &str) -> Result<Option<LogLines>, String> {
    let tail = match host.read_tail(path, pod_log::TAIL_BYTES) {
        Ok(tail) => tail,
        Err(error) if error.is_not_found() => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    Ok(Some(LogLines {
        source: path.to_string(),
        lines: lines_of_tail(&tail.bytes, tail.offset > 0),
    }))
}

/// Splits text read from the end of a log into lines. When the text starts mid-file its first
/// line may be cut, so it is dropped.
pub fn lines_of_tail(bytes: &[u8], starts_mid_file: bool) -> Vec<Line> {
    let text = String::from_utf8_lossy(bytes);
    let mut body: &str = &text;
    if starts_mid_file {
        body = body.split_once('\n').map(|(_, rest)| rest).unwrap_or("");
    }
    body.lines()
        .filter(|line| !line.trim().is_empty())
        .map(Line::from_text)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::host::LiveHost;

    #[test]
    fn many_pods_read_newest_only() {
        let root = tempfile::tempdir().unwrap();
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        for index in 0..MAX_POD_LOG_FILES + 4 {
            let dir = root.path().join(format!(
                "var/log/pods/kube-system_kube-proxy-{index:02}_uid-{index}/kube-proxy"
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("0.log");
            let line = format!("2026-12-04T10:00:00.000000000Z stderr F pod {index}\n");
            std::fs::write(&path, line).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(start + Duration::from_secs(index as u64))
                .unwrap();
        }
        let host = LiveHost::new(root.path(), None);

        let logs = read_pods(&host, "kube-system", "kube-proxy");

        assert_eq!(logs.len(), MAX_POD_LOG_FILES);
        assert!(
            logs[0].source.contains("kube-proxy-19_"),
            "{}",
            logs[0].source
        );
        assert!(
            logs.iter()
                .all(|log| !log.source.contains("kube-proxy-03_"))
        );
    }
}
