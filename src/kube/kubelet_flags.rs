//! The kubelet's effective command-line flags.
//!
//! A running kubelet's /proc/PID/cmdline is the truth. Without one (a stopped kubelet, a node
//! before join, a snapshot without /proc), the flags come from kubelet.service: its effective
//! `ExecStart=` with `Environment=` and `EnvironmentFile=` variables expanded, read with the
//! systemd unit reader so drop-in precedence and resets apply. Without a unit, they are
//! assembled the way kubeadm's 10-kubeadm.conf drop-in builds the command line:
//! KUBELET_KUBECONFIG_ARGS, KUBELET_CONFIG_ARGS, KUBELET_KUBEADM_ARGS from
//! /var/lib/kubelet/kubeadm-flags.env, then KUBELET_EXTRA_ARGS from /etc/default/kubelet or
//! /etc/sysconfig/kubelet. A later flag wins.

use std::collections::BTreeMap;

use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::systemd::{ServiceEnvironment, Unit, WordSource};

pub const KUBEADM_FLAGS_ENV: &str = "/var/lib/kubelet/kubeadm-flags.env";
pub const EXTRA_ARGS_FILES: [&str; 2] = ["/etc/default/kubelet", "/etc/sysconfig/kubelet"];
pub const KUBELET_UNIT: &str = "kubelet.service";

/// The flags kubeadm's drop-in passes when it sets nothing else.
const KUBEADM_DEFAULT_KUBECONFIG_ARGS: &str = "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf";
const KUBEADM_DEFAULT_CONFIG_ARGS: &str = "--config=/var/lib/kubelet/config.yaml";

/// Kubelet flags that take no value, so `--flag next` does not consume `next`.
const BOOLEAN_FLAGS: [&str; 6] = [
    "rotate-certificates",
    "rotate-server-certificates",
    "fail-swap-on",
    "register-node",
    "v",
    "exit-on-lock-contention",
];

/// One flag value and where it was set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagValue {
    pub value: String,
    /// `/proc/PID/cmdline`, `FILE:LINE` of the unit or environment file line that set it, a
    /// flags file path, or "kubeadm defaults".
    pub source: String,
}

#[derive(Clone, Debug, Default)]
pub struct KubeletFlags {
    values: BTreeMap<String, FlagValue>,
    /// Where the flags were read from, in the order they were applied.
    pub sources: Vec<String>,
}

impl KubeletFlags {
    /// Reads the running kubelet's flags, or assembles them from kubeadm's files.
    pub fn read(host: &dyn Host) -> KubeletFlags {
        if let Some(flags) = KubeletFlags::from_running_kubelet(host) {
            return flags;
        }
        KubeletFlags::from_files(host)
    }

    pub fn get(&self, name: &str) -> Option<&FlagValue> {
        self.values.get(name)
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(|flag| flag.value.as_str())
    }

    /// Returns a boolean flag's value: `--flag` and `--flag=true` are true.
    pub fn bool_value(&self, name: &str) -> Option<bool> {
        self.value(name)
            .map(|v| v.is_empty() || v.eq_ignore_ascii_case("true"))
    }

    fn apply(&mut self, args: &[String], source: &str) {
        let mut index = 0;
        while index < args.len() {
            let arg = &args[index];
            index += 1;
            let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
                continue;
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None if BOOLEAN_FLAGS.contains(&flag) => (flag.to_string(), String::new()),
                None => match args.get(index) {
                    Some(next) if !next.starts_with('-') => {
                        index += 1;
                        (flag.to_string(), next.clone())
                    }
                    _ => (flag.to_string(), String::new()),
                },
            };
            let source = source.to_string();
            self.values.insert(name, FlagValue { value, source });
        }
        self.sources.push(source.to_string());
    }

    fn from_running_kubelet(host: &dyn Host) -> Option<KubeletFlags> {
        let entries = host.read_dir("/proc").ok()?;
        for entry in entries {
            if !entry.name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let path = format!("/proc/{}/cmdline", entry.name);
            let Ok(bytes) = host.read_file(&path, MAX_CONFIG_BYTES) else {
                continue;
            };
            let args: Vec<String> = bytes
                .split(|&b| b == 0)
                .filter(|arg| !arg.is_empty())
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect();
            let is_kubelet = args
                .first()
                .is_some_and(|program| program.rsplit('/').next() == Some("kubelet"));
            if is_kubelet {
                tracing::debug!(path, "read flags of the running kubelet");
                let mut flags = KubeletFlags::default();
                flags.apply(&args[1..], &path);
                return Some(flags);
            }
        }
        None
    }

    fn from_files(host: &dyn Host) -> KubeletFlags {
        let unit = Unit::load(host, KUBELET_UNIT);
        let environment = ServiceEnvironment::resolve(host, &unit);
        for problem in unit.problems.iter().chain(&environment.problems) {
            tracing::debug!(problem, "kubelet.service");
        }
        if let Some(words) = environment.exec_start(&unit) {
            tracing::debug!(files = ?unit.files(), "kubelet flags from kubelet.service");
            let mut flags = KubeletFlags::default();
            flags.apply_words(words.get(1..).unwrap_or_default());
            return flags;
        }
        KubeletFlags::from_kubeadm_defaults(host, &environment)
    }

    /// Applies command-line words, grouping consecutive words of the same source so a flag and
    /// its separate value are read together.
    fn apply_words(&mut self, words: &[WordSource]) {
        let mut start = 0;
        while start < words.len() {
            let source = &words[start].source;
            let end = words[start..]
                .iter()
                .position(|w| &w.source != source)
                .map_or(words.len(), |offset| start + offset);
            let args: Vec<String> = words[start..end].iter().map(|w| w.word.clone()).collect();
            self.apply(&args, source);
            start = end;
        }
    }

    /// Assembles the flags kubeadm's drop-in passes when no unit gives an `ExecStart=`,
    /// taking variables the unit's drop-ins set where there are any.
    fn from_kubeadm_defaults(host: &dyn Host, environment: &ServiceEnvironment) -> KubeletFlags {
        let mut flags = KubeletFlags::default();
        for variable in ["KUBELET_KUBECONFIG_ARGS", "KUBELET_CONFIG_ARGS"] {
            let default = match variable {
                "KUBELET_KUBECONFIG_ARGS" => KUBEADM_DEFAULT_KUBECONFIG_ARGS,
                _ => KUBEADM_DEFAULT_CONFIG_ARGS,
            };
            match environment.get(variable) {
                Some(value) => flags.apply(&split_words(&value.value), &value.source),
                None => flags.apply(&split_words(default), "kubeadm defaults"),
            }
        }

        read_env_file_args(host, KUBEADM_FLAGS_ENV, "KUBELET_KUBEADM_ARGS", &mut flags);
        match environment.get("KUBELET_EXTRA_ARGS") {
            Some(value) => flags.apply(&split_words(&value.value), &value.source),
            None => {
                for path in EXTRA_ARGS_FILES {
                    read_env_file_args(host, path, "KUBELET_EXTRA_ARGS", &mut flags);
                }
            }
        }
        flags
    }
}

fn read_env_file_args(host: &dyn Host, path: &str, variable: &str, flags: &mut KubeletFlags) {
    let text = match host.read_text(path, MAX_CONFIG_BYTES) {
        Ok(text) => text,
        Err(error) if error.is_not_found() => return,
        Err(error) => {
            tracing::warn!(%error, "cannot read kubelet flags file");
            return;
        }
    };
    if let Some(value) = env_file_value(&text, variable) {
        flags.apply(&split_words(&value), path);
    }
}

/// Returns the value of `NAME=value` in a shell-style environment file.
pub fn env_file_value(text: &str, variable: &str) -> Option<String> {
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        if let Some(value) = line
            .strip_prefix(variable)
            .and_then(|rest| rest.strip_prefix('='))
        {
            found = Some(unquote(value.trim()));
        }
    }
    found
}

fn unquote(value: &str) -> String {
    let quoted = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')));
    if quoted {
        value[1..value.len() - 1].to_string()
    } else {
        value.to_string()
    }
}

/// Splits a command line into words, honouring single and double quotes.
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_flag_wins() {
        let mut flags = KubeletFlags::default();
        flags.apply(&split_words("--node-ip=10.0.0.1 --cert-dir /a"), "first");
        flags.apply(&split_words("--node-ip=10.0.0.2"), "second");
        assert_eq!(flags.value("node-ip"), Some("10.0.0.2"));
        assert_eq!(flags.get("node-ip").unwrap().source, "second");
        assert_eq!(flags.value("cert-dir"), Some("/a"));
    }

    #[test]
    fn boolean_flag_takes_no_value() {
        let mut flags = KubeletFlags::default();
        flags.apply(&split_words("--rotate-certificates --cert-dir=/x"), "test");
        assert_eq!(flags.bool_value("rotate-certificates"), Some(true));
        assert_eq!(flags.value("cert-dir"), Some("/x"));
    }

    #[test]
    fn env_file_value_unquotes() {
        let text = "# written by kubeadm\nKUBELET_KUBEADM_ARGS=\"--a=1 --b=2\"\n";
        assert_eq!(
            env_file_value(text, "KUBELET_KUBEADM_ARGS").unwrap(),
            "--a=1 --b=2"
        );
    }
}
