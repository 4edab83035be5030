use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use node_doctor::cli::{Cli, Command, LogFormat};
use node_doctor::{agent, app, report};

fn main() -> ExitCode {
    // The matches are kept so the agent can tell flags given on the command line, which
    // override its configuration file, from defaults.
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let is_agent = matches!(cli.command, Some(Command::Agent(_)));
    let format = match (&cli.command, cli.global.log_format) {
        (_, Some(format)) => format,
        (Some(Command::Agent(args)), None) => {
            agent::config_log_format(args).unwrap_or(LogFormat::Text)
        }
        _ => LogFormat::Text,
    };
    // The agent logs its starts, stops and finding changes by default; one-shot commands log
    // only errors unless -v is given.
    let verbose = if is_agent {
        cli.global.verbose.max(1)
    } else {
        cli.global.verbose
    };
    init_logging(verbose, format);
    install_panic_hook();

    match app::run(cli, &matches) {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            // `{:#}` prints the whole chain: "cannot open snapshot x: No such file or directory".
            eprintln!("node-doctor: error: {error:#}");
            ExitCode::from(report::EXIT_UNKNOWN)
        }
    }
}

/// Logs go to stderr, so stdout carries only the report. `verbose` 0 shows only errors.
/// Colour is used only when stderr is a terminal and NO_COLOR is unset or empty, so the journal
/// and log files get plain text.
fn init_logging(verbose: u8, format: LogFormat) {
    let level = match verbose {
        0 => "error",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NODE_DOCTOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("node_doctor={level}")));
    if format == LogFormat::Json {
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .init();
        return;
    }
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
