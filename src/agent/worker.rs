//! One run of the agent: the checks, the finding changes, the textfile and the node status.
//! Everything here is synchronous and runs on a blocking thread.

use std::sync::Arc;

use super::config::Settings;
use super::node_status::NodeReporter;
use super::textfile::write_textfile;
use super::transitions::{FindingTracker, log_transitions};
use crate::app;
use crate::check::{CheckStatus, Context};
use crate::host::RootFs;
use crate::host::api::ApiClient;
use crate::kube::KUBELET_KUBECONFIG;
use crate::kube::kubelet_flags::KubeletFlags;
use crate::report::{self, AgentTotals, Report};

/// The texts a run publishes on /metrics and /findings.
pub struct RunOutput {
    pub metrics: String,
    pub findings: String,
}

/// State kept between runs.
pub struct Worker {
    settings: Settings,
    tracker: FindingTracker,
    totals: AgentTotals,
    reporter: Option<NodeReporter>,
}

impl Worker {
    pub fn new(settings: Settings) -> Worker {
        Worker {
            settings,
            tracker: FindingTracker::default(),
            totals: AgentTotals::default(),
            reporter: None,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Applies reloaded settings from the next run on. The API client is built again, so
    /// changed credentials take effect; the finding state and counters are kept.
    pub fn replace_settings(&mut self, settings: Settings) {
        self.settings = settings;
        self.reporter = None;
    }

    /// Runs the checks once. Returns None when the run could not start, such as when --root
    /// is missing; the error is logged and the previous results stay published.
    pub fn run_once(&mut self) -> Option<RunOutput> {
        let (context, report) = match app::produce_report(&self.settings.global) {
            Ok(produced) => produced,
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "run failed; the previous results stay published"
                );
                return None;
            }
        };

        self.totals.runs += 1;
        for result in &report.results {
            let errors = self.totals.check_errors.entry(result.id).or_insert(0);
            if result.status == CheckStatus::Error {
                *errors += 1;
                tracing::warn!(
                    check = result.id,
                    reason = result.reason.as_deref().unwrap_or(""),
                    "check ended with status error"
                );
            }
        }
        let transitions = self.tracker.update(&report);
        log_transitions(&transitions);

        let metrics = report::render_prometheus_with_totals(&report, Some(&self.totals));
        if let Some(dir) = &self.settings.textfile_dir {
            match write_textfile(dir, &metrics) {
                Ok(path) => tracing::debug!(path = %path.display(), "textfile written"),
                Err(error) => tracing::error!(
                    error = format!("{error:#}"),
                    "could not write the textfile; node_exporter keeps serving the previous one"
                ),
            }
        }
        if self.settings.report_to_apiserver {
            self.report_to_apiserver(&context, &report, &transitions);
        }

        Some(RunOutput {
            metrics,
            findings: report::render_json(&report),
        })
    }

    fn report_to_apiserver(
        &mut self,
        context: &Arc<Context>,
        report: &Report,
        transitions: &[super::transitions::Transition],
    ) {
        if self.reporter.is_none() {
            let flags = KubeletFlags::read(context.host.as_ref());
            let kubeconfig = flags.value("kubeconfig").unwrap_or(KUBELET_KUBECONFIG);
            let network = app::network_settings(&self.settings.global);
            let rootfs = RootFs::new(&self.settings.global.root);
            match ApiClient::connect(&network, &rootfs, kubeconfig) {
                Ok(client) => {
                    tracing::info!(
                        node = report.node,
                        credentials = client.origin(),
                        "reporting node conditions to the API server"
                    );
                    self.reporter = Some(NodeReporter::new(client, &report.node));
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot set up the API client for node conditions; retrying on the next run");
                    return;
                }
            }
        }
        if let Some(reporter) = self.reporter.as_mut() {
            reporter.report(report, transitions);
        }
    }
}
