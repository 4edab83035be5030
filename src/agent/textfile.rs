//! The node_exporter textfile: `DIR/node_doctor.prom`, replaced atomically.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub const TEXTFILE_NAME: &str = "node_doctor.prom";

/// Writes `metrics` to a temporary file in `dir` and renames it over `dir/node_doctor.prom`,
/// so node_exporter never reads a half-written file. The temporary name starts with a dot and
/// does not end in `.prom`, so node_exporter ignores it, and it is removed when a step fails.
pub fn write_textfile(dir: &Path, metrics: &str) -> anyhow::Result<PathBuf> {
    let target = dir.join(TEXTFILE_NAME);
    let mut temporary = tempfile::Builder::new()
        .prefix(".node_doctor.prom.")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    temporary
        .write_all(metrics.as_bytes())
        .and_then(|()| temporary.as_file().sync_data())
        .with_context(|| format!("cannot write {}", temporary.path().display()))?;
    // node_exporter often runs as another user, so the file must be readable by all.
    std::fs::set_permissions(temporary.path(), std::fs::Permissions::from_mode(0o644))
        .with_context(|| format!("cannot set the mode of {}", temporary.path().display()))?;
    temporary
        .persist(&target)
        .with_context(|| format!("cannot rename the temporary file to {}", target.display()))?;
    Ok(target)
}
