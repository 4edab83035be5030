//! Turns parsed command-line options into a run: picks the host, finds the node, runs the
//! checks and prints the report. Returns the exit status; `main` only prints errors.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::CommandFactory;

use crate::check::{self, Check, CheckOptions, Code, Context, RunnerOptions};
use crate::checks;
use crate::cli::{Cli, Command, GlobalOptions, OutputFormat, OutputTarget};
use crate::host::{Host, LiveHost, NetworkSettings, SnapshotHost};
use crate::kube::{KUBELET_KUBECONFIG, NodeIdentity, kubelet_flags::KubeletFlags};
use crate::report::{self, Report, TextStyle};

pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command.unwrap_or(Command::Check) {
        Command::Check => run_check(&cli.global),
        Command::List => print(&list_checks(&checks::builtin())),
        Command::Explain { code } => print(&explain(&code)?),
        Command::Certs => {
            let context = build_context(&cli.global)?;
            print(&crate::certs::render(
                &context,
                cli.global.output.format()?,
            )?)
        }
        // Both are rendered into memory first: clap_complete panics when a write fails, and
        // print() treats a closed pipe (`node-doctor man | head`) as success.
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "node-doctor", &mut script);
            print(&String::from_utf8_lossy(&script))
        }
        Command::Collect => run_collect(&cli.global),
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .context("cannot render the man page")?;
            print(&String::from_utf8_lossy(&page))
        }
    }
}

fn run_check(options: &GlobalOptions) -> anyhow::Result<u8> {
    // Rejects a path in --output before the checks run.
    options.output.format()?;
    let started = Instant::now();
    let selected = select_checks(checks::builtin(), &options.only, &options.skip)?;
    let context = Arc::new(build_context(options)?);
    tracing::info!(
        node = context.node_name(),
        checks = selected.len(),
        "run started"
    );

    let results = check::run_checks(selected, Arc::clone(&context), &RunnerOptions::default());
    let report = Report {
        node: context.node.name.clone(),
        source: context.host.source(),
        now: context.now(),
        duration: started.elapsed(),
        results,
        certificates: context.certificates(),
    };
    tracing::info!(duration = ?report.duration, "run finished");

    let rendered = match options.output.format()? {
        OutputFormat::Json => report::render_json(&report),
        OutputFormat::Prometheus => report::render_prometheus(&report),
        OutputFormat::Text => {
            let style = TextStyle::detect(std::io::stdout().is_terminal());
            report::render_text(&report, style)
        }
    };
    print(&rendered)?;
    Ok(report::exit_status(&report, options.fail_on))
}

/// Runs `collect`: records what the checks read on the live host and writes the snapshot.
fn run_collect(options: &GlobalOptions) -> anyhow::Result<u8> {
    if options.snapshot.is_some() {
        bail!("collect reads a live host: use --root DIR instead of --snapshot");
    }
    let host = open_host(options)?;
    let output = match &options.output {
        OutputTarget::Path(path) => path.clone(),
        OutputTarget::Format(OutputFormat::Text) => {
            let node = NodeIdentity::detect(
                host.as_ref(),
                &KubeletFlags::read(host.as_ref()),
                KUBELET_KUBECONFIG,
            );
            std::path::PathBuf::from(format!("node-doctor-snapshot-{}.tar.gz", node.name))
        }
        OutputTarget::Format(format) => {
            bail!(
                "collect writes a snapshot, not a {format:?} report: give -o FILE.tar.gz or -o DIR"
            )
        }
    };
    let summary = crate::snapshot::collect(|host| context_for(host, options), host, &output)?;
    eprintln!(
        "node-doctor: wrote {} ({} files, {} symlinks, {} special files; {} redacted; {} outputs unavailable)",
        output.display(),
        summary.files,
        summary.symlinks,
        summary.special,
        summary.redacted,
        summary.unavailable
    );
    Ok(report::EXIT_OK)
}

/// Opens the host the options name and works out the node's identity.
pub fn build_context(options: &GlobalOptions) -> anyhow::Result<Context> {
    context_for(open_host(options)?, options)
}

/// Opens the snapshot or live host the options name.
pub fn open_host(options: &GlobalOptions) -> anyhow::Result<Arc<dyn Host>> {
    let host: Arc<dyn Host> = match &options.snapshot {
        Some(path) => Arc::new(SnapshotHost::open(path, options.now)?),
        None => {
            if !options.root.is_dir() {
                bail!("--root {}: not a directory", options.root.display());
            }
            let network = NetworkSettings {
                offline: options.offline,
                api_server: options.api_server.clone(),
                kubeconfig: options.kubeconfig.clone(),
                resolve: options.resolve.clone(),
                metadata_url: options.metadata_url.clone(),
            };
            Arc::new(LiveHost::new(&options.root, options.now).with_network(network))
        }
    };
    Ok(host)
}

/// Works out the node's identity on `host` and builds the context checks run with.
pub fn context_for(host: Arc<dyn Host>, options: &GlobalOptions) -> anyhow::Result<Context> {
    let flags = KubeletFlags::read(host.as_ref());
    let kubeconfig = flags
        .value("kubeconfig")
        .unwrap_or(KUBELET_KUBECONFIG)
        .to_string();
    let node = NodeIdentity::detect(host.as_ref(), &flags, &kubeconfig);
    tracing::debug!(node = node.name, source = node.source, "node identity");

    let check_options = CheckOptions {
        expiry_warning: options.expiry_warning,
        offline: options.offline,
        registries: options.registry.clone(),
        resolve: options.resolve.clone(),
    };
    Ok(Context::new(host, node, check_options))
}

/// Applies --only and --skip, rejecting ids that name no check.
pub fn select_checks(
    all: Vec<Arc<dyn Check>>,
    only: &[String],
    skip: &[String],
) -> anyhow::Result<Vec<Arc<dyn Check>>> {
    for id in only.iter().chain(skip) {
        if !all.iter().any(|check| check.id() == id) {
            let known: Vec<&str> = all.iter().map(|check| check.id()).collect();
            if known.is_empty() {
                bail!("unknown check {id:?}; known checks: none, this build has no checks");
            }
            bail!("unknown check {id:?}; known checks: {}", known.join(", "));
        }
    }
    Ok(all
        .into_iter()
        .filter(|check| only.is_empty() || only.iter().any(|id| id == check.id()))
        .filter(|check| !skip.iter().any(|id| id == check.id()))
        .collect())
}

fn list_checks(all: &[Arc<dyn Check>]) -> String {
    let mut out = String::new();
    for check in all {
        out.push_str(&format!("{}: {}\n", check.id(), check.title()));
        for code in Code::of_check(check.id()) {
            out.push_str(&format!(
                "  {:<48} {}\n",
                code.as_str(),
                code.default_severity()
            ));
        }
    }
    out
}

fn explain(code: &str) -> anyhow::Result<String> {
    let Some(found) = Code::find(code) else {
        bail!("unknown finding code {code:?}; run `node-doctor list` to see every code");
    };
    Ok(format!(
        "{}\n  check: {}\n  default severity: {}\n\n{}\n",
        found.as_str(),
        found.check_id(),
        found.default_severity(),
        found.description()
    ))
}

/// Writes to stdout. A closed pipe (`node-doctor | head`) is not an error.
fn print(text: &str) -> anyhow::Result<u8> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(report::EXIT_OK),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(report::EXIT_OK),
        Err(error) => Err(error).context("cannot write to standard output"),
    }
}
