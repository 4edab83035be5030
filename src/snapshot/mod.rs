//! Writing snapshots: `node-doctor collect` records what the checks read on a live host and
//! stores it, secrets removed, in the `node-doctor-snapshot/v1` format that
//! [`crate::host::SnapshotHost`] reads.

mod collect;
pub mod public_key;
pub mod recording;
pub mod redact;

pub use collect::{CollectSummary, collect, is_archive_name};
