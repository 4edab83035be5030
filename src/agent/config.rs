//! The agent's settings: its configuration file, with flags given on the command line
//! overriding it.
//!
//! The file is the agent's own and is read from this machine's file system, never under
//! `--root`. Its keys are the long names of the flags (`interval`, `textfile-dir`, `only`...),
//! and an unknown key is an error, so a typo does not silently leave a default in place.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Deserialize;

use crate::cli::{AgentArgs, GlobalOptions, LogFormat};
use crate::duration::parse_duration;
use crate::net::{RegistryAddress, ResolveOverride};

/// The configuration file read when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "/etc/node-doctor/config.yaml";

pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9808";

/// Cap on the configuration file's size.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The configuration file. Every field is optional; absent fields keep the flag's default.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfigFile {
    pub interval: Option<String>,
    pub jitter: Option<String>,
    pub listen: Option<String>,
    pub textfile_dir: Option<PathBuf>,
    pub report_to_apiserver: Option<bool>,
    pub log_format: Option<LogFormat>,
    pub root: Option<PathBuf>,
    pub snapshot: Option<PathBuf>,
    pub offline: Option<bool>,
    pub only: Option<Vec<String>>,
    pub skip: Option<Vec<String>>,
    pub expiry_warning: Option<String>,
    pub api_server: Option<String>,
    pub kubeconfig: Option<String>,
    pub metadata_url: Option<String>,
    pub registry: Option<Vec<String>>,
    pub resolve: Option<Vec<String>>,
}

impl ConfigFile {
    /// Reads the file `--config` names, else [`DEFAULT_CONFIG`] when it exists. Returns the
    /// path read, if any, with its contents.
    pub fn load(args: &AgentArgs) -> anyhow::Result<(Option<PathBuf>, ConfigFile)> {
        let path = match &args.config {
            Some(path) => path.clone(),
            None if Path::new(DEFAULT_CONFIG).exists() => PathBuf::from(DEFAULT_CONFIG),
            None => return Ok((None, ConfigFile::default())),
        };
        let config = ConfigFile::read(&path)?;
        Ok((Some(path), config))
    }

    fn read(path: &Path) -> anyhow::Result<ConfigFile> {
        use std::io::Read as _;
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        let mut text = String::new();
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            bail!(
                "the configuration file {} is larger than {MAX_CONFIG_BYTES} bytes",
                path.display()
            );
        }
        if text.lines().all(|line| {
            let line = line.trim();
            line.is_empty() || line.starts_with('#') || line == "---"
        }) {
            return Ok(ConfigFile::default());
        }
        serde_saphyr::from_str(&text)
            .with_context(|| format!("invalid configuration file {}", path.display()))
    }
}

/// Everything one agent run needs, after merging the file and the flags.
#[derive(Clone, Debug)]
pub struct Settings {
    pub global: GlobalOptions,
    pub interval: Duration,
    pub jitter: Duration,
    pub listen: SocketAddr,
    pub textfile_dir: Option<PathBuf>,
    pub report_to_apiserver: bool,
    /// The configuration file that was read, if any.
    pub config_path: Option<PathBuf>,
}

impl Settings {
    /// Reads the configuration file and applies the flags given on the command line over it.
    pub fn load(
        global: &GlobalOptions,
        args: &AgentArgs,
        matches: &ArgMatches,
    ) -> anyhow::Result<Settings> {
        let (config_path, file) = ConfigFile::load(args)?;
        let given = |id: &str| given_on_command_line(matches, id);
        let mut global = global.clone();
        let in_file = |key: &str| match &config_path {
            Some(path) => format!("{key} in {}", path.display()),
            None => key.to_string(),
        };

        if !given("root")
            && let Some(root) = file.root
        {
            global.root = root;
        }
        if !given("snapshot") && file.snapshot.is_some() {
            global.snapshot = file.snapshot;
        }
        if !given("offline")
            && let Some(offline) = file.offline
        {
            global.offline = offline;
        }
        if !given("only")
            && let Some(only) = file.only
        {
            global.only = only;
        }
        if !given("skip")
            && let Some(skip) = file.skip
        {
            global.skip = skip;
        }
        if !given("expiry_warning")
            && let Some(text) = &file.expiry_warning
        {
            global.expiry_warning = parse_duration(text)
                .map_err(|why| anyhow::anyhow!("{}: {why}", in_file("expiry-warning")))?;
        }
        if !given("api_server") && file.api_server.is_some() {
            global.api_server = file.api_server;
        }
        if !given("kubeconfig") && file.kubeconfig.is_some() {
            global.kubeconfig = file.kubeconfig;
        }
        if !given("metadata_url")
            && let Some(url) = file.metadata_url
        {
            global.metadata_url = url;
        }
        if !given("registry")
            && let Some(registries) = &file.registry
        {
            global.registry = registries
                .iter()
                .map(|text| RegistryAddress::parse(text))
                .collect::<Result<_, _>>()
                .map_err(|why| anyhow::anyhow!("{}: {why}", in_file("registry")))?;
        }
        if !given("resolve")
            && let Some(entries) = &file.resolve
        {
            global.resolve = entries
                .iter()
                .map(|text| ResolveOverride::parse(text))
                .collect::<Result<_, _>>()
                .map_err(|why| anyhow::anyhow!("{}: {why}", in_file("resolve")))?;
        }
        if global.log_format.is_none() {
            global.log_format = file.log_format;
        }

        let interval = match (args.interval, &file.interval) {
            (Some(interval), _) => interval,
            (None, Some(text)) => parse_duration(text)
                .map_err(|why| anyhow::anyhow!("{}: {why}", in_file("interval")))?,
            (None, None) => DEFAULT_INTERVAL,
        };
        let jitter = match (args.jitter, &file.jitter) {
            (Some(jitter), _) => jitter,
            (None, Some(text)) => parse_duration(text)
                .map_err(|why| anyhow::anyhow!("{}: {why}", in_file("jitter")))?,
            (None, None) => interval / 10,
        };
        let listen_text = file.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen = match args.listen {
            Some(listen) => listen,
            None => listen_text.parse().map_err(|error| {
                anyhow::anyhow!(
                    "{}: invalid address {listen_text:?}: {error}; use ADDRESS:PORT such as 127.0.0.1:9808",
                    in_file("listen")
                )
            })?,
        };
        let textfile_dir = args.textfile_dir.clone().or(file.textfile_dir);
        let report_to_apiserver =
            args.report_to_apiserver || file.report_to_apiserver == Some(true);

        let settings = Settings {
            global,
            interval,
            jitter,
            listen,
            textfile_dir,
            report_to_apiserver,
            config_path,
        };
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.interval < Duration::from_secs(1) {
            bail!("--interval must be at least 1s");
        }
        if self.jitter > self.interval {
            bail!(
                "--jitter ({}s) must not be longer than --interval ({}s)",
                self.jitter.as_secs(),
                self.interval.as_secs()
            );
        }
        if self.report_to_apiserver && self.global.offline {
            bail!("--report-to-apiserver needs the network; remove --offline or that option");
        }
        if self.report_to_apiserver && self.global.snapshot.is_some() {
            bail!(
                "--report-to-apiserver reports this node's own status, so it cannot be used with --snapshot"
            );
        }
        Ok(())
    }
}

/// Returns whether the argument `id` (clap's id: the field name) was given on the command
/// line or through its environment variable, rather than left at its default.
fn given_on_command_line(matches: &ArgMatches, id: &str) -> bool {
    let explicit = |m: &ArgMatches| {
        matches!(
            m.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        )
    };
    explicit(matches) || matches.subcommand_matches("agent").is_some_and(explicit)
}

/// Returns the log format the configuration file sets, if it can be read. Errors are left
/// for [`Settings::load`] to report once logging is set up.
pub fn config_log_format(args: &AgentArgs) -> Option<LogFormat> {
    ConfigFile::load(args).ok()?.1.log_format
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_rejects_unknown_key() {
        let error = serde_saphyr::from_str::<ConfigFile>("intervall: 5m\n").unwrap_err();
        assert!(error.to_string().contains("intervall"), "{error}");
    }

    #[test]
    fn config_reads_lists_and_flags() {
        let config: ConfigFile = serde_saphyr::from_str(
            "interval: 1m\nonly: [pki, node-ip]\nreport-to-apiserver: true\ntextfile-dir: /t\n",
        )
        .unwrap();
        assert_eq!(config.interval.as_deref(), Some("1m"));
        assert_eq!(config.only.unwrap(), ["pki", "node-ip"]);
        assert_eq!(config.report_to_apiserver, Some(true));
        assert_eq!(config.textfile_dir, Some(PathBuf::from("/t")));
    }
}
