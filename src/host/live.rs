use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use jiff::Timestamp;

use super::{
    CommandOutput, DirEntry, FileMeta, Host, HostCommand, HostError, HostErrorKind, RootFs, Source,
};

/// Longest time a host command may run before it is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Cap on the output read from one host command.
const MAX_COMMAND_OUTPUT: u64 = 8 * 1024 * 1024;

/// The running machine, seen through `--root`.
pub struct LiveHost {
    rootfs: RootFs,
    now: Option<Timestamp>,
}

impl LiveHost {
    /// Creates a live host rooted at `root`. `now` overrides the system clock.
    pub fn new(root: impl Into<PathBuf>, now: Option<Timestamp>) -> LiveHost {
        LiveHost {
            rootfs: RootFs::new(root),
            now,
        }
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

    fn read_file(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, HostError> {
        self.rootfs.read_file(path, max_bytes)
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
        let (program, args) = match command {
            HostCommand::Journal { unit, lines } => ("journalctl", self.journal_args(unit, *lines)),
        };
        run_with_timeout(program, &args, &command.display())
    }
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
