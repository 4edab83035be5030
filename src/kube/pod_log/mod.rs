//! Container logs as the kubelet stores them, read from the tail.
//!
//! The kubelet keeps each container's log at /var/log/pods/NAMESPACE_POD_UID/CONTAINER/N.log,
//! where N is the container's restart count, in the CRI format (containerd and CRI-O). With
//! Docker (dockershim and cri-dockerd) N.log is a symlink to Docker's json-file log, and
//! /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log links to it too. Both formats are read
//! here, and the first line of a file determines which one it has.
//!
//! Only the last [`TAIL_BYTES`] of a file are read. Lines a container wrote long ago can be
//! outside that window, so "no match" in a long log means "not in the tail".

mod cri;
mod json_file;
mod locate;

pub use locate::{
    PodLogDir, container_links_by_prefix, container_log_files, container_log_files_in, pod_log_dirs,
};

use crate::host::{FileTail, Host, HostError};

/// How much of the end of one log file is read.
pub const TAIL_BYTES: u64 = 512 * 1024;

/// The format of a container log file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// `TIMESTAMP STREAM TAG CONTENT` lines, TAG `P` for a partial line and `F` for the last
    /// part of one.
    Cri,
    /// Docker's json-file driver: `{"log":"...\n","stream":"stderr","time":"..."}` lines.
    DockerJson,
}

/// One log line, with its parts joined when the runtime split it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// The runtime's timestamp, RFC 3339 with nanoseconds.
    pub time: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    pub text: String,
}

/// The tail of one container log file, parsed.
#[derive(Clone, Debug)]
pub struct ContainerLog {
    /// The host path read.
    pub path: String,
    pub format: LogFormat,
    pub lines: Vec<LogLine>,
    /// Whether the file is longer than what was read, so its first lines were not seen.
    pub truncated: bool,
    /// Lines that were not in the expected format and were skipped.
    pub skipped: usize,
}

impl ContainerLog {
    /// Reads and parses the tail of one log file.
    pub fn read(host: &dyn Host, path: &str) -> Result<ContainerLog, HostError> {
        let tail = host.read_tail(path, TAIL_BYTES)?;
        let log = ContainerLog::parse(path, &tail);
        tracing::debug!(
            path,
            lines = log.lines.len(),
            skipped = log.skipped,
            truncated = log.truncated,
            "read container log"
        );
        Ok(log)
    }

    /// Parses a file tail. A first line cut by the tail window and a last line without its
    /// newline (still being written, or torn by a crash) are dropped.
    pub fn parse(path: &str, tail: &FileTail) -> ContainerLog {
        let text = String::from_utf8_lossy(&tail.bytes);
        let mut body: &str = &text;
        if tail.offset > 0 {
            body = body.split_once('\n').map(|(_, rest)| rest).unwrap_or("");
        }
        body = match body.rfind('\n') {
            Some(end) => &body[..end],
            None => "",
        };
        let raw: Vec<&str> = body
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect();
        let format = match raw.first() {
            Some(line) if line.trim_start().starts_with('{') => LogFormat::DockerJson,
            _ => LogFormat::Cri,
        };
        let (lines, skipped) = match format {
            LogFormat::Cri => cri::parse_lines(&raw),
            LogFormat::DockerJson => json_file::parse_lines(&raw),
        };
        ContainerLog {
            path: path.to_string(),
            format,
            lines,
            truncated: tail.offset > 0,
            skipped,
        }
    }
}

/// Joins the parts of lines split by the runtime. Parts are joined per stream, because stdout
/// and stderr lines interleave in one file.
#[derive(Default)]
struct PartialLines {
    pending: Vec<LogLine>,
}

impl PartialLines {
    /// Adds a part. Returns the whole line when `last` marks its end.
    fn push(&mut self, time: &str, stream: &str, text: &str, last: bool) -> Option<LogLine> {
        let index = self.pending.iter().position(|line| line.stream == stream);
        let mut line = match index {
            Some(index) => self.pending.remove(index),
            None => LogLine {
                time: time.to_string(),
                stream: stream.to_string(),
                text: String::new(),
            },
        };
        line.text.push_str(text);
        if last {
            Some(line)
        } else {
            self.pending.push(line);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(text: &str, offset: u64) -> FileTail {
        FileTail {
            bytes: text.as_bytes().to_vec(),
            offset,
            file_size: offset + text.len() as u64,
        }
    }

    #[test]
    fn torn_last_line_is_dropped() {
        let text = "2026-12-04T10:00:00.1Z stderr F first\n2026-12-04T10:00:00.2Z stderr F sec";
        let log = ContainerLog::parse("/var/log/pods/x/0.log", &tail(text, 0));
        assert_eq!(log.lines.len(), 1);
        assert_eq!(log.lines[0].text, "first");
    }

    #[test]
    fn cut_first_line_is_dropped() {
        let text = "ut of a line\n2026-12-04T10:00:00.1Z stdout F whole\n";
        let log = ContainerLog::parse("/var/log/pods/x/0.log", &tail(text, 100));
        assert_eq!(log.lines.len(), 1);
        assert!(log.truncated);
        assert_eq!(log.skipped, 0);
    }

    #[test]
    fn format_is_detected() {
        let json =
            "{\"log\":\"hello\\n\",\"stream\":\"stderr\",\"time\":\"2026-12-04T10:00:00Z\"}\n";
        let log = ContainerLog::parse("/var/log/containers/x.log", &tail(json, 0));
        assert_eq!(log.format, LogFormat::DockerJson);
        assert_eq!(log.lines[0].text, "hello");
    }
}
