//! `node-doctor diagnose`: known errors in saved output, such as a failed `kubeadm join`, with
//! their fixes. When a signature names checks that can confirm its cause, those checks run too,
//! on this host or on --snapshot.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;

use crate::app::{build_context, build_report, print_report, select_checks};
use crate::check::{self, Check, RunnerOptions};
use crate::checks::{self, LogSignatures};
use crate::cli::GlobalOptions;
use crate::rules::log_source::{LogLines, lines_of_tail};

/// How much of the end of the input is read.
pub const MAX_INPUT_BYTES: u64 = 4 * 1024 * 1024;

pub fn run(options: &GlobalOptions, file: &str, confirm: bool) -> anyhow::Result<u8> {
    let started = Instant::now();
    let input = read_input(file)?;
    tracing::info!(
        source = input.source,
        lines = input.lines.len(),
        "diagnose input read"
    );
    let context = Arc::new(build_context(options)?);

    let matched = checks::scan(std::slice::from_ref(&input), context.node_name());
    let mut selected: Vec<Arc<dyn Check>> = vec![Arc::new(LogSignatures::with_input(vec![input]))];
    if confirm {
        let confirming: Vec<&str> = matched
            .iter()
            .flat_map(|m| m.signature.confirm.iter().copied())
            .collect();
        // --skip may name any check, confirming or not, so it is checked against all of them.
        let all = select_checks(checks::builtin(), &[], &options.skip)?;
        selected.extend(
            all.into_iter()
                .filter(|check| confirming.contains(&check.id())),
        );
    }
    let ids: Vec<&str> = selected.iter().map(|check| check.id()).collect();
    tracing::info!(checks = ?ids, "diagnose checks selected");

    let results = check::run_checks(selected, Arc::clone(&context), &RunnerOptions::default());
    print_report(options, &build_report(&context, results, started))
}

/// Reads the last [`MAX_INPUT_BYTES`] of a file, or of standard input for `-`.
fn read_input(file: &str) -> anyhow::Result<LogLines> {
    if file == "-" {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() {
            anyhow::bail!(
                "diagnose reads saved output: give a file (node-doctor diagnose join.log) or pipe it in (kubeadm join ... 2>&1 | node-doctor diagnose -)"
            );
        }
        let (bytes, cut) =
            read_tail(std::io::stdin().lock()).context("cannot read standard input")?;
        return Ok(LogLines {
            source: "standard input".to_string(),
            lines: lines_of_tail(&bytes, cut),
        });
    }
    let mut handle = std::fs::File::open(file).with_context(|| format!("cannot open {file}"))?;
    let size = handle
        .metadata()
        .with_context(|| format!("cannot read {file}"))?
        .len();
    let start = size.saturating_sub(MAX_INPUT_BYTES);
    handle
        .seek(SeekFrom::Start(start))
        .with_context(|| format!("cannot read {file}"))?;
    let mut bytes = Vec::new();
    handle
        .take(MAX_INPUT_BYTES)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {file}"))?;
    Ok(LogLines {
        source: file.to_string(),
        lines: lines_of_tail(&bytes, start > 0),
    })
}

/// Reads a stream to its end, keeping only the last [`MAX_INPUT_BYTES`]. Returns the bytes and
/// whether earlier ones were dropped.
fn read_tail(mut stream: impl Read) -> std::io::Result<(Vec<u8>, bool)> {
    let limit = MAX_INPUT_BYTES as usize;
    let mut kept = Vec::new();
    let mut cut = false;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        kept.extend_from_slice(&chunk[..read]);
        if kept.len() > 2 * limit {
            kept.drain(..kept.len() - limit);
            cut = true;
        }
    }
    if kept.len() > limit {
        kept.drain(..kept.len() - limit);
        cut = true;
    }
    Ok((kept, cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_tail_keeps_the_end() {
        let data = vec![b'a'; 3 * MAX_INPUT_BYTES as usize + 5];
        let (kept, cut) = read_tail(data.as_slice()).unwrap();
        assert_eq!(kept.len(), MAX_INPUT_BYTES as usize);
        assert!(cut);
    }
}
