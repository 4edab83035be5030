//! Reading checks files from checks.d folders, and the checks that span files: unique check
//! ids and codes, none of them taken by a built-in check.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_saphyr::Location;

use super::check::DeclarativeCheck;
use super::compile::{LoadedCheck, Validator};
use super::error::RuleError;
use super::format::ChecksFile;
use crate::check::Code;

/// Folders read on every run, in this order: checks shipped with the package, then the
/// operator's. `--checks-dir` folders come after them.
pub const DEFAULT_CHECKS_DIRS: [&str; 2] = [
    "/usr/share/node-doctor/checks.d",
    "/etc/node-doctor/checks.d",
];

/// The largest checks file read.
const MAX_CHECKS_FILE: u64 = 1024 * 1024;

/// The checks of every file, or every error found in them.
pub struct Loaded {
    pub checks: Vec<DeclarativeCheck>,
    pub files: usize,
}

/// Lists the `.yaml` and `.yml` files of each folder, sorted by name. A folder that does not
/// exist is skipped. A file in a later folder replaces the file of the same name from an earlier
/// one, so /etc/node-doctor/checks.d/NAME.yaml overrides the shipped NAME.yaml and --checks-dir
/// overrides both, the way /etc overrides /usr/lib for systemd drop-ins.
pub fn checks_files(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, RuleError> {
    let mut files = Vec::new();
    for dir in dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                tracing::debug!(dir = %dir.display(), "checks folder does not exist");
                continue;
            }
            Err(error) => return Err(whole_file(dir, format!("cannot list the folder: {error}"))),
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                )
            })
            .collect();
        names.sort();
        for path in names {
            if let Some(masked) = files
                .iter()
                .position(|f: &PathBuf| f.file_name() == path.file_name())
            {
                tracing::debug!(masked = %files[masked].display(), by = %path.display(), "checks file replaced");
                files.remove(masked);
            }
            files.push(path);
        }
    }
    Ok(files)
}

/// Loads and validates every checks file. `reserved` are the built-in check ids.
pub fn load(files: &[PathBuf], reserved: &[&str]) -> Result<Loaded, Vec<RuleError>> {
    let mut errors = Vec::new();
    let mut loaded: Vec<(String, LoadedCheck)> = Vec::new();
    for file in files {
        let shown = file.display().to_string();
        match load_file(file) {
            Ok(checks) => loaded.extend(checks.into_iter().map(|check| (shown.clone(), check))),
            Err(file_errors) => errors.extend(file_errors),
        }
    }

    let mut ids: HashMap<&str, String> = HashMap::new();
    let mut codes: HashMap<&str, String> = HashMap::new();
    for (file, check) in &loaded {
        let id = check.check.id;
        let here = |at: Location| format!("{file}:{}:{}", at.line(), at.column());
        if reserved.contains(&id) {
            errors.push(located(
                file,
                check.id_location,
                format!("check id {id:?} is a built-in check's"),
            ));
        } else if let Some(first) = ids.get(id) {
            errors.push(located(
                file,
                check.id_location,
                format!("check id {id:?} is also defined at {first}"),
            ));
        } else {
            ids.insert(id, here(check.id_location));
        }
        for (code, at) in check.check.codes.iter().zip(&check.code_locations) {
            let text = code.as_str();
            if Code::find(text).is_some() {
                errors.push(located(
                    file,
                    *at,
                    format!("code {text:?} is in the built-in catalog"),
                ));
            } else if let Some(first) = codes.get(text) {
                errors.push(located(
                    file,
                    *at,
                    format!("code {text:?} is also declared at {first}"),
                ));
            } else {
                codes.insert(text, here(*at));
            }
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Loaded {
        files: files.len(),
        checks: loaded.into_iter().map(|(_, check)| check.check).collect(),
    })
}

fn load_file(path: &Path) -> Result<Vec<LoadedCheck>, Vec<RuleError>> {
    let shown = path.display().to_string();
    let text = read_bounded(path).map_err(|why| vec![whole_file(path, why)])?;
    let parsed: ChecksFile = match serde_saphyr::from_str(&text) {
        Ok(parsed) => parsed,
        Err(error) => {
            // The message is the first line only: serde-saphyr appends an excerpt of the
            // input, and the position is given separately.
            let (line, column) = error
                .location()
                .map_or((1, 1), |at| (at.line(), at.column()));
            let message = crate::kube::yaml_error_message(&error);
            let prefix = format!("line {line} column {column}: ");
            let message = message
                .strip_prefix(&prefix)
                .unwrap_or(&message)
                .to_string();
            return Err(vec![RuleError {
                file: shown,
                line,
                column,
                message,
            }]);
        }
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut validator = Validator::new(&shown);
    let checks = validator.checks(parsed, folder);
    if validator.errors.is_empty() {
        Ok(checks)
    } else {
        Err(validator.errors)
    }
}

fn read_bounded(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|error| format!("cannot open: {error}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_CHECKS_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read: {error}"))?;
    if bytes.len() as u64 > MAX_CHECKS_FILE {
        return Err(format!("larger than {MAX_CHECKS_FILE} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

fn located(file: &str, at: Location, message: String) -> RuleError {
    RuleError {
        file: file.to_string(),
        line: at.line(),
        column: at.column(),
        message,
    }
}

fn whole_file(path: &Path, message: String) -> RuleError {
    RuleError {
        file: path.display().to_string(),
        line: 1,
        column: 1,
        message,
    }
}
