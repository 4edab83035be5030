//! Turns parsed command-line options into a run: picks the host, finds the node, runs the
//! checks and prints the report. Returns the exit status; `main` only prints errors.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::CommandFactory;

use crate::check::{self, Check, CheckOptions, Code, Context, RunnerOptions};
use crate::checks;
use crate::cli::{Cli, Command, GlobalOptions, OutputFormat};
use crate::host::{Host, LiveHost, NetworkSettings, SnapshotHost};
use crate::kube::{KUBELET_KUBECONFIG, NodeIdentity, kubelet_flags::KubeletFlags};
use crate::report::{self, Report, TextStyle};

/// Runs the command. `matches` are the parsed arguments `cli` came from; the agent reads
/// which options were given on the command line from them.
pub fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<u8> {
    match cli.command.unwrap_or(Command::Check) {
        Command::Agent(args) => crate::agent::run(&cli.global, &args, matches),
        Command::Check => run_check(&cli.global),
        Command::List => print(&list_checks(&checks::builtin())),
        Command::Explain { code } => print(&explain(&code)?),
        Command::Certs => {
            let context = build_context(&cli.global)?;
            print(&crate::certs::render(&context, cli.global.output)?)
        }
        // Both are rendered into memory first: clap_complete panics when a write fails, and
        // print() treats a closed pipe (`node-doctor man | head`) as success.
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "node-doctor", &mut script);
            print(&String::from_utf8_lossy(&script))
        }
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
    let (_context, report) = produce_report(options)?;
    if options.output == OutputFormat::Npd {
        let (line, status) = report::render_npd(&report, options.fail_on);
        print(&line)?;
        return Ok(status);
    }

    let rendered = match options.output {
        OutputFormat::Npd => unreachable!("handled above"),
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

/// Selects the checks, opens the host and runs the checks once. Returns the context too, so
/// a caller can reach the host and node the report is about.
pub fn produce_report(options: &GlobalOptions) -> anyhow::Result<(Arc<Context>, Report)> {
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
    Ok((context, report))
}

/// Opens the host the options name and works out the node's identity.
pub fn build_context(options: &GlobalOptions) -> anyhow::Result<Context> {
    let host: Arc<dyn Host> = match &options.snapshot {
        Some(path) => Arc::new(SnapshotHost::open(path, options.now)?),
        None => {
            if !options.root.is_dir() {
                bail!("--root {}: not a directory", options.root.display());
            }
            Arc::new(
                LiveHost::new(&options.root, options.now).with_network(network_settings(options)),
            )
        }
    };

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

/// Returns the network options for the live host and the API client.
pub fn network_settings(options: &GlobalOptions) -> NetworkSettings {
    NetworkSettings {
        offline: options.offline,
        api_server: options.api_server.clone(),
        kubeconfig: options.kubeconfig.clone(),
        resolve: options.resolve.clone(),
        metadata_url: options.metadata_url.clone(),
    }
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
