//! The check runner: a check that panics or overruns its deadline is reported as `error` with a
//! reason, and the other checks in the same run still report.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use node_doctor::check::{
    Check, CheckOptions, CheckStatus, Code, Context, Finding, Outcome, RunnerOptions, run_checks,
};
use node_doctor::host::SnapshotHost;
use node_doctor::kube::NodeIdentity;

struct Healthy;

impl Check for Healthy {
    fn id(&self) -> &'static str {
        "test-healthy"
    }
    fn title(&self) -> &'static str {
        "always passes"
    }
    fn run(&self, context: &Context) -> Outcome {
        // Reads through the host, as a real check does.
        match context.host.read_text("/etc/hostname", 4096) {
            Ok(_) => Outcome::Ran(Vec::new()),
            Err(error) => Outcome::Error(error.to_string()),
        }
    }
}

struct Panics;

impl Check for Panics {
    fn id(&self) -> &'static str {
        "test-panics"
    }
    fn title(&self) -> &'static str {
        "panics"
    }
    fn run(&self, _context: &Context) -> Outcome {
        panic!("deliberate test panic");
    }
}

struct Sleeps;

impl Check for Sleeps {
    fn id(&self) -> &'static str {
        "test-sleeps"
    }
    fn title(&self) -> &'static str {
        "sleeps past the deadline"
    }
    fn run(&self, _context: &Context) -> Outcome {
        std::thread::sleep(Duration::from_secs(60));
        Outcome::Ran(Vec::new())
    }
}

struct Finds;

impl Check for Finds {
    fn id(&self) -> &'static str {
        "kubelet-client-cert"
    }
    fn title(&self) -> &'static str {
        "reports one finding"
    }
    fn run(&self, _context: &Context) -> Outcome {
        Outcome::Ran(vec![Finding::new(
            Code::KubeletClientCertExpired,
            "test finding",
        )])
    }
}

struct Skips;

impl Check for Skips {
    fn id(&self) -> &'static str {
        "test-skips"
    }
    fn title(&self) -> &'static str {
        "does not apply"
    }
    fn run(&self, _context: &Context) -> Outcome {
        Outcome::Skipped("not a control-plane node".to_string())
    }
}

fn context() -> Arc<Context> {
    let host = SnapshotHost::open(&support::kubeadm_real(), None).unwrap();
    let node = NodeIdentity {
        name: "node-1".to_string(),
        source: "test".to_string(),
    };
    Arc::new(Context::new(Arc::new(host), node, CheckOptions::default()))
}

#[test]
fn panic_and_timeout_are_errors() {
    let checks: Vec<Arc<dyn Check>> = vec![
        Arc::new(Panics),
        Arc::new(Sleeps),
        Arc::new(Healthy),
        Arc::new(Finds),
        Arc::new(Skips),
    ];
    // The deadline leaves the quick checks time to finish on a loaded CI machine; the sleeping
    // check outlasts it by far.
    let options = RunnerOptions {
        deadline: Duration::from_secs(2),
    };

    let started = Instant::now();
    let results = run_checks(checks, context(), &options);
    let elapsed = started.elapsed();

    assert!(
        elapsed < Duration::from_secs(10),
        "the runner waited {elapsed:?} for a check past its 2 s deadline"
    );
    let ids: Vec<&str> = results.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        [
            "test-panics",
            "test-sleeps",
            "test-healthy",
            "kubelet-client-cert",
            "test-skips"
        ],
        "results keep the order the checks were given"
    );

    let panicked = &results[0];
    assert_eq!(panicked.status, CheckStatus::Error);
    let reason = panicked.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("panicked"), "reason: {reason}");
    assert!(reason.contains("deliberate test panic"), "reason: {reason}");

    let slow = &results[1];
    assert_eq!(slow.status, CheckStatus::Error);
    let reason = slow.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("timed out"), "reason: {reason}");
    assert!(
        reason.contains("2.0s"),
        "reason names the deadline: {reason}"
    );

    let healthy = &results[2];
    assert_eq!(healthy.status, CheckStatus::Passed, "{healthy:?}");
    assert_eq!(healthy.reason, None);

    let finds = &results[3];
    assert_eq!(finds.status, CheckStatus::Failed);
    assert_eq!(finds.findings.len(), 1);

    let skips = &results[4];
    assert_eq!(skips.status, CheckStatus::Skipped);
    assert_eq!(skips.reason.as_deref(), Some("not a control-plane node"));
}

#[test]
fn fast_run_ignores_deadline() {
    let checks: Vec<Arc<dyn Check>> = vec![Arc::new(Healthy), Arc::new(Finds)];
    let options = RunnerOptions {
        deadline: Duration::from_secs(30),
    };

    let started = Instant::now();
    let results = run_checks(checks, context(), &options);

    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(results[0].status, CheckStatus::Passed);
    assert_eq!(results[1].status, CheckStatus::Failed);
}

#[test]
fn empty_run_returns_nothing() {
    let results = run_checks(Vec::new(), context(), &RunnerOptions::default());

    assert!(results.is_empty());
}

#[test]
fn finished_checks_release_context() {
    // The context owns the snapshot host, and an unpacked .tar.gz is removed only when the last
    // reference is dropped. A check thread still holding one at exit leaves it in the temp dir.
    for attempt in 0..20 {
        let context = context();
        let checks: Vec<Arc<dyn Check>> = vec![Arc::new(Healthy), Arc::new(Finds)];
        let results = run_checks(checks, Arc::clone(&context), &RunnerOptions::default());

        assert_eq!(results.len(), 2);
        assert_eq!(
            Arc::strong_count(&context),
            1,
            "attempt {attempt}: a check thread still holds the context after run_checks"
        );
    }
}
