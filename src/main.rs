use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use node_doctor::{app, cli::Cli, report};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    install_panic_hook();

    match app::run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            // `{:#}` prints the whole chain: "cannot open snapshot x: No such file or directory".
            eprintln!("node-doctor: error: {error:#}");
            ExitCode::from(report::EXIT_UNKNOWN)
        }
    }
}

/// Logs go to stderr, so stdout carries only the report. Without -v only errors are shown.
/// Colour is used only when stderr is a terminal and NO_COLOR is unset or empty, so the journal
/// and log files get plain text.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "error",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NODE_DOCTOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("node_doctor={level}")));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && !no_color)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Sends panic messages to the log instead of stderr's default output. The check runner
/// catches the panic and reports the check as `error`.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| l.to_string()).unwrap_or_default();
        tracing::error!(%location, "panic: {info}");
    }));
}
