//! One unit resolved from the search path: its main file, its drop-ins and the merged
//! assignments.

use super::conf_files::list_conf_files;
use super::search_path::{UNIT_SEARCH_PATH, drop_in_dir_names};
use super::syntax::{Assignment, parse_unit_file};
use crate::host::{FileKind, Host, MAX_CONFIG_BYTES};

/// A unit as systemd would load it from the files on the host.
#[derive(Clone, Debug, Default)]
pub struct Unit {
    pub name: String,
    /// The main unit file (the fragment): the first file of that name on the search path.
    pub fragment: Option<String>,
    /// Whether the fragment is a symlink to /dev/null or an empty file, which masks the unit.
    pub masked: bool,
    /// The drop-ins in the order they apply.
    pub drop_ins: Vec<String>,
    /// Every assignment, fragment first, then each drop-in in order.
    pub assignments: Vec<Assignment>,
    /// Files, folders and lines that were ignored, with the reason.
    pub problems: Vec<String>,
}

impl Unit {
    /// Loads a unit once per run: several checks read kubelet.service and the runtimes' units,
    /// and each load probes every folder of the search path.
    pub fn load(host: &dyn Host, name: &str) -> Unit {
        match host.memo() {
            Some(memo) => {
                let key = format!("systemd-unit:{name}");
                (*memo.get_or_compute(&key, || Unit::load_uncached(host, name))).clone()
            }
            None => Unit::load_uncached(host, name),
        }
    }

    /// Loads `name` (such as `docker.service`) from the host's unit search path.
    ///
    /// A unit without a fragment keeps its drop-ins, because systemd reads them for a unit that
    /// is not found too, and `systemctl show` reports their settings.
    fn load_uncached(host: &dyn Host, name: &str) -> Unit {
        let mut unit = Unit {
            name: name.to_string(),
            ..Unit::default()
        };
        unit.find_fragment(host);
        if unit.masked {
            return unit;
        }
        if let Some(fragment) = unit.fragment.clone() {
            unit.read_file(host, &fragment);
        }

        let mut dirs = Vec::new();
        for dir_name in drop_in_dir_names(name) {
            for base in UNIT_SEARCH_PATH {
                dirs.push(format!("{base}/{dir_name}"));
            }
        }
        let drop_ins = list_conf_files(host, &dirs, ".conf");
        unit.problems.extend(drop_ins.problems);
        for (hidden, by) in &drop_ins.masked {
            tracing::debug!(
                unit = name,
                hidden,
                by,
                "drop-in masked by a same-named file"
            );
        }
        for path in &drop_ins.files {
            unit.read_file(host, path);
        }
        unit.drop_ins = drop_ins.files;
        tracing::debug!(
            unit = name,
            fragment = ?unit.fragment,
            drop_ins = unit.drop_ins.len(),
            "loaded unit"
        );
        unit
    }

    /// Returns whether any file defines or extends the unit.
    pub fn exists(&self) -> bool {
        self.fragment.is_some() || !self.drop_ins.is_empty()
    }

    /// Returns every file read, fragment first, as `systemd-analyze cat-config` lists them.
    pub fn files(&self) -> Vec<String> {
        self.fragment
            .iter()
            .filter(|_| !self.masked)
            .chain(self.drop_ins.iter())
            .cloned()
            .collect()
    }

    /// Returns the assignments of `key` in `section`, in the order they apply.
    pub fn history(&self, section: &str, key: &str) -> Vec<&Assignment> {
        self.assignments
            .iter()
            .filter(|a| a.section == section && a.key == key)
            .collect()
    }

    /// Returns the assignment that sets a single-valued setting: the last one. `None` when the
    /// setting is never assigned or the last assignment is empty, which resets it.
    pub fn setting(&self, section: &str, key: &str) -> Option<&Assignment> {
        self.history(section, key)
            .into_iter()
            .next_back()
            .filter(|a| !a.value.is_empty())
    }

    /// Returns the assignments that make up a list setting such as `Environment=` or
    /// `ExecStart=`: those after the last empty assignment, which clears the list.
    pub fn list(&self, section: &str, key: &str) -> Vec<&Assignment> {
        let history = self.history(section, key);
        let start = history
            .iter()
            .rposition(|a| a.value.is_empty())
            .map_or(0, |reset| reset + 1);
        history[start..].to_vec()
    }

    fn find_fragment(&mut self, host: &dyn Host) {
        let mut names = vec![self.name.clone()];
        if let Some((prefix, rest)) = self.name.split_once('@')
            && let Some((instance, suffix)) = rest.rsplit_once('.')
            && !instance.is_empty()
        {
            names.push(format!("{prefix}@.{suffix}"));
        }
        for name in names {
            for dir in UNIT_SEARCH_PATH {
                let path = format!("{dir}/{name}");
                let Ok(meta) = host.lstat(&path) else {
                    continue;
                };
                if meta.kind == FileKind::Symlink
                    && host
                        .read_link(&path)
                        .is_ok_and(|target| target == "/dev/null")
                {
                    self.fragment = Some(path);
                    self.masked = true;
                    return;
                }
                match host.stat(&path) {
                    Ok(meta) if meta.kind == FileKind::Regular => {
                        self.masked = meta.size == 0;
                        self.fragment = Some(path);
                        return;
                    }
                    Ok(meta) => self.problems.push(format!(
                        "{path}: is {}, not a unit file, ignored",
                        meta.kind.with_article()
                    )),
                    Err(error) => self.problems.push(format!("{path}: {}", error.kind)),
                }
            }
        }
    }

    fn read_file(&mut self, host: &dyn Host, path: &str) {
        match host.read_file(path, MAX_CONFIG_BYTES) {
            Ok(bytes) => {
                let parsed = parse_unit_file(&bytes, path);
                for problem in &parsed.problems {
                    tracing::debug!(unit = self.name, problem, "ignored unit file line");
                }
                self.assignments.extend(parsed.assignments);
                self.problems.extend(parsed.problems);
            }
            Err(error) => {
                tracing::warn!(unit = self.name, %error, "cannot read unit file");
                self.problems.push(error.to_string());
            }
        }
    }
}
