//! Runs checks side by side, each on its own thread with a deadline.
//!
//! A check that panics or runs past its deadline is reported with status `error`; the others
//! still run and report. A timed-out thread cannot be killed, so it is left to finish in the
//! background and its result is dropped. The process exits when the report is printed.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Check, Code, Context, Finding, Outcome};

#[derive(Clone, Debug)]
pub struct RunnerOptions {
    /// The longest one check may run.
    pub deadline: Duration,
}

impl Default for RunnerOptions {
    fn default() -> RunnerOptions {
        RunnerOptions {
            deadline: Duration::from_secs(20),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Passed,
    Failed,
    Skipped,
    Error,
}

impl CheckStatus {
    pub const ALL: [CheckStatus; 4] = [
        CheckStatus::Passed,
        CheckStatus::Failed,
        CheckStatus::Skipped,
        CheckStatus::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "failed",
            CheckStatus::Skipped => "skipped",
            CheckStatus::Error => "error",
        }
    }
}

/// What running one check produced.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub id: &'static str,
    pub status: CheckStatus,
    pub duration: Duration,
    pub reason: Option<String>,
    pub findings: Vec<Finding>,
    /// Every code the check can report, as [`Check::codes`] lists them.
    pub codes: Vec<Code>,
}

impl CheckResult {
    fn from_outcome(check: &dyn Check, outcome: Outcome, duration: Duration) -> CheckResult {
        let id = check.id();
        let (status, reason, mut findings) = match outcome {
            Outcome::Ran(findings) if findings.is_empty() => (CheckStatus::Passed, None, findings),
            Outcome::Ran(findings) => (CheckStatus::Failed, None, findings),
            Outcome::Skipped(reason) => (CheckStatus::Skipped, Some(reason), Vec::new()),
            Outcome::Error(reason) => (CheckStatus::Error, Some(reason), Vec::new()),
            Outcome::Incomplete(findings, reason) => (CheckStatus::Error, Some(reason), findings),
        };
        // A finding belongs to the check that reported it, even when its code is another
        // check's: log-signatures reports kubelet-client-cert/expired from a log line.
        for finding in &mut findings {
            finding.check = id;
        }
        CheckResult {
            id,
            status,
            duration,
            reason,
            findings,
            codes: check.codes(),
        }
    }
}

/// Runs every check and returns their results in the order the checks were given.
pub fn run_checks(
    checks: Vec<Arc<dyn Check>>,
    context: Arc<Context>,
    options: &RunnerOptions,
) -> Vec<CheckResult> {
    let started = Instant::now();
    let (sender, receiver) = mpsc::channel();
    let mut threads: Vec<Option<JoinHandle<()>>> = Vec::with_capacity(checks.len());

    for (index, check) in checks.iter().enumerate() {
        let id = check.id();
        let thread_check = Arc::clone(check);
        let thread_context = Arc::clone(&context);
        let thread_sender = sender.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("check-{id}"))
            .spawn(move || {
                let result = run_one(thread_check.as_ref(), &thread_context);
                // The receiver is gone only when the runner gave up on this check.
                let _ = thread_sender.send((index, result));
            });
        let spawned = match spawned {
            Ok(handle) => Some(handle),
            Err(error) => {
                tracing::error!(check = id, %error, "cannot start a thread for the check");
                let outcome =
                    Outcome::Error(format!("cannot start a thread for the check: {error}"));
                let _ = sender.send((
                    index,
                    CheckResult::from_outcome(check.as_ref(), outcome, Duration::ZERO),
                ));
                None
            }
        };
        threads.push(spawned);
    }
    drop(sender);

    let mut results: Vec<Option<CheckResult>> = vec![None; checks.len()];
    let deadline = started + options.deadline;
    while results.iter().any(Option::is_none) {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(remaining) {
            Ok((index, result)) => results[index] = Some(result),
            Err(_) => break,
        }
    }

    // A thread that sent its result has only its drops left to run, so these joins are short.
    for (thread, result) in threads.into_iter().zip(&results) {
        if let (Some(thread), Some(_)) = (thread, result) {
            let _ = thread.join();
        }
    }

    checks
        .iter()
        .zip(results)
        .map(|(check, result)| {
            result.unwrap_or_else(|| timed_out(check.as_ref(), options.deadline))
        })
        .collect()
}

fn run_one(check: &dyn Check, context: &Context) -> CheckResult {
    let started = Instant::now();
    tracing::debug!(check = check.id(), "check started");

    let outcome = match panic::catch_unwind(AssertUnwindSafe(|| check.run(context))) {
        Ok(outcome) => outcome,
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            tracing::error!(check = check.id(), message, "check panicked");
            Outcome::Error(format!("internal error: the check panicked: {message}"))
        }
    };

    let duration = started.elapsed();
    tracing::debug!(check = check.id(), ?duration, "check finished");
    CheckResult::from_outcome(check, outcome, duration)
}

fn timed_out(check: &dyn Check, deadline: Duration) -> CheckResult {
    tracing::error!(check = check.id(), ?deadline, "check timed out");
    let reason = format!("timed out after {:.1}s", deadline.as_secs_f64());
    CheckResult::from_outcome(check, Outcome::Error(reason), deadline)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message.to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "unknown panic payload".to_string()
    }
}
