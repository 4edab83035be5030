//! `node-doctor agent`: runs the checks every interval and serves the results over HTTP.
//!
//! A current-thread tokio runtime serves the endpoints and waits for the timer and signals.
//! Each run goes to a blocking thread, and the next run is only scheduled once it returns,
//! so two runs never overlap. SIGHUP reloads the configuration and starts a run. SIGTERM and
//! SIGINT stop the server and exit with status 0 without waiting for a run in progress. A
//! failed check or run is logged, and the agent carries on.

mod config;
mod node_status;
mod server;
mod textfile;
mod transitions;
mod worker;

pub use config::{DEFAULT_CONFIG, DEFAULT_INTERVAL, DEFAULT_LISTEN, Settings};
pub use node_status::{Condition, condition_type, desired_conditions};
pub use textfile::{TEXTFILE_NAME, write_textfile};
pub use transitions::{Change, FindingTracker, Transition};

use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use clap::ArgMatches;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::time::Instant;

use crate::cli::{AgentArgs, GlobalOptions, LogFormat};
use crate::report::EXIT_OK;
use server::{Published, SharedResults};
use worker::{RunOutput, Worker};

/// How long a stop waits for open HTTP connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Returns the log format the configuration file sets, for `main` to set up logging with.
pub fn config_log_format(args: &AgentArgs) -> Option<LogFormat> {
    config::config_log_format(args)
}

/// Runs the agent until SIGTERM or SIGINT. Returns an error only when it cannot start: an
/// invalid configuration, or an address it cannot listen on.
pub fn run(global: &GlobalOptions, args: &AgentArgs, matches: &ArgMatches) -> anyhow::Result<u8> {
    let settings = Settings::load(global, args, matches)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let reload = || Settings::load(global, args, matches);
    let status = runtime.block_on(serve(settings, reload));
    // A run still going on a blocking thread is abandoned rather than waited for.
    runtime.shutdown_background();
    status
}

/// The signals the agent handles.
struct Signals {
    hangup: Signal,
    terminate: Signal,
    interrupt: Signal,
}

/// The event that ended a wait.
enum Wake {
    Timer,
    Reload,
    Stop(&'static str),
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        let install = |kind| signal(kind).context("cannot install a signal handler");
        Ok(Signals {
            hangup: install(SignalKind::hangup())?,
            terminate: install(SignalKind::terminate())?,
            interrupt: install(SignalKind::interrupt())?,
        })
    }

    /// Waits until `deadline` or a signal, whichever comes first.
    async fn wait_until(&mut self, deadline: Instant) -> Wake {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => Wake::Timer,
            _ = self.hangup.recv() => Wake::Reload,
            _ = self.terminate.recv() => Wake::Stop("SIGTERM"),
            _ = self.interrupt.recv() => Wake::Stop("SIGINT"),
        }
    }
}

async fn serve(
    settings: Settings,
    reload: impl Fn() -> anyhow::Result<Settings>,
) -> anyhow::Result<u8> {
    let mut signals = Signals::install()?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let address = listener
        .local_addr()
        .context("cannot read the listening address")?;
    tracing::info!(
        %address,
        interval_seconds = settings.interval.as_secs(),
        config = settings.config_path.as_ref().map(|path| path.display().to_string()),
        "agent started"
    );

    let results: SharedResults = Arc::new(RwLock::new(Published::default()));
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, server::router(Arc::clone(&results)))
            .with_graceful_shutdown(async {
                let _ = server_stopped.await;
            })
            .into_future(),
    );

    let stopped_by = run_loop(settings, &reload, &mut signals, &results).await;

    tracing::info!(signal = stopped_by, "stopping the agent");
    let _ = stop_server.send(());
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => tracing::error!(%error, "the HTTP server failed while stopping"),
        Ok(Err(error)) => tracing::error!(%error, "the HTTP server task failed"),
        Err(_) => tracing::warn!(
            grace_seconds = SHUTDOWN_GRACE.as_secs(),
            "HTTP connections still open after the grace period; closing them"
        ),
    }
    tracing::info!("agent stopped");
    Ok(EXIT_OK)
}

/// Runs the checks until a stop signal and returns that signal's name.
async fn run_loop(
    settings: Settings,
    reload: &impl Fn() -> anyhow::Result<Settings>,
    signals: &mut Signals,
    results: &SharedResults,
) -> &'static str {
    let mut worker = Worker::new(settings);
    let mut jitter_source = JitterSource::new();
    loop {
        let started = Instant::now();
        let fallback_settings = worker.settings().clone();
        let mut task = tokio::task::spawn_blocking(move || {
            let output = worker.run_once();
            (worker, output)
        });

        // Signals that arrive during a run are handled when it ends, except a stop.
        let mut reload_requested = false;
        let joined = loop {
            tokio::select! {
                joined = &mut task => break joined,
                _ = signals.hangup.recv() => {
                    tracing::info!("SIGHUP received during a run; reloading when it ends");
                    reload_requested = true;
                }
                _ = signals.terminate.recv() => return "SIGTERM",
                _ = signals.interrupt.recv() => return "SIGINT",
            }
        };
        worker = match joined {
            Ok((worker, output)) => {
                if let Some(output) = output {
                    publish(results, output);
                }
                worker
            }
            Err(error) => {
                // The check runner catches panics in checks, so this is a panic in the agent's
                // own code. The run's state is lost; the counters start again.
                tracing::error!(%error, "the run panicked; starting again with fresh state");
                Worker::new(fallback_settings)
            }
        };

        if !reload_requested {
            let interval = worker.settings().interval;
            let delay = jitter_source.delay(worker.settings().jitter);
            let next = started + interval + delay;
            tracing::debug!(
                wait_ms = next.saturating_duration_since(Instant::now()).as_millis() as u64,
                "waiting for the next run"
            );
            match signals.wait_until(next).await {
                Wake::Timer => continue,
                Wake::Stop(name) => return name,
                Wake::Reload => tracing::info!("SIGHUP received; reloading the configuration"),
            }
        }
        reload_settings(&mut worker, reload);
    }
}

fn reload_settings(worker: &mut Worker, reload: &impl Fn() -> anyhow::Result<Settings>) {
    // NOTE: the checks are built again for every run, so a reload applies the new --only,
    // --skip and check options at once. Declarative checks from a checks.d folder do not
    // exist in this build yet; when they do, they must be read again here too.
    match reload() {
        Ok(settings) => {
            if settings.listen != worker.settings().listen {
                tracing::warn!(
                    current = %worker.settings().listen,
                    configured = %settings.listen,
                    "the listen address changed; restart the agent to apply it"
                );
            }
            tracing::info!(
                config = settings
                    .config_path
                    .as_ref()
                    .map(|path| path.display().to_string()),
                interval_seconds = settings.interval.as_secs(),
                "configuration reloaded"
            );
            worker.replace_settings(settings);
        }
        Err(error) => tracing::error!(
            error = format!("{error:#}"),
            "could not reload the configuration; keeping the previous one"
        ),
    }
}

fn publish(results: &SharedResults, output: RunOutput) {
    let mut published = results.write().unwrap_or_else(|e| e.into_inner());
    published.metrics = Some(output.metrics);
    published.findings = Some(output.findings);
}

/// Random delays that spread the runs of a fleet. The seed is the standard library's random
/// per-process hash key, so nodes started at the same moment still draw different delays.
struct JitterSource {
    state: std::collections::hash_map::RandomState,
    draws: u64,
}

impl JitterSource {
    fn new() -> JitterSource {
        JitterSource {
            state: std::collections::hash_map::RandomState::new(),
            draws: 0,
        }
    }

    /// Returns a delay between zero and `max`.
    fn delay(&mut self, max: Duration) -> Duration {
        self.draws += 1;
        let mut hasher = self.state.build_hasher();
        hasher.write_u64(self.draws);
        let fraction = (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64;
        max.mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_max() {
        let mut source = JitterSource::new();
        let max = Duration::from_secs(30);
        let delays: Vec<Duration> = (0..100).map(|_| source.delay(max)).collect();
        assert!(delays.iter().all(|delay| *delay <= max));
        assert!(
            delays.iter().any(|delay| *delay != delays[0]),
            "no variation"
        );
    }

    #[test]
    fn jitter_of_zero_is_zero() {
        assert_eq!(JitterSource::new().delay(Duration::ZERO), Duration::ZERO);
    }
}
