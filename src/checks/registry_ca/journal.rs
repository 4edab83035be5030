//! Certificate errors of image pulls in the kubelet's and the runtimes' journals. On a
//! snapshot, where no handshake runs, they are the evidence that a registry is not trusted.

use crate::host::{Host, HostCommand};
use crate::net::RegistryAddress;

/// How many lines are read from the end of each journal.
const JOURNAL_LINES: u32 = 3000;

const UNITS: [&str; 4] = ["kubelet", "containerd", "crio", "docker"];

/// The certificate error a log line reports, in Go's crypto/x509 wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logged {
    UnknownAuthority,
    HostnameMismatch,
    Expired,
}

#[derive(Clone, Debug)]
pub struct LoggedFailure {
    pub registry: RegistryAddress,
    pub kind: Logged,
    pub unit: String,
    pub line: String,
}

impl LoggedFailure {
    pub fn source(&self) -> String {
        format!("journalctl -u {}", self.unit)
    }
}

/// Returns the newest logged failure per registry and kind.
pub fn failures(host: &dyn Host) -> Vec<LoggedFailure> {
    let mut found: Vec<LoggedFailure> = Vec::new();
    for unit in UNITS {
        let command = HostCommand::Journal {
            unit: unit.to_string(),
            lines: JOURNAL_LINES,
        };
        let output = match host.run(&command) {
            Ok(output) => output,
            Err(error) => {
                tracing::debug!(unit, %error, "journal not read");
                continue;
            }
        };
        for line in output.stdout.lines() {
            let Some(failure) = parse_line(unit, line) else {
                continue;
            };
            found.retain(|seen| !(seen.registry == failure.registry && seen.kind == failure.kind));
            found.push(failure);
        }
    }
    found
}

fn parse_line(unit: &str, line: &str) -> Option<LoggedFailure> {
    let kind = if line.contains("certificate signed by unknown authority") {
        Logged::UnknownAuthority
    } else if line.contains("certificate is valid for")
        || line.contains("certificate is not valid for any names")
        || line.contains("doesn't contain any IP SANs")
        || line.contains("relies on legacy Common Name field")
    {
        Logged::HostnameMismatch
    } else if line.contains("certificate has expired or is not yet valid") {
        Logged::Expired
    } else {
        return None;
    };
    let start = line.find("https://")? + "https://".len();
    let authority: String = line[start..]
        .chars()
        .take_while(|c| !matches!(c, '/' | '"' | '\'' | ' ' | '\\'))
        .collect();
    let authority = authority.trim_end_matches(':');
    let registry = RegistryAddress::parse(authority).ok()?;
    Some(LoggedFailure {
        registry,
        kind,
        unit: unit.to_string(),
        line: line.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_containerd_pull_error() {
        let line = "Failed to pull image \"registry.example.test/library/app:latest\": failed to do request: Head \"https://registry.example.test/v2/library/app/manifests/latest\": tls: failed to verify certificate: x509: certificate signed by unknown authority";
        let failure = parse_line("kubelet", line).unwrap();
        assert_eq!(failure.registry.to_string(), "registry.example.test");
        assert_eq!(failure.kind, Logged::UnknownAuthority);
    }

    #[test]
    fn keeps_the_port() {
        let line = "Get https://192.168.78.28:5000/v1/_ping: x509: certificate signed by unknown authority";
        assert_eq!(
            parse_line("kubelet", line).unwrap().registry.to_string(),
            "192.168.78.28:5000"
        );
    }

    #[test]
    fn ignores_other_lines() {
        assert!(parse_line("kubelet", "x509: certificate signed by unknown authority").is_none());
        assert!(parse_line("kubelet", "pulled https://registry.example.test/v2/").is_none());
    }
}
