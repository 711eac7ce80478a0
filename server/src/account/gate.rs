//! The gate in front of password work: how many hashes run at once, and
//! the back-off of log-ins per account and per client address (and of
//! sign-ups per address) after repeated failures.

use super::*;

/// How much password work the server does, and how often it may be asked.
#[derive(Debug, Clone, Copy)]
pub struct GatePolicy {
    /// Failed log-ins an account may have before each further attempt
    /// waits.
    pub account_free_failures: u32,
    /// Failed log-ins from one client address before each further attempt
    /// waits. More than an account's: a household, an office or a
    /// carrier's NAT shares one address.
    pub address_free_failures: u32,
    /// Sign-ups from one client address before each further one waits.
    pub address_free_sign_ups: u32,
    /// The first wait; each further failure doubles it.
    pub first_wait: Duration,
    /// The longest wait.
    pub max_wait: Duration,
    /// Quiet time after which an account's or an address's record is
    /// forgotten.
    pub forget_after: Duration,
    /// Records kept of each kind (accounts, log-in addresses, sign-up
    /// addresses); past it, expired and then the oldest records go.
    pub max_records: usize,
    /// Passwords hashed or verified at once.
    pub hashers: usize,
    /// How long a request waits for a hasher before it is answered busy.
    pub hasher_wait: Duration,
}

impl Default for GatePolicy {
    fn default() -> Self {
        Self {
            account_free_failures: 5,
            address_free_failures: 20,
            address_free_sign_ups: 5,
            first_wait: Duration::from_secs(1),
            max_wait: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(60 * 60),
            // About 100 bytes each, with the map's overhead: a few MiB at
            // most per kind, whatever a distributed guesser sends.
            max_records: 100_000,
            // Argon2 is CPU-bound: more at once than there are cores only
            // makes each slower, and starves the live sessions.
            hashers: std::thread::available_parallelism().map_or(2, usize::from),
            hasher_wait: Duration::from_secs(2),
        }
    }
}

/// The gate in front of password work: log-in and sign-up throttling, and
/// the bound on Argon2 running at once. Cheap to clone (shared handles).
///
/// The throttle is in memory, per node: with several nodes behind a load
/// balancer a guesser gets each node's allowance (a few more guesses, and
/// the same doubling waits), which keeps the log-in path free of Redis
/// round trips and of a shared store to fill. Restarting a node forgets its
/// records. Behind a reverse proxy the client address is the proxy's, so
/// the per-address limits then count everyone together; set them to 0
/// (`SIGN_UPS_PER_ADDRESS`, `LOGIN_FAILURES_PER_ADDRESS`) and let the
/// proxy limit per client. The per-account limit holds either way.
#[derive(Clone)]
pub struct Gate {
    policy: GatePolicy,
    records: Arc<Mutex<Records>>,
    hashers: Arc<Semaphore>,
    hashing: Arc<Hashing>,
}

impl Default for Gate {
    fn default() -> Self {
        Self::new(GatePolicy::default())
    }
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate with this policy and no records.
    pub fn new(policy: GatePolicy) -> Self {
        let hashers = policy.hashers.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            policy,
            records: Arc::default(),
            hashers: Arc::new(Semaphore::new(hashers)),
            hashing: Arc::default(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &GatePolicy {
        &self.policy
    }

    /// The most password hashes that ran at once so far.
    pub fn hashing_peak(&self) -> usize {
        self.hashing.peak.load(Ordering::Relaxed)
    }

    /// Password hashes running now.
    pub fn hashing_now(&self) -> usize {
        self.hashing.running.load(Ordering::Relaxed)
    }

    /// Hashers free now.
    pub fn hashers_free(&self) -> usize {
        self.hashers.available_permits()
    }

    /// Password hashes run so far (hashing and verifying).
    pub fn hashes_run(&self) -> u64 {
        self.hashing.total.load(Ordering::Relaxed)
    }

    /// Admits a log-in for `login` from `client`, counting it as failed
    /// until [`Attempt::succeeded`] says otherwise, or refuses it while the
    /// account or the address is backing off (without counting it: waiting
    /// out the delay is enough).
    pub fn log_in_attempt(&self, login: &str, client: Option<IpAddr>) -> Result<Attempt> {
        let account = account_key(login);
        let address = client.map(client_address);
        let policy = &self.policy;
        let now = Instant::now();
        let mut records = self.lock();
        let wait = [
            records
                .accounts
                .wait(&account, policy.account_free_failures, policy, now),
            address.and_then(|address| {
                records
                    .addresses
                    .wait(&address, policy.address_free_failures, policy, now)
            }),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(retry_after) = wait {
            tracing::info!(?address, ?retry_after, "log-in refused: backing off");
            return Err(Error::TooManyAttempts { retry_after });
        }
        records.accounts.count(account, policy, now);
        if let Some(address) = address {
            records.addresses.count(address, policy, now);
        }
        Ok(Attempt {
            gate: self.clone(),
            account,
            address,
        })
    }

    /// Admits a sign-up from `client` and counts it, or refuses it while
    /// the address is backing off.
    pub fn sign_up_attempt(&self, client: Option<IpAddr>) -> Result<()> {
        let Some(address) = client.map(client_address) else {
            return Ok(());
        };
        let policy = &self.policy;
        let now = Instant::now();
        let mut records = self.lock();
        if let Some(retry_after) =
            records
                .sign_ups
                .wait(&address, policy.address_free_sign_ups, policy, now)
        {
            tracing::info!(%address, ?retry_after, "sign-up refused: backing off");
            return Err(Error::TooManyAttempts { retry_after });
        }
        records.sign_ups.count(address, policy, now);
        Ok(())
    }

    /// Runs password work on the blocking pool once a hasher is free, or
    /// answers [`Error::Busy`] when none frees up within the policy's wait.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let permit = match tokio::time::timeout(
            self.policy.hasher_wait,
            self.hashers.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(closed)) => return Err(Error::failed("waiting for a password hasher")(closed)),
            Err(_) => return Err(Error::Busy),
        };
        let hashing = self.hashing.clone();
        tokio::task::spawn_blocking(move || {
            // The permit is held by the work, not by the request: a request
            // cancelled mid-hash (the client went away) cannot free a
            // hasher whose hash is still running.
            let _permit = permit;
            let _running = hashing.start();
            work()
        })
        .await
        .map_err(Error::failed("running password work"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Records> {
        // Held for a map lookup, never across an await.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A log-in that was admitted and counted as failed: dropping it leaves
/// it so (a wrong password, or a request abandoned mid-check).
#[must_use = "an attempt counts as failed unless it is settled"]
pub struct Attempt {
    gate: Gate,
    account: [u8; 32],
    address: Option<IpAddr>,
}

impl Attempt {
    /// The password was right: the account starts afresh, and the address
    /// gets this attempt back (but not its earlier failures, so one valid
    /// account does not launder guesses at others).
    pub fn succeeded(self) {
        let mut records = self.gate.lock();
        records.accounts.forget(&self.account);
        if let Some(address) = &self.address {
            records.addresses.refund(address);
        }
    }

    /// The password was never judged (busy, database down): nothing counts.
    pub fn not_judged(self) {
        let mut records = self.gate.lock();
        records.accounts.refund(&self.account);
        if let Some(address) = &self.address {
            records.addresses.refund(address);
        }
    }
}

/// What the gate remembers.
#[derive(Default)]
struct Records {
    /// Failed log-ins per account (by a hash of the lowercased name, so a
    /// key is 32 bytes whatever was typed).
    accounts: Book<[u8; 32]>,
    /// Failed log-ins per client address.
    addresses: Book<IpAddr>,
    /// Sign-ups per client address.
    sign_ups: Book<IpAddr>,
}

fn account_key(login: &str) -> [u8; 32] {
    Sha256::digest(login.trim().to_lowercase().as_bytes()).into()
}

/// Counts per key, with when the last one was counted.
struct Book<K> {
    entries: HashMap<K, Record>,
}

impl<K> Default for Book<K> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

#[derive(Clone, Copy)]
struct Record {
    count: u32,
    last: Instant,
}

impl<K: Eq + Hash + Copy> Book<K> {
    /// How long `key` must still wait, if it must.
    fn wait(&self, key: &K, free: u32, policy: &GatePolicy, now: Instant) -> Option<Duration> {
        let record = self.entries.get(key)?;
        if now.duration_since(record.last) > policy.forget_after || record.count < free {
            return None;
        }
        let until = record.last + backoff(record.count - free, policy);
        (until > now).then(|| until - now)
    }

    /// Counts one more for `key`.
    fn count(&mut self, key: K, policy: &GatePolicy, now: Instant) {
        if !self.entries.contains_key(&key) && self.entries.len() >= policy.max_records {
            self.make_room(policy, now);
        }
        let record = self.entries.entry(key).or_insert(Record {
            count: 0,
            last: now,
        });
        if now.duration_since(record.last) > policy.forget_after {
            record.count = 0;
        }
        record.count = record.count.saturating_add(1);
        record.last = now;
    }

    /// Takes one back from `key`.
    fn refund(&mut self, key: &K) {
        if let Some(record) = self.entries.get_mut(key) {
            record.count = record.count.saturating_sub(1);
            if record.count == 0 {
                self.entries.remove(key);
            }
        }
    }

    fn forget(&mut self, key: &K) {
        self.entries.remove(key);
    }

    /// Drops the expired records, then, if that is not enough, the oldest
    /// tenth: O(n) once per n/10 new keys at most.
    fn make_room(&mut self, policy: &GatePolicy, now: Instant) {
        self.entries
            .retain(|_, record| now.duration_since(record.last) <= policy.forget_after);
        if self.entries.len() < policy.max_records {
            return;
        }
        let mut lasts: Vec<Instant> = self.entries.values().map(|record| record.last).collect();
        let cut = (lasts.len() / 10).max(1) - 1;
        let (_, oldest_kept, _) = lasts.select_nth_unstable(cut);
        let threshold = *oldest_kept;
        self.entries.retain(|_, record| record.last > threshold);
        tracing::warn!(
            kept = self.entries.len(),
            "log-in throttle full: forgot the oldest records"
        );
    }
}

/// The wait after `beyond` failures past the free ones: the first wait,
/// doubled each time, up to the longest.
fn backoff(beyond: u32, policy: &GatePolicy) -> Duration {
    let factor = 1u32.checked_shl(beyond).unwrap_or(u32::MAX);
    policy
        .first_wait
        .saturating_mul(factor)
        .min(policy.max_wait)
}

/// Hashes running, for the bound's own accounting.
#[derive(Default)]
struct Hashing {
    running: AtomicUsize,
    peak: AtomicUsize,
    total: AtomicU64,
}

impl Hashing {
    fn start(&self) -> Running<'_> {
        let now = self.running.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
        Running(self)
    }
}

struct Running<'a>(&'a Hashing);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> GatePolicy {
        GatePolicy {
            account_free_failures: 2,
            address_free_failures: 3,
            address_free_sign_ups: 1,
            ..GatePolicy::default()
        }
    }

    #[test]
    fn waits_double_from_the_first_up_to_the_longest() {
        let policy = GatePolicy::default();
        let waits: Vec<u64> = [0, 1, 2, 9, 10, 40]
            .into_iter()
            .map(|n| backoff(n, &policy).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 512, 900, 900]);
    }

    #[test]
    fn an_account_backs_off_after_its_free_failures_and_a_success_resets_it() {
        let gate = Gate::new(policy());
        drop(gate.log_in_attempt("Anna", None).unwrap());
        drop(gate.log_in_attempt("anna ", None).unwrap());
        let Err(Error::TooManyAttempts { retry_after }) = gate.log_in_attempt("ANNA", None) else {
            panic!("a third attempt must wait");
        };
        assert!(retry_after <= Duration::from_secs(1), "{retry_after:?}");
        // Another account is not affected.
        gate.log_in_attempt("bob", None).unwrap().succeeded();
        // A success starts the account afresh.
        let mut records = gate.lock();
        records
            .accounts
            .entries
            .get_mut(&account_key("anna"))
            .unwrap()
            .last -= Duration::from_secs(2);
        drop(records);
        gate.log_in_attempt("anna", None).unwrap().succeeded();
        assert!(gate.lock().accounts.entries.is_empty());
    }

    #[test]
    fn an_address_backs_off_across_accounts() {
        let gate = Gate::new(policy());
        let here = Some("192.0.2.1".parse().unwrap());
        let there = Some("192.0.2.2".parse().unwrap());
        for login in ["a", "b", "c"] {
            drop(gate.log_in_attempt(login, here).unwrap());
        }
        assert!(matches!(
            gate.log_in_attempt("d", here),
            Err(Error::TooManyAttempts { .. })
        ));
        gate.log_in_attempt("d", there).unwrap().not_judged();
    }

    #[test]
    fn attempts_never_judged_do_not_count() {
        let gate = Gate::new(policy());
        for _ in 0..10 {
            gate.log_in_attempt("anna", None).unwrap().not_judged();
        }
        gate.log_in_attempt("anna", None).unwrap().succeeded();
        assert!(gate.lock().accounts.entries.is_empty());
    }

    #[test]
    fn sign_ups_back_off_per_address() {
        let gate = Gate::new(policy());
        let here = Some("2001:db8::1".parse().unwrap());
        let same_64 = Some("2001:db8::2".parse().unwrap());
        gate.sign_up_attempt(here).unwrap();
        assert!(matches!(
            gate.sign_up_attempt(same_64),
            Err(Error::TooManyAttempts { .. })
        ));
        gate.sign_up_attempt(Some("2001:db8:0:1::1".parse().unwrap()))
            .unwrap();
        // Without an address (an in-process call) nothing is counted.
        gate.sign_up_attempt(None).unwrap();
    }

    #[test]
    fn records_are_bounded() {
        let gate = Gate::new(GatePolicy {
            max_records: 100,
            ..policy()
        });
        for n in 0..1000 {
            drop(gate.log_in_attempt(&format!("user{n}"), None).unwrap());
        }
        let records = gate.lock();
        assert!(records.accounts.entries.len() <= 100);
        // The newest are the ones kept.
        assert!(
            records
                .accounts
                .entries
                .contains_key(&account_key("user999"))
        );
    }
}
