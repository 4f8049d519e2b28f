//! The model backend: ordered maps in memory, as plain as a backend can be.
//! It is the reference the backend-conformance suite holds redb (and later
//! PostgreSQL) to, and it can run every write closure twice, discarding the
//! first run, as a backend that retries serialization failures does, or
//! stop the first run at one of its reads or writes, as a serialization
//! failure may stop it anywhere.

use super::backend::{Backend, Reader, RowVisitor, Writer};
use crate::error::{Error, ErrorCode, Result};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, RwLock};

type Rows = BTreeMap<Vec<u8>, Vec<u8>>;
type Tables = BTreeMap<String, Arc<Rows>>;

/// A stop armed for the next write ([`ModelBackend::stop_next_write`]).
struct Stop {
    at: u64,
    between: Box<dyn FnOnce() + Send>,
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stop")
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// A backend of ordered maps in memory: snapshots are shared copies (a
/// table is copied only when a write first changes it), one writer at a
/// time.
#[derive(Debug, Default)]
pub struct ModelBackend {
    /// A stop armed for the next write, and what runs before it runs again.
    next_stop: Mutex<Option<Stop>>,
    committed: RwLock<Arc<Tables>>,
    writer: Mutex<()>,
    retries: bool,
    /// Whether a retried write's first run fails at one of its operations.
    interrupts: bool,
    /// Writes begun (where the next first run is stopped).
    writes: std::sync::atomic::AtomicU64,
    /// Odd while a write is under way ([`Backend::generation`]).
    generation: std::sync::atomic::AtomicU64,
}

impl ModelBackend {
    /// An empty model store.
    pub fn new() -> ModelBackend {
        ModelBackend::default()
    }

    /// An empty model store that runs every write closure twice: the first
    /// run's effects are thrown away (as after a serialization failure), the
    /// second run's committed.
    pub fn retrying() -> ModelBackend {
        ModelBackend {
            retries: true,
            ..ModelBackend::default()
        }
    }

    /// An empty model store that runs every write closure twice, the
    /// first run stopped by an error at one of its reads or writes (the
    /// first for one write, the second for the next, ... up to the
    /// [`INTERRUPT_CYCLE`]th, then the first again): what a server's
    /// serialization failure does mid-write. The second run is committed.
    /// State a closure keeps across runs shows as a wrong answer.
    pub fn interrupting() -> ModelBackend {
        ModelBackend {
            retries: true,
            interrupts: true,
            ..ModelBackend::default()
        }
    }

    /// Arms the next write: its first run is stopped at its `at`-th
    /// operation (from 0), as a serialization failure would stop it, then
    /// `between` runs (another handle's write, say: what a concurrent
    /// process commits meanwhile), then the write runs again on what is
    /// committed then. What a write keeps from a stopped run, judged on an
    /// older snapshot, shows.
    pub fn stop_next_write(&self, at: u64, between: impl FnOnce() + Send + 'static) {
        *self.next_stop.lock().unwrap_or_else(|e| e.into_inner()) = Some(Stop {
            at,
            between: Box::new(between),
        });
    }

    /// The write lock, held while a run goes on, and the odd generation
    /// of a write under way ([`Backend::generation`]).
    fn begin_writing(&self) -> (std::sync::MutexGuard<'_, ()>, super::backend::Writing<'_>) {
        let one_writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        (one_writer, super::backend::Writing::begin(&self.generation))
    }

    /// A first run of `f`, thrown away, stopped at its `budget`-th
    /// operation when there is one: `Ok` to run it again (it was stopped,
    /// or would commit and a server may refuse the commit itself), the
    /// error when it failed of itself, which answers as on a server.
    fn first_run(
        &self,
        f: &mut dyn FnMut(&dyn Writer) -> Result<()>,
        budget: Option<u64>,
    ) -> Result<()> {
        let txn = Txn::new((*self.snapshot()).clone(), budget);
        match f(&txn) {
            Err(e)
                if !(budget.is_some() && txn.1.get() == Some(0) && e.code() == ErrorCode::Busy) =>
            {
                Err(e)
            }
            _ => Ok(()),
        }
    }

    /// A run of `f` that commits.
    fn last_run(&self, f: &mut dyn FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
        let txn = Txn::new((*self.snapshot()).clone(), None);
        f(&txn)?;
        *self.committed.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(txn.0.into_inner());
        Ok(())
    }

    fn snapshot(&self) -> Arc<Tables> {
        self.committed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Operations after which [`ModelBackend::interrupting`] stops a first
/// run, cycled through from one write to the next.
pub const INTERRUPT_CYCLE: u64 = 12;

struct Snap(Arc<Tables>);
/// A write's tables, and the operations it may still make before an
/// injected failure (`None`: no limit).
struct Txn(RefCell<Tables>, std::cell::Cell<Option<u64>>);

impl Txn {
    fn new(tables: Tables, budget: Option<u64>) -> Txn {
        Txn(RefCell::new(tables), std::cell::Cell::new(budget))
    }

    /// Counts one operation: the injected failure once the budget is spent.
    fn tick(&self) -> Result<()> {
        match self.1.get() {
            None => Ok(()),
            Some(0) => Err(Error::new(
                ErrorCode::Busy,
                "a serialization failure (injected by the model)",
            )),
            Some(n) => {
                self.1.set(Some(n - 1));
                Ok(())
            }
        }
    }
}

fn scan_rows(
    rows: Option<&Rows>,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    reverse: bool,
    visit: &mut RowVisitor<'_>,
) -> Result<()> {
    let Some(rows) = rows else { return Ok(()) };
    let inverted = match (lower, upper) {
        (Bound::Included(lo), Bound::Included(hi)) => lo > hi,
        (Bound::Included(lo) | Bound::Excluded(lo), Bound::Included(hi) | Bound::Excluded(hi)) => {
            lo >= hi
        }
        _ => false,
    };
    if inverted {
        return Ok(());
    }
    let range = rows.range::<[u8], _>((lower, upper));
    if reverse {
        for (k, v) in range.rev() {
            if !visit(k, v)? {
                break;
            }
        }
    } else {
        for (k, v) in range {
            if !visit(k, v)? {
                break;
            }
        }
    }
    Ok(())
}

fn names(tables: &Tables) -> Vec<String> {
    tables.keys().cloned().collect()
}

impl Reader for Snap {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(table).and_then(|t| t.get(key)).cloned())
    }

    fn scan(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut RowVisitor<'_>,
    ) -> Result<()> {
        scan_rows(
            self.0.get(table).map(|t| &**t),
            lower,
            upper,
            reverse,
            visit,
        )
    }

    fn len(&self, table: &str) -> Result<u64> {
        Ok(self.0.get(table).map_or(0, |t| t.len() as u64))
    }

    fn table_names(&self) -> Result<Vec<String>> {
        Ok(names(&self.0))
    }
}

impl Reader for Txn {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.tick()?;
        Ok(self.0.borrow().get(table).and_then(|t| t.get(key)).cloned())
    }

    fn scan(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut RowVisitor<'_>,
    ) -> Result<()> {
        self.tick()?;
        // The callback may not write this table (the contract), but it may
        // read others: scan a shared copy of the table, not the borrow.
        let rows = self.0.borrow().get(table).cloned();
        scan_rows(rows.as_deref(), lower, upper, reverse, visit)
    }

    fn len(&self, table: &str) -> Result<u64> {
        self.tick()?;
        Ok(self.0.borrow().get(table).map_or(0, |t| t.len() as u64))
    }

    fn table_names(&self) -> Result<Vec<String>> {
        self.tick()?;
        Ok(names(&self.0.borrow()))
    }
}

impl Writer for Txn {
    fn put(&self, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
        self.tick()?;
        let mut tables = self.0.borrow_mut();
        let rows = tables.entry(table.to_string()).or_default();
        Arc::make_mut(rows).insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&self, table: &str, key: &[u8]) -> Result<bool> {
        self.tick()?;
        let mut tables = self.0.borrow_mut();
        Ok(match tables.get_mut(table) {
            Some(rows) if rows.contains_key(key) => Arc::make_mut(rows).remove(key).is_some(),
            _ => false,
        })
    }
}

impl Backend for ModelBackend {
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> Result<()>) -> Result<()> {
        f(&Snap(self.snapshot()))
    }

    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
        let armed = self
            .next_stop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(Stop { at, between }) = armed {
            // The other handle's write comes between the runs: the lock
            // is let go, as a server's transactions end.
            {
                let _writing = self.begin_writing();
                self.first_run(f, Some(at))?;
            }
            between();
            let _writing = self.begin_writing();
            return self.last_run(f);
        }
        let _writing = self.begin_writing();
        if self.retries {
            let write = self
                .writes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.first_run(f, self.interrupts.then_some(write % INTERRUPT_CYCLE))?;
        }
        self.last_run(f)
    }

    fn engine(&self) -> &'static str {
        "model"
    }

    fn generation(&self) -> Option<u64> {
        Some(self.generation.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// The model standing in for a server's store (tests): damage cannot make
/// it panic, and several processes write it, so handles own id blocks.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Served(pub(crate) ModelBackend);

#[cfg(test)]
impl Backend for Served {
    fn read(&self, f: &mut dyn FnMut(&dyn Reader) -> Result<()>) -> Result<()> {
        self.0.read(f)
    }

    fn write(&self, f: &mut dyn FnMut(&dyn Writer) -> Result<()>) -> Result<()> {
        self.0.write(f)
    }

    fn engine(&self) -> &'static str {
        "served"
    }

    fn damage_panics(&self) -> bool {
        false
    }

    fn own_id_blocks(&self) -> bool {
        true
    }
}
