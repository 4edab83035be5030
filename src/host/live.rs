use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use super::api::ApiClient;
use super::{
    CommandOutput, DirEntry, FetchRequest, FileMeta, FileTail, Host, HostCommand, HostError,
    HostErrorKind, NetworkSettings, RootFs, Source, http,
};

/// Longest time a host command may run before it is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Cap on the output read from one host command.
const MAX_COMMAND_OUTPUT: u64 = 8 * 1024 * 1024;

/// Cap on a Node object; real ones are a few tens of KiB.
const MAX_NODE_BODY: u64 = 4 * 1024 * 1024;

/// Cap on the pods of one node: up to 110 pods (the kubelet's default --max-pods) of tens of
/// KiB each, with room to spare.
const MAX_PODS_BODY: u64 = 32 * 1024 * 1024;

/// Cap on the cluster's DaemonSets.
const MAX_DAEMONSETS_BODY: u64 = 16 * 1024 * 1024;

/// The running machine, seen through `--root`.
pub struct LiveHost {
    rootfs: RootFs,
    now: Option<Timestamp>,
    network: NetworkSettings,
    /// The API client of the last request, with the node kubeconfig it was built for, so one
    /// run reads the credentials and sets up TLS once.
    api: Mutex<Option<(String, Arc<ApiClient>)>>,
    memo: super::Memo,
}

impl LiveHost {
    /// Creates a live host rooted at `root`. `now` overrides the system clock. It makes no
    /// network request until [`LiveHost::with_network`] allows them.
    pub fn new(root: impl Into<PathBuf>, now: Option<Timestamp>) -> LiveHost {
        LiveHost {
            rootfs: RootFs::new(root),
            now,
            network: NetworkSettings::offline(),
            api: Mutex::new(None),
            memo: super::Memo::default(),
        }
    }

    /// Sets the endpoints network requests go to, and whether any may be made.
    pub fn with_network(mut self, network: NetworkSettings) -> LiveHost {
        self.network = network;
        self
    }

    /// Returns why systemctl and timedatectl cannot describe this host: they talk to the
    /// systemd of the machine node-doctor runs on, which is not the host under `--root`, and
    /// they need systemd as PID 1 (sd_booted(3) tests for /run/systemd/system).
    fn systemd_unavailable(&self) -> Option<String> {
        if self.rootfs.root() != std::path::Path::new("/") {
            return Some(format!(
                "systemd is only asked when --root is /, not {}",
                self.rootfs.root().display()
            ));
        }
        if !std::path::Path::new("/run/systemd/system").is_dir() {
            return Some("systemd is not running (no /run/systemd/system)".to_string());
        }
        None
    }

    fn journal_args(&self, unit: &str, lines: u32) -> Vec<String> {
        let mut args = vec![
            "-u".to_string(),
            unit.to_string(),
            "-o".to_string(),
            "short-iso".to_string(),
            "--no-pager".to_string(),
            "-n".to_string(),
            lines.to_string(),
        ];
        if self.rootfs.root() != std::path::Path::new("/") {
            args.push(format!("--root={}", self.rootfs.root().display()));
        }
        args
    }
}

impl Host for LiveHost {
    fn source(&self) -> Source {
        Source::Live
    }

    fn now(&self) -> Timestamp {
        self.now.unwrap_or_else(Timestamp::now)
    }

    fn recorded_node_name(&self) -> Option<String> {
        None
    }

    fn memo(&self) -> Option<&super::Memo> {
        Some(&self.memo)
    }

    fn live_root(&self) -> Option<&std::path::Path> {
        Some(self.rootfs.root())
    }

    fn read_file(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, HostError> {
        self.rootfs.read_file(path, max_bytes)
    }

    fn read_tail(&self, path: &str, max_bytes: u64) -> Result<FileTail, HostError> {
        self.rootfs.read_tail(path, max_bytes)
    }

    fn stat(&self, path: &str) -> Result<FileMeta, HostError> {
        self.rootfs.stat(path)
    }

    fn lstat(&self, path: &str) -> Result<FileMeta, HostError> {
        self.rootfs.lstat(path)
    }

    fn read_link(&self, path: &str) -> Result<String, HostError> {
        self.rootfs.read_link(path)
    }

    fn canonicalize(&self, path: &str) -> Result<String, HostError> {
        self.rootfs.canonicalize(path)
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        self.rootfs.read_dir(path)
    }

    fn connect_tcp(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<std::net::TcpStream, HostError> {
        super::network::connect_tcp(host, port, timeout)
    }

    fn run(&self, command: &HostCommand) -> Result<CommandOutput, HostError> {
        if command.needs_running_systemd()
            && let Some(why) = self.systemd_unavailable()
        {
            return Err(HostError::new(
                command.display(),
                HostErrorKind::Unavailable(why),
            ));
        }
        let (program, args) = match command {
            HostCommand::Journal { unit, lines } => ("journalctl", self.journal_args(unit, *lines)),
            // `ip` reads the network namespace node-doctor runs in, whatever --root is.
            HostCommand::IpAddr => ("ip", strings(&["-j", "addr", "show"])),
            HostCommand::IpRoute => ("ip", strings(&["-j", "route", "show"])),
            HostCommand::IpRoute6 => ("ip", strings(&["-j", "-6", "route", "show"])),
            HostCommand::SystemctlShow { unit, properties } => {
                let mut args = vec!["show".to_string(), "--no-pager".to_string()];
                for property in properties {
                    args.push("-p".to_string());
                    args.push(property.clone());
                }
                args.push("--".to_string());
                args.push(unit.clone());
                ("systemctl", args)
            }
            HostCommand::TimedatectlShow => ("timedatectl", vec!["show".to_string()]),
            // NOTE: the live host has no API client yet, so it reads no API objects. Checks fall
            // back to files on the node.
            HostCommand::KubeadmConfigMap => {
                let why = "reading the API server is not implemented on a live host".to_string();
                return Err(HostError::new(
                    command.display(),
                    HostErrorKind::Unavailable(why),
                ));
            }
        };
        run_with_timeout(program, &args, &command.display())
    }

    fn fetch(&self, request: &FetchRequest) -> Result<String, HostError> {
        if self.network.offline {
            let why = "network requests are turned off (--offline)".to_string();
            return Err(HostError::new(
                request.display(),
                HostErrorKind::Unavailable(why),
            ));
        }
        match request {
            FetchRequest::Node { name, kubeconfig } => {
                let path = format!("/api/v1/nodes/{}", encode_path_segment(name));
                self.api_client(kubeconfig)?.get(&path, MAX_NODE_BODY)
            }
            FetchRequest::PodsOnNode { node, kubeconfig } => {
                let path = format!(
                    "/api/v1/pods?fieldSelector=spec.nodeName%3D{}",
                    encode_path_segment(node)
                );
                self.api_client(kubeconfig)?.get(&path, MAX_PODS_BODY)
            }
            FetchRequest::DaemonSets { kubeconfig } => self
                .api_client(kubeconfig)?
                .get("/apis/apps/v1/daemonsets", MAX_DAEMONSETS_BODY),
            FetchRequest::Metadata { path } => http::get_metadata(&self.network.metadata_url, path),
        }
    }
}

impl LiveHost {
    /// Returns the API client for requests that name `node_kubeconfig`, building it once.
    fn api_client(&self, node_kubeconfig: &str) -> Result<Arc<ApiClient>, HostError> {
        let mut cached = self.api.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((path, client)) = cached.as_ref()
            && path == node_kubeconfig
        {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(ApiClient::connect(
            &self.network,
            &self.rootfs,
            node_kubeconfig,
        )?);
        *cached = Some((node_kubeconfig.to_string(), Arc::clone(&client)));
        Ok(client)
    }
}

/// Percent-encodes everything but the characters of a DNS subdomain, the form node names take.
pub(crate) fn encode_path_segment(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.' {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

/// Runs a program with no stdin, a timeout and a cap on what is kept of its output.
fn run_with_timeout(
    program: &str,
    args: &[String],
    shown: &str,
) -> Result<CommandOutput, HostError> {
    tracing::debug!(command = shown, "running host command");
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| {
            let kind = if error.kind() == std::io::ErrorKind::NotFound {
                HostErrorKind::Unavailable(format!("{program} is not installed"))
            } else {
                HostErrorKind::Io(error)
            };
            HostError::new(shown, kind)
        })?;

    let stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut output = Vec::new();
        let _ = stdout.take(MAX_COMMAND_OUTPUT).read_to_end(&mut output);
        output
    });

    let deadline = std::time::Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let why = format!("timed out after {}s", COMMAND_TIMEOUT.as_secs());
                tracing::warn!(command = shown, "{why}");
                return Err(HostError::new(shown, HostErrorKind::CommandFailed(why)));
            }
            Err(error) => return Err(HostError::new(shown, HostErrorKind::Io(error))),
        }
    };

    let output = reader.join().unwrap_or_default();
    if !status.success() {
        let why = format!("exited with {status}");
        return Err(HostError::new(shown, HostErrorKind::CommandFailed(why)));
    }
    Ok(CommandOutput {
        stdout: String::from_utf8_lossy(&output).into_owned(),
    })
}
