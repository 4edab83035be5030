//! The command line, defined once with clap. Completions and the man page are generated from it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::check::Severity;

#[derive(Debug, Parser)]
#[command(
    name = "node-doctor",
    version,
    about = "Finds out why a Kubernetes node is broken, or about to break, and says how to fix it",
    long_about = "Finds out why a Kubernetes node is broken, or about to break, and says how to fix it.\n\n\
        Runs read-only checks on this node (or a snapshot of one) and prints findings with their \
        evidence and a fix filled in with this node's names, paths and addresses. Without a \
        command it runs `check`.\n\n\
        Exit status: 0 when no finding is at or above --fail-on, 1 when one is, 2 when \
        node-doctor itself could not run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub global: GlobalOptions,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the checks and print a report (the default command).
    Check,
    /// List the checks and their finding codes.
    List,
    /// Print the documentation of a finding code, such as kubelet-client-cert/expired.
    Explain {
        /// The finding code, `<check-id>/<problem>`.
        code: String,
    },
    /// Print certificate expiry as `kubeadm certs check-expiration` does, with the kubelet's
    /// client certificate added.
    Certs,
    /// Read saved output (a `kubeadm join` log, a journal excerpt, `kubectl describe` events),
    /// print the known errors in it with their fixes, and run the checks that can confirm
    /// each cause on this node (or on --snapshot).
    Diagnose {
        /// The file to read, or - for standard input. Only its last 4 MiB are read.
        #[arg(default_value = "-", value_name = "FILE|-")]
        file: String,
        /// Do not run the checks that confirm a matched error on the node.
        #[arg(long)]
        no_confirm: bool,
    },
    /// Work with declarative checks (YAML files in checks.d folders).
    Checks {
        #[command(subcommand)]
        command: ChecksCommand,
    },
    /// Print a shell completion script to standard output.
    Completions {
        /// The shell to generate the script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output.
    Man,
    /// Run the checks every --interval and serve the results over HTTP until stopped.
    ///
    /// Serves /metrics (Prometheus text), /findings (the last JSON report), /healthz and
    /// /readyz on --listen. Reads its configuration from --config; flags given on the command
    /// line override it. SIGHUP reloads the configuration, SIGTERM and SIGINT stop the agent.
    Agent(AgentArgs),
    /// Write a snapshot of this node (node-doctor-snapshot/v1) holding what the checks read,
    /// with private keys replaced by their public keys and tokens and passwords removed.
    /// `-o FILE.tar.gz` writes an archive and `-o DIR` a new directory; the default is
    /// node-doctor-snapshot-NODE.tar.gz in the current directory.
    Collect,
}

#[derive(Debug, Subcommand)]
pub enum ChecksCommand {
    /// Validate checks files and print each error with its file, line and column. Exits 1 when
    /// there is an error.
    Validate {
        /// A folder or file to validate. Without it, the folders every run reads are validated:
        /// /usr/share/node-doctor/checks.d, /etc/node-doctor/checks.d and --checks-dir.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Options of `node-doctor agent`. Each may also be set in the configuration file, under its
/// long name; a flag given on the command line wins.
#[derive(Clone, Debug, Default, Args)]
pub struct AgentArgs {
    /// The agent's configuration file (YAML). It is read from this machine's file system,
    /// not under --root. A missing file is an error only when this flag names it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Time between the start of one run and the next, such as 5m or 1h [default: 5m].
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_duration)]
    pub interval: Option<Duration>,

    /// Maximum random delay added to each wait, so the nodes of a fleet do not run in step
    /// [default: a tenth of --interval].
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_duration)]
    pub jitter: Option<Duration>,

    /// Address and port to serve /metrics, /findings, /healthz and /readyz on. Port 0 picks a
    /// free port, which the agent logs [default: 127.0.0.1:9808].
    #[arg(long, value_name = "ADDRESS:PORT")]
    pub listen: Option<std::net::SocketAddr>,

    /// Also write the metrics of each run to DIR/node_doctor.prom for node_exporter's textfile
    /// collector, replacing the file atomically.
    #[arg(long, value_name = "DIR")]
    pub textfile_dir: Option<PathBuf>,

    /// Set one condition per check on this node's status and create an Event for each new
    /// critical finding, using the credentials --kubeconfig names, else the pod's service
    /// account, else the kubelet's kubeconfig.
    #[arg(long)]
    pub report_to_apiserver: bool,
}

#[derive(Clone, Debug, Args)]
pub struct GlobalOptions {
    /// Directory where the node's root file system is mounted, such as /host in a DaemonSet.
    /// Paths, symlink targets and paths inside files are resolved under it.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/",
        conflicts_with = "snapshot"
    )]
    pub root: PathBuf,

    /// Analyse a snapshot (a node-doctor-snapshot/v1 directory or .tar.gz) instead of this host.
    #[arg(long, global = true, value_name = "DIR|FILE.tar.gz")]
    pub snapshot: Option<PathBuf>,

    /// Time to check validity against, in RFC 3339 (2026-12-04T10:00:00Z). Defaults to the
    /// snapshot's capture time, else the system clock.
    #[arg(long, global = true, value_name = "RFC3339", value_parser = parse_timestamp)]
    pub now: Option<jiff::Timestamp>,

    /// Report format: text, json or prometheus. For `collect`, the snapshot to write: a
    /// FILE.tar.gz or a new DIR.
    #[arg(short, long, global = true, value_name = "FORMAT|PATH", default_value = "text", value_parser = parse_output)]
    pub output: OutputTarget,

    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long, global = true, value_enum, default_value_t = Severity::Warning, value_name = "SEVERITY")]
    pub fail_on: Severity,

    /// Run only this check (repeatable). See `node-doctor list` for the ids.
    #[arg(long, global = true, value_name = "CHECK")]
    pub only: Vec<String>,

    /// Do not run this check (repeatable).
    #[arg(long, global = true, value_name = "CHECK")]
    pub skip: Vec<String>,

    /// Report certificates that expire within this window, such as 30d, 720h or 2w.
    #[arg(long, global = true, value_name = "DURATION", default_value = "30d", value_parser = crate::duration::parse_duration)]
    pub expiry_warning: Duration,

    /// Make no network calls: no API server, registry or cloud metadata.
    #[arg(long, global = true)]
    pub offline: bool,

    /// API server URL to send requests to, instead of the server in the kubeconfig. The
    /// kubeconfig's credentials and CA are still used, and the server certificate must name
    /// this URL's host.
    #[arg(long, global = true, value_name = "URL")]
    pub api_server: Option<String>,

    /// Kubeconfig whose credentials and CA are used for the API server. It is a host path,
    /// read under --root like every path in it. Without it node-doctor uses the pod's service
    /// account when it runs in a pod, else the kubelet's kubeconfig (node credentials).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<String>,

    /// Base URL of the cloud metadata service. It is only requested when the DMI vendor names
    /// a cloud that node-doctor supports (DigitalOcean), with a 1 second timeout.
    #[arg(long, global = true, value_name = "URL", default_value = crate::host::DEFAULT_METADATA_URL)]
    pub metadata_url: String,

    /// Check that the container runtime trusts this registry, HOST or HOST:PORT as image names
    /// spell it (repeatable). Registries found in runtime configuration are checked too.
    #[arg(long, global = true, value_name = "HOST[:PORT]", value_parser = crate::net::RegistryAddress::parse)]
    pub registry: Vec<crate::net::RegistryAddress>,

    /// Connect to ADDRESS whenever the API server URL or a registry names HOST:PORT, as curl's
    /// --resolve does (repeatable). TLS still sends and verifies HOST, so a certificate for
    /// cp.example.test is accepted from 127.0.0.1 with --resolve cp.example.test:6443:127.0.0.1.
    #[arg(long, global = true, value_name = "HOST:PORT:ADDRESS", value_parser = crate::net::ResolveOverride::parse)]
    pub resolve: Vec<crate::net::ResolveOverride>,

    /// Read declarative checks from the YAML files in this folder too (repeatable), after
    /// /usr/share/node-doctor/checks.d and /etc/node-doctor/checks.d. These folders are read on
    /// the machine node-doctor runs on, not under --root.
    #[arg(long, global = true, value_name = "DIR")]
    pub checks_dir: Vec<PathBuf>,
    /// Log format on standard error: text for people, json for one JSON object per line
    /// (journald, log shippers).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Log to standard error: -v for progress, -vv for debugging, -vvv for tracing.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Prometheus,
    /// node-problem-detector's custom plugin protocol: one line of at most 80 characters and
    /// exit status 0 (OK), 1 (problem) or 2 (unknown).
    Npd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The value of `--output`: a report format, or the snapshot path that `collect` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputTarget {
    Format(OutputFormat),
    Path(PathBuf),
}

impl OutputTarget {
    /// Returns the report format, failing for a path, which only `collect` accepts.
    pub fn format(&self) -> anyhow::Result<OutputFormat> {
        match self {
            OutputTarget::Format(format) => Ok(*format),
            OutputTarget::Path(path) => anyhow::bail!(
                "invalid --output {}: expected text, json or prometheus (a path is only valid for `collect`)",
                path.display()
            ),
        }
    }
}

fn parse_output(text: &str) -> Result<OutputTarget, String> {
    match OutputFormat::from_str(text, true) {
        Ok(format) => Ok(OutputTarget::Format(format)),
        Err(_) if text.is_empty() => Err("expected text, json, prometheus or a path".to_string()),
        Err(_) => Ok(OutputTarget::Path(PathBuf::from(text))),
    }
}

fn parse_timestamp(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse::<jiff::Timestamp>()
        .map_err(|error| format!("invalid RFC 3339 time {text:?}: {error}"))
}
