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
use crate::systemd::{ServiceEnvironment, Unit, WordSource, parse_environment_file};

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
    /// A host path or `/proc/PID/cmdline`.
    pub source: String,
    /// The line of `source` that set the flag, when it is a file.
    pub line: Option<usize>,
    /// The environment variable that carried the flag into the command line, such as
    /// KUBELET_EXTRA_ARGS, when it came from one.
    pub variable: Option<String>,
}

impl FlagValue {
    /// Returns `FILE:LINE` when the line is known, else the source, for evidence.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.source),
            None => self.source.clone(),
        }
    }
}

/// One command-line word with where it was set.
#[derive(Clone, Debug)]
struct SourcedArg {
    word: String,
    source: String,
    line: Option<usize>,
    variable: Option<String>,
}

impl SourcedArg {
    fn from_word(word: &WordSource) -> SourcedArg {
        let (source, line) = split_location(&word.source);
        SourcedArg {
            word: word.word.clone(),
            source,
            line,
            variable: word.variable.clone(),
        }
    }
}

/// Splits `FILE:LINE` as the systemd reader writes it into the file and the line.
fn split_location(location: &str) -> (String, Option<usize>) {
    match location.rsplit_once(':') {
        Some((file, line)) => match line.parse() {
            Ok(line) => (file.to_string(), Some(line)),
            Err(_) => (location.to_string(), None),
        },
        None => (location.to_string(), None),
    }
}

#[derive(Clone, Debug, Default)]
pub struct KubeletFlags {
    values: BTreeMap<String, FlagValue>,
    /// Where the flags were read from, in the order they were applied.
    pub sources: Vec<String>,
}

impl KubeletFlags {
    /// Reads the running kubelet's flags, or assembles them from kubeadm's files. The result
    /// is kept in the host's memo, so the checks of one run read the files once.
    pub fn read(host: &dyn Host) -> KubeletFlags {
        match host.memo() {
            Some(memo) => (*memo
                .get_or_compute("kubelet-flags", || KubeletFlags::read_uncached(host)))
            .clone(),
            None => KubeletFlags::read_uncached(host),
        }
    }

    fn read_uncached(host: &dyn Host) -> KubeletFlags {
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
        let sourced: Vec<SourcedArg> = args
            .iter()
            .map(|word| SourcedArg {
                word: word.clone(),
                source: source.to_string(),
                line: None,
                variable: None,
            })
            .collect();
        self.apply_sourced(&sourced);
        self.sources.push(source.to_string());
    }

    /// Applies the flags in a variable's value. `location` is the file, or `FILE:LINE`.
    fn apply_variable(&mut self, value: &str, location: &str, variable: &str) {
        let (source, line) = split_location(location);
        let sourced: Vec<SourcedArg> = split_words(value)
            .into_iter()
            .map(|word| SourcedArg {
                word,
                source: source.clone(),
                line,
                variable: Some(variable.to_string()),
            })
            .collect();
        self.apply_sourced(&sourced);
        self.sources.push(source.to_string());
    }

    fn apply_sourced(&mut self, args: &[SourcedArg]) {
        let mut index = 0;
        while index < args.len() {
            let arg = &args[index];
            index += 1;
            let Some(flag) = arg
                .word
                .strip_prefix("--")
                .or_else(|| arg.word.strip_prefix('-'))
            else {
                continue;
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None if BOOLEAN_FLAGS.contains(&flag) => (flag.to_string(), String::new()),
                None => match args.get(index) {
                    Some(next) if !next.word.starts_with('-') => {
                        index += 1;
                        // In `--node-ip ${IP}` the value comes from where IP was set.
                        let origin = if next.variable.is_some() { next } else { arg };
                        let value = FlagValue {
                            value: next.word.clone(),
                            source: origin.source.clone(),
                            line: origin.line,
                            variable: origin.variable.clone(),
                        };
                        self.values.insert(flag.to_string(), value);
                        continue;
                    }
                    _ => (flag.to_string(), String::new()),
                },
            };
            let value = FlagValue {
                value,
                source: arg.source.clone(),
                line: arg.line,
                variable: arg.variable.clone(),
            };
            self.values.insert(name, value);
        }
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

    /// Assembles the flags from kubelet.service and the files it reads, ignoring a running
    /// kubelet. A fix edits these files, so it needs to know which one sets a flag.
    pub fn from_files(host: &dyn Host) -> KubeletFlags {
        let unit = Unit::load(host, KUBELET_UNIT);
        let environment = ServiceEnvironment::resolve(host, &unit);
        for problem in unit.problems.iter().chain(&environment.problems) {
            tracing::debug!(problem, "kubelet.service");
        }
        if let Some(words) = environment.exec_start(&unit) {
            tracing::debug!(files = ?unit.files(), "kubelet flags from kubelet.service");
            let mut flags = KubeletFlags::default();
            let args: Vec<SourcedArg> = words.iter().skip(1).map(SourcedArg::from_word).collect();
            flags.apply_sourced(&args);
            flags.sources.extend(unit.files());
            return flags;
        }
        KubeletFlags::from_kubeadm_defaults(host, &environment)
    }

    /// Assembles the flags kubeadm's drop-in passes when no unit gives an `ExecStart=`, taking
    /// variables the unit's drop-ins set where there are any.
    fn from_kubeadm_defaults(host: &dyn Host, environment: &ServiceEnvironment) -> KubeletFlags {
        let mut flags = KubeletFlags::default();
        for variable in ["KUBELET_KUBECONFIG_ARGS", "KUBELET_CONFIG_ARGS"] {
            let default = match variable {
                "KUBELET_KUBECONFIG_ARGS" => KUBEADM_DEFAULT_KUBECONFIG_ARGS,
                _ => KUBEADM_DEFAULT_CONFIG_ARGS,
            };
            match environment.get(variable) {
                Some(set) => flags.apply_variable(&set.value, &set.source, variable),
                None => flags.apply(&split_words(default), "kubeadm defaults"),
            }
        }

        read_env_file_args(host, KUBEADM_FLAGS_ENV, "KUBELET_KUBEADM_ARGS", &mut flags);
        for path in EXTRA_ARGS_FILES {
            read_env_file_args(host, path, "KUBELET_EXTRA_ARGS", &mut flags);
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
    let assignment = parse_environment_file(&text)
        .into_iter()
        .rfind(|(name, _, _)| name == variable);
    if let Some((_, value, line)) = assignment {
        flags.apply_variable(&value, &format!("{path}:{line}"), variable);
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

/// Splits a command line into words the way systemd splits `ExecStart=` and variable values:
/// quotes group words and a backslash keeps the next character.
pub fn split_words(line: &str) -> Vec<String> {
    crate::systemd::split_unit_words(line)
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
