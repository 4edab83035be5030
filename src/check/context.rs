use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use crate::host::Host;
use crate::kube::NodeIdentity;
use crate::net::{RegistryAddress, ResolveOverride};

/// Settings that change what checks report, from the command line.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// A certificate expiring within this window is reported as expiring soon.
    pub expiry_warning: Duration,
    /// When set, no check may use the network.
    pub offline: bool,
    /// Registries named with `--registry`, checked on top of those found in configuration.
    pub registries: Vec<RegistryAddress>,
    /// `--resolve` entries: connect to another address while verifying the registry's name.
    pub resolve: Vec<ResolveOverride>,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            expiry_warning: Duration::from_secs(30 * 24 * 3600),
            offline: false,
            registries: Vec::new(),
            resolve: Vec::new(),
        }
    }
}

/// A certificate a check read, for `node_doctor_certificate_expiry_timestamp_seconds`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateExpiry {
    pub path: String,
    pub subject: String,
    pub not_after: Timestamp,
}

/// Everything a check may use: the host, the node's identity and the options.
pub struct Context {
    pub host: Arc<dyn Host>,
    pub node: NodeIdentity,
    pub options: CheckOptions,
    /// Recorded certificates by path and subject.
    certificates: Mutex<BTreeMap<(String, String), Timestamp>>,
    /// Values several checks derive from the same files, computed once per run.
    cache: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
}

impl Context {
    pub fn new(host: Arc<dyn Host>, node: NodeIdentity, options: CheckOptions) -> Context {
        Context {
            host,
            node,
            options,
            certificates: Mutex::new(BTreeMap::new()),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Records a certificate's NotAfter for the expiry metric. The same path and subject are
    /// kept once.
    pub fn record_certificate(&self, path: &str, subject: &str, not_after: Timestamp) {
        let mut certificates = self.certificates.lock().unwrap_or_else(|e| e.into_inner());
        certificates
            .entry((path.to_string(), subject.to_string()))
            .or_insert(not_after);
    }

    /// Returns the value stored under `key` for this run, computing it first if no check has.
    /// Without a host memo, two checks asking at once may both compute it; the first stored
    /// value wins. A key names
    /// its type, such as `static-pod:etcd`, so one key always holds one type.
    pub fn cached<T: Send + Sync + 'static>(
        &self,
        key: &str,
        compute: impl FnOnce() -> T,
    ) -> Arc<T> {
        // The host's memo makes a second asker wait for the first instead of computing again.
        if let Some(memo) = self.host.memo() {
            return memo.get_or_compute(key, compute);
        }
        if let Some(value) = self.cache_get::<T>(key) {
            return value;
        }
        let value: Arc<dyn Any + Send + Sync> = Arc::new(compute());
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let stored = cache.entry(key.to_string()).or_insert(value).clone();
        drop(cache);
        stored
            .downcast::<T>()
            .unwrap_or_else(|_| panic!("cache key {key} holds another type"))
    }

    fn cache_get<T: Send + Sync + 'static>(&self, key: &str) -> Option<Arc<T>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(key).cloned()?.downcast::<T>().ok()
    }

    /// Returns the recorded certificates, sorted by path.
    pub fn certificates(&self) -> Vec<CertificateExpiry> {
        let certificates = self.certificates.lock().unwrap_or_else(|e| e.into_inner());
        certificates
            .iter()
            .map(|((path, subject), not_after)| CertificateExpiry {
                path: path.clone(),
                subject: subject.clone(),
                not_after: *not_after,
            })
            .collect()
    }

    pub fn now(&self) -> Timestamp {
        self.host.now()
    }

    pub fn node_name(&self) -> &str {
        &self.node.name
    }
}
