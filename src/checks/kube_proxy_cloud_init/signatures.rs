//! The lines kube-proxy logs when it starts without a node IP, in the wording of each era.
//!
//! kube-proxy reads its node IP from the Node object once, at start. When the Node has no
//! addresses yet (the cloud controller manager has not initialised it) or does not exist yet,
//! kube-proxy falls back to 127.0.0.1 (IPv4) and keeps that until it restarts. Newer releases
//! retry the lookup for about a minute first and log a success line when a retry works.

use crate::kube::pod_log::{ContainerLog, LogLine};

/// The meaning of a log line for the node IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// kube-proxy gave up and uses the loopback address.
    Fallback,
    /// A lookup of the Node or its addresses failed. Newer releases retry after this.
    LookupFailed,
    /// A retried lookup found the node IP.
    LookupSucceeded,
}

struct Signature {
    text: &'static str,
    signal: Signal,
}

/// Matched as substrings, so klog headers, structured-logging quotes and `err=` suffixes do
/// not matter. Sources are kube-proxy's cmd/kube-proxy/app/server.go, server_others.go and
/// pkg/proxy/iptables/proxier.go in the Kubernetes repository.
const SIGNATURES: [Signature; 7] = [
    // proxier.go in older releases, in two spellings: "initialize" (2017) and "initializing".
    Signature {
        text: "invalid nodeIP, initializ",
        signal: Signal::Fallback,
    },
    // server_others.go, then server.go, whose message ends "assuming loopback" and, in the
    // newest releases, names --node-ip-override too.
    Signature {
        text: "Can't determine this node's IP, assuming",
        signal: Signal::Fallback,
    },
    // server.go in older releases: "Failed to retrieve node IP: host IP unknown; known
    // addresses: []". It was followed by the fallback.
    Signature {
        text: "Failed to retrieve node IP:",
        signal: Signal::Fallback,
    },
    Signature {
        text: "Failed to retrieve node IPs",
        signal: Signal::LookupFailed,
    },
    Signature {
        text: "Failed to retrieve node info",
        signal: Signal::LookupFailed,
    },
    Signature {
        text: "host IP unknown",
        signal: Signal::LookupFailed,
    },
    Signature {
        text: "Successfully retrieved node IP",
        signal: Signal::LookupSucceeded,
    },
];

/// One line that matched a signature.
#[derive(Clone, Debug)]
pub struct Match {
    pub signal: Signal,
    pub line: LogLine,
}

/// The conclusion one log file gives about kube-proxy's node IP.
#[derive(Clone, Debug)]
pub struct FileVerdict {
    pub path: String,
    /// Whether kube-proxy runs with the loopback address according to this file.
    pub fell_back: bool,
    /// The lines that decided it, in file order.
    pub evidence: Vec<Match>,
    /// Whether the file had any line at all.
    pub empty: bool,
}

/// Scans one log file.
pub fn scan(log: &ContainerLog) -> FileVerdict {
    let matches: Vec<Match> = log
        .lines
        .iter()
        .filter_map(|line| {
            let signature = SIGNATURES.iter().find(|s| line.text.contains(s.text))?;
            Some(Match {
                signal: signature.signal,
                line: line.clone(),
            })
        })
        .collect();
    let last_success = matches
        .iter()
        .rposition(|m| m.signal == Signal::LookupSucceeded);
    let after_success = &matches[last_success.map_or(0, |index| index + 1)..];
    let fell_back = !after_success.is_empty();
    FileVerdict {
        path: log.path.clone(),
        fell_back,
        evidence: if fell_back {
            after_success.to_vec()
        } else {
            Vec::new()
        },
        empty: log.lines.is_empty(),
    }
}

/// Decides from the logs of one container, newest file first. The newest file decides, unless
/// it has no line yet (the container just restarted), in which case the previous one does.
pub fn decide(verdicts: &[FileVerdict]) -> Option<&FileVerdict> {
    let newest = verdicts.first()?;
    if newest.empty {
        return verdicts.get(1).or(Some(newest));
    }
    Some(newest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::pod_log::LogFormat;

    fn log(texts: &[&str]) -> ContainerLog {
        ContainerLog {
            path: "/var/log/pods/kube-system_kube-proxy-abc_uid/kube-proxy/0.log".to_string(),
            format: LogFormat::Cri,
            lines: texts
                .iter()
                .map(|text| LogLine {
                    time: "2026-12-04T10:00:00Z".to_string(),
                    stream: "stderr".to_string(),
                    text: text.to_string(),
                })
                .collect(),
            truncated: false,
            skipped: 0,
        }
    }

    #[test]
    fn each_wording_is_a_fallback() {
        let wordings = [
            "W0731 server.go:610] Failed to retrieve node IP: host IP unknown; known addresses: []",
            "W0731 proxier.go:340] invalid nodeIP, initializing kube-proxy with 127.0.0.1 as nodeIP",
            "W0412 proxier.go:226] invalid nodeIP, initialize kube-proxy with 127.0.0.1 as nodeIP",
            "I1204 server_others.go:185] Can't determine this node's IP, assuming 127.0.0.1; if this is incorrect, please set the --bind-address flag",
            "I1204 server.go:200] \"Can't determine this node's IP, assuming loopback; if this is incorrect, please set the --bind-address flag\"",
        ];
        for wording in wordings {
            assert!(scan(&log(&[wording])).fell_back, "{wording}");
        }
    }

    #[test]
    fn retry_then_success_is_clean() {
        let verdict = scan(&log(&[
            "E1204 server.go:100] \"Failed to retrieve node IPs\" err=\"host IP unknown; known addresses: []\"",
            "I1204 server.go:110] \"Successfully retrieved node IP(s)\" IPs=[\"10.0.0.5\"]",
        ]));
        assert!(!verdict.fell_back);
    }

    #[test]
    fn failed_lookup_without_success_counts() {
        let verdict = scan(&log(&[
            "W0412 server.go:436] Failed to retrieve node info: nodes \"ip-10-30-8-17\" not found",
        ]));
        assert!(verdict.fell_back);
        assert_eq!(verdict.evidence.len(), 1);
    }

    #[test]
    fn clean_log_gives_nothing() {
        let verdict = scan(&log(&[
            "I1204 server.go:200] \"Using iptables Proxier\"",
            "I1204 proxier.go:300] \"Starting service config controller\"",
        ]));
        assert!(!verdict.fell_back);
        assert!(!verdict.empty);
    }

    #[test]
    fn empty_newest_defers_to_previous() {
        let newest = scan(&log(&[]));
        let previous = scan(&log(&[
            "invalid nodeIP, initializing kube-proxy with 127.0.0.1 as nodeIP",
        ]));
        let verdicts = [newest, previous];
        assert!(decide(&verdicts).unwrap().fell_back);
    }
}
