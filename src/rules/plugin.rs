//! `kind: command`: an executable plugin. It follows node-problem-detector's custom plugin
//! protocol (exit 0 OK, 1 problem, 2 unknown, the first line of standard output the message),
//! or with `output: json` prints `{"findings": [...]}` itself.
//!
//! A plugin runs on a live host only, never on a snapshot: it would inspect the machine
//! node-doctor runs on, not the captured node. It gets no standard input, runs in its own
//! process group so that a timeout kills its children too, and has its output capped.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::rule::RuleOutcome;
use super::template::{FindingTemplate, Vars};
use crate::check::{Code, Context, Finding, Fix, Severity};
use crate::host::Source;

/// How much of a plugin's standard output is kept. The rest is read and dropped, so a chatty
/// plugin does not block on a full pipe.
pub const MAX_PLUGIN_OUTPUT: u64 = 1024 * 1024;

/// How many standard error lines of one run are logged; later ones are counted only.
const MAX_STDERR_LINES: usize = 50;

/// The maximum length of the message taken from the first stdout line, in bytes.
const MAX_MESSAGE: usize = 1024;

/// How long to wait for the output pipes to close after the plugin exited. A grandchild that
/// left the process group can hold them open forever.
const PIPE_GRACE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginOutput {
    /// node-problem-detector's protocol.
    Npd,
    /// `{"findings": [...]}` on standard output.
    Json,
}

#[derive(Debug)]
pub struct CommandRule {
    /// The program and its arguments. A relative program path was resolved against the
    /// checks file's folder.
    pub program: PathBuf,
    pub args: Vec<String>,
    pub timeout: Duration,
    pub output: PluginOutput,
}

impl CommandRule {
    pub fn evaluate(
        &self,
        context: &Context,
        template: Option<&FindingTemplate>,
        codes: &[Code],
        location: &str,
    ) -> RuleOutcome {
        if context.host.source() != Source::Live {
            return RuleOutcome::Skipped(
                "plugins run on a live host only, not on a snapshot".to_string(),
            );
        }
        let run = match self.run(context.host.live_root(), location) {
            Ok(run) => run,
            Err(why) => return RuleOutcome::Error(why),
        };
        match self.output {
            PluginOutput::Npd => npd_outcome(&run, context, template, &self.program_name()),
            PluginOutput::Json => json_outcome(&run, codes),
        }
    }

    fn program_name(&self) -> String {
        self.program.display().to_string()
    }

    fn run(&self, root: Option<&std::path::Path>, location: &str) -> Result<PluginRun, String> {
        let name = self.program_name();
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(root) = root.filter(|root| *root != std::path::Path::new("/")) {
            command.env("NODE_DOCTOR_ROOT", root);
        }
        let mut child = command.spawn().map_err(|error| {
            tracing::error!(plugin = name, location, %error, "plugin failed to start");
            format!("plugin {name} failed to start: {error}")
        })?;
        let pid = child.id();
        tracing::info!(plugin = name, pid, location, "plugin started");

        let (sender, receiver) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdout_sender = sender.clone();
        std::thread::spawn(move || {
            let _ = stdout_sender.send(Pipe::Stdout(read_capped(stdout)));
        });
        let stderr = child.stderr.take().expect("stderr is piped");
        let stderr_name = name.clone();
        std::thread::spawn(move || {
            log_stderr(stderr, &stderr_name);
            let _ = sender.send(Pipe::Stderr);
        });

        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => {
                    kill_group(pid);
                    let _ = child.wait();
                    let why = format!(
                        "plugin {name} timed out after {}s and was killed",
                        self.timeout.as_secs_f64()
                    );
                    tracing::warn!(plugin = name, pid, "{why}");
                    return Err(why);
                }
                Err(error) => {
                    kill_group(pid);
                    return Err(format!("plugin {name}: cannot wait for it: {error}"));
                }
            }
        };

        let mut stdout = None;
        let grace = Instant::now() + PIPE_GRACE;
        for _ in 0..2 {
            let left = grace.saturating_duration_since(Instant::now());
            match receiver.recv_timeout(left) {
                Ok(Pipe::Stdout(captured)) => stdout = Some(captured),
                Ok(Pipe::Stderr) => {}
                Err(_) => break,
            }
        }
        let Some((bytes, total)) = stdout else {
            kill_group(pid);
            let why = format!("plugin {name} exited but its output stayed open");
            tracing::warn!(plugin = name, pid, "{why}");
            return Err(why);
        };
        tracing::info!(plugin = name, pid, %status, output_bytes = total, "plugin exited");
        Ok(PluginRun {
            code: status.code(),
            stdout: String::from_utf8_lossy(&bytes).into_owned(),
            truncated: total > MAX_PLUGIN_OUTPUT,
        })
    }
}

enum Pipe {
    Stdout((Vec<u8>, u64)),
    Stderr,
}

struct PluginRun {
    /// The exit code, or `None` when a signal ended the plugin.
    code: Option<i32>,
    stdout: String,
    truncated: bool,
}

/// Reads up to [`MAX_PLUGIN_OUTPUT`] bytes, then drains the rest. Returns the bytes kept and
/// the total size.
fn read_capped(mut pipe: impl Read) -> (Vec<u8>, u64) {
    let mut kept = Vec::new();
    let read = (&mut pipe)
        .take(MAX_PLUGIN_OUTPUT)
        .read_to_end(&mut kept)
        .unwrap_or(0) as u64;
    let dropped = std::io::copy(&mut pipe, &mut std::io::sink()).unwrap_or(0);
    (kept, read + dropped)
}

fn log_stderr(pipe: impl Read, plugin: &str) {
    let mut reader = BufReader::new(pipe);
    let mut logged = 0;
    let mut skipped = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        // The cap keeps one endless line from growing without bound.
        match (&mut reader).take(4096).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if logged < MAX_STDERR_LINES => {
                let text = super::log_line::redact(&String::from_utf8_lossy(&line));
                tracing::warn!(plugin, stderr = text, "plugin wrote to standard error");
                logged += 1;
            }
            Ok(_) => skipped += 1,
        }
    }
    if skipped > 0 {
        tracing::warn!(plugin, skipped, "plugin standard error lines not logged");
    }
}

fn kill_group(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    let group = nix::unistd::Pid::from_raw(pid);
    if let Err(error) = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL) {
        tracing::debug!(pid, %error, "plugin process group not killed");
    }
}

fn npd_outcome(
    run: &PluginRun,
    context: &Context,
    template: Option<&FindingTemplate>,
    name: &str,
) -> RuleOutcome {
    let mut message = run
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
    let message = super::log_line::redact(&message);
    match run.code {
        Some(0) => RuleOutcome::Findings(Vec::new()),
        Some(1) => {
            let template = template.expect("validation requires a finding for NPD plugins");
            let mut vars = Vars::new();
            vars.insert("node".into(), context.node_name().to_string());
            vars.insert("message".into(), message.clone());
            let finding = template
                .instantiate(&vars)
                .evidence(name, "message", message);
            RuleOutcome::Findings(vec![finding])
        }
        Some(2) => RuleOutcome::Error(format!("plugin {name} reported unknown: {message}")),
        Some(code) => RuleOutcome::Error(format!(
            "plugin {name} exited with {code}; expected 0 (OK), 1 (problem) or 2 (unknown): {message}"
        )),
        None => RuleOutcome::Error(format!("plugin {name} was ended by a signal")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginReport {
    findings: Vec<PluginFinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginFinding {
    code: String,
    severity: Option<Severity>,
    summary: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    fix: Fix,
    #[serde(default)]
    references: Vec<String>,
}

fn json_outcome(run: &PluginRun, codes: &[Code]) -> RuleOutcome {
    if run.truncated {
        return RuleOutcome::Error(format!(
            "plugin output is over {MAX_PLUGIN_OUTPUT} bytes, the maximum node-doctor reads"
        ));
    }
    if !matches!(run.code, Some(0 | 1)) {
        let code = run.code.map_or("a signal".to_string(), |c| c.to_string());
        return RuleOutcome::Error(format!("plugin exited with {code}; expected 0 or 1"));
    }
    let report: PluginReport = match serde_json::from_str(&run.stdout) {
        Ok(report) => report,
        Err(error) => {
            return RuleOutcome::Error(format!(
                "plugin output is not a findings document: {error}"
            ));
        }
    };
    let mut findings = Vec::new();
    for reported in report.findings {
        let Some(code) = codes.iter().copied().find(|c| c.as_str() == reported.code) else {
            return RuleOutcome::Error(format!(
                "plugin reported code {:?}, which its check does not declare",
                reported.code
            ));
        };
        let mut finding = Finding::new(code, reported.summary)
            .details(reported.details)
            .fix(reported.fix);
        if let Some(severity) = reported.severity {
            finding = finding.severity(severity);
        }
        for reference in reported.references {
            finding = finding.reference(reference);
        }
        findings.push(finding);
    }
    RuleOutcome::Findings(findings)
}
