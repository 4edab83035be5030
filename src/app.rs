//! Turns parsed command-line options into a run: picks the host, finds the node, runs the
//! checks and prints the report. Returns the exit status; `main` only prints errors.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, anyhow, bail};
use clap::CommandFactory;

use crate::check::{self, Check, CheckOptions, Code, Context, RunnerOptions};
use crate::checks;
use crate::cli::{ChecksCommand, Cli, Command, GlobalOptions, OutputFormat, OutputTarget};
use crate::host::{Host, LiveHost, NetworkSettings, SnapshotHost};
use crate::kube::{KUBELET_KUBECONFIG, NodeIdentity, kubelet_flags::KubeletFlags};
use crate::report::{self, Report, TextStyle};
use crate::rules::{self, DEFAULT_CHECKS_DIRS};

/// Runs the command. `matches` are the parsed arguments `cli` came from; the agent reads
/// which options were given on the command line from them.
pub fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<u8> {
    match cli.command.unwrap_or(Command::Check) {
        Command::Agent(args) => crate::agent::run(&cli.global, &args, matches),
        Command::Check => run_check(&cli.global),
        Command::List => print(&list_checks(&all_checks(&cli.global)?)),
        Command::Explain { code } => print(&explain(&code, &all_checks(&cli.global)?)?),
        Command::Diagnose { file, no_confirm } => {
            crate::diagnose::run(&cli.global, &file, !no_confirm)
        }
        Command::Checks {
            command: ChecksCommand::Validate { dir },
        } => validate_checks(&cli.global, dir.as_deref()),
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
    let (_context, report) = produce_report(options)?;
    print_report(options, &report)
}

/// Selects the checks, opens the host and runs the checks once. Returns the context too, so
/// a caller can reach the host and node the report is about.
pub fn produce_report(options: &GlobalOptions) -> anyhow::Result<(Arc<Context>, Report)> {
    let started = Instant::now();
    let selected = select_checks(all_checks(options)?, &options.only, &options.skip)?;
    let context = Arc::new(build_context(options)?);
    tracing::info!(
        node = context.node_name(),
        checks = selected.len(),
        "run started"
    );

    let results = check::run_checks(selected, Arc::clone(&context), &RunnerOptions::default());
    let report = build_report(&context, results, started);
    Ok((context, report))
}

/// Puts the results of a run together with the node, the time and the certificates read.
pub fn build_report(
    context: &Context,
    mut results: Vec<check::CheckResult>,
    started: Instant,
) -> Report {
    report::merge_log_signature_duplicates(&mut results);
    let report = Report {
        node: context.node.name.clone(),
        source: context.host.source(),
        now: context.now(),
        duration: started.elapsed(),
        results,
        certificates: context.certificates(),
    };
    tracing::info!(duration = ?report.duration, "run finished");
    report
}

/// Renders a report in the chosen format, prints it and returns the exit status.
pub fn print_report(options: &GlobalOptions, report: &Report) -> anyhow::Result<u8> {
    let rendered = match options.output.format()? {
        OutputFormat::Npd => {
            let (line, status) = report::render_npd(report, options.fail_on);
            print(&line)?;
            return Ok(status);
        }
        OutputFormat::Json => report::render_json(report),
        OutputFormat::Prometheus => report::render_prometheus(report),
        OutputFormat::Text => {
            let style = TextStyle::detect(std::io::stdout().is_terminal());
            report::render_text(report, style)
        }
    };
    print(&rendered)?;
    Ok(report::exit_status(report, options.fail_on))
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
            Arc::new(
                LiveHost::new(&options.root, options.now).with_network(network_settings(options)),
            )
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
    let selected: Vec<Arc<dyn Check>> = all
        .into_iter()
        .filter(|check| only.is_empty() || only.iter().any(|id| id == check.id()))
        .filter(|check| !skip.iter().any(|id| id == check.id()))
        .collect();
    if selected.is_empty() {
        bail!("no check left to run: --skip removes every check that --only selects");
    }
    Ok(selected)
}

/// Returns the folders of declarative checks: the default ones, then --checks-dir.
fn checks_dirs(options: &GlobalOptions) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = DEFAULT_CHECKS_DIRS.iter().map(PathBuf::from).collect();
    dirs.extend(options.checks_dir.iter().cloned());
    dirs
}

/// Returns the built-in checks followed by the declarative checks of every checks folder.
/// An invalid checks file stops the run, with every error and its position.
pub fn all_checks(options: &GlobalOptions) -> anyhow::Result<Vec<Arc<dyn Check>>> {
    let mut all = checks::builtin();
    let reserved: Vec<&str> = all.iter().map(|check| check.id()).collect();
    let files = rules::checks_files(&checks_dirs(options)).map_err(|error| anyhow!("{error}"))?;
    match rules::load(&files, &reserved) {
        Ok(loaded) => {
            tracing::debug!(
                files = loaded.files,
                checks = loaded.checks.len(),
                "declarative checks loaded"
            );
            all.extend(
                loaded
                    .checks
                    .into_iter()
                    .map(|check| Arc::new(check) as Arc<dyn Check>),
            );
            Ok(all)
        }
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            bail!(
                "invalid checks files (run `node-doctor checks validate`):\n{}",
                lines.join("\n")
            )
        }
    }
}

fn validate_checks(options: &GlobalOptions, target: Option<&Path>) -> anyhow::Result<u8> {
    let files = match target {
        Some(path) if path.is_file() => vec![path.to_path_buf()],
        Some(path) if path.is_dir() => {
            rules::checks_files(&[path.to_path_buf()]).map_err(|error| anyhow!("{error}"))?
        }
        Some(path) => bail!("{}: no such file or folder", path.display()),
        None => rules::checks_files(&checks_dirs(options)).map_err(|error| anyhow!("{error}"))?,
    };
    let builtin = checks::builtin();
    let reserved: Vec<&str> = builtin.iter().map(|check| check.id()).collect();
    match rules::load(&files, &reserved) {
        Ok(loaded) => {
            print(&format!(
                "{} checks in {} files are valid\n",
                loaded.checks.len(),
                loaded.files
            ))?;
            Ok(report::EXIT_OK)
        }
        Err(errors) => {
            let mut out = String::new();
            for error in &errors {
                out.push_str(&format!("{error}\n"));
            }
            out.push_str(&format!("{} errors\n", errors.len()));
            print(&out)?;
            Ok(report::EXIT_PROBLEM)
        }
    }
}

fn list_checks(all: &[Arc<dyn Check>]) -> String {
    let mut out = String::new();
    for check in all {
        out.push_str(&format!("{}: {}\n", check.id(), check.title()));
        for code in check.codes() {
            out.push_str(&format!(
                "  {:<48} {}\n",
                code.as_str(),
                code.default_severity()
            ));
        }
    }
    out
}

fn explain(code: &str, all: &[Arc<dyn Check>]) -> anyhow::Result<String> {
    let declared = || {
        all.iter()
            .flat_map(|check| check.codes())
            .find(|c| c.as_str() == code)
    };
    let Some(found) = Code::find(code).or_else(declared) else {
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
pub fn print(text: &str) -> anyhow::Result<u8> {
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
