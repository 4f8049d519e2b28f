//! The password gate: at most `concurrency` argon2 hashes or checks run at
//! once in one [`Institute`](crate::Institute), at most `queue` more wait
//! for a turn, and beyond that a caller is refused at once with `busy`.
//!
//! argon2id is memory-hard by design (19 MiB per check with the default
//! parameters): without a bound, a flood of sign-ins makes the process
//! allocate that much per request in flight. The gate bounds both the
//! memory (`concurrency` × m) and the threads left waiting (`queue`), and
//! refuses before anything is looked up or written, so a refusal says
//! nothing about the account and never counts toward its lock-out.

use crate::error::{Error, ErrorCode};
use argon2::Block;
use std::cell::{RefCell, RefMut};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The message of a `busy` refusal.
pub const BUSY: &str = "Too many sign-ins and password changes at once; try again in a moment.";

/// Working memory larger than this many 1 KiB blocks (64 MiB) is freed
/// after its turn rather than kept.
const KEEP_BLOCKS: usize = 64 * 1024;

/// Counts the hashing running and waiting.
#[derive(Debug)]
pub(crate) struct Gate {
    concurrency: usize,
    queue: usize,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    running: usize,
    waiting: usize,
    /// argon2's working memory, kept between turns: at most one per turn
    /// that can run at once. Allocating 19 MiB per check instead left the
    /// allocator holding ever more of them (a flood of checks grew a
    /// process by about 16 MiB a check).
    memory: Vec<Vec<Block>>,
    /// The threads that have had a turn (for tests).
    #[cfg(test)]
    threads: std::collections::HashSet<std::thread::ThreadId>,
}

/// A turn at hashing: held while argon2 runs, released on drop. Every
/// function of [`super::password`] that runs argon2 asks for one, so none
/// can run outside the gate.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    gate: &'a Gate,
    memory: RefCell<Vec<Block>>,
}

impl Permit<'_> {
    /// argon2's working memory for this turn, at least `blocks` long.
    pub(crate) fn memory(&self, blocks: usize) -> RefMut<'_, Vec<Block>> {
        let mut memory = self.memory.borrow_mut();
        if memory.len() < blocks {
            // Grown once (per turn that runs at once) for the configured
            // cost; longer only for a stored hash of a higher cost.
            *memory = Vec::new();
            memory.resize(blocks, Block::default());
        }
        memory
    }
}

impl Gate {
    /// A gate letting `concurrency` (at least 1) run and `queue` wait.
    pub(crate) fn new(concurrency: usize, queue: usize) -> Gate {
        Gate {
            concurrency: concurrency.max(1),
            queue,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Only counters live behind the lock; a panic elsewhere leaves them
        // consistent (the permit's drop still runs).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a turn, waiting for one while fewer than `queue` callers wait
    /// already; `busy` otherwise.
    pub(crate) fn enter(&self) -> Result<Permit<'_>, Error> {
        let mut state = self.lock();
        if state.running < self.concurrency {
            return Ok(self.admit(state));
        }
        if state.waiting >= self.queue {
            return Err(Error::new(ErrorCode::Busy, BUSY));
        }
        state.waiting += 1;
        while state.running >= self.concurrency {
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.waiting -= 1;
        Ok(self.admit(state))
    }

    /// Counts a turn in and hands it working memory.
    fn admit(&self, mut state: MutexGuard<'_, State>) -> Permit<'_> {
        state.running += 1;
        #[cfg(test)]
        state.threads.insert(std::thread::current().id());
        let memory = state.memory.pop().unwrap_or_default();
        Permit {
            gate: self,
            memory: RefCell::new(memory),
        }
    }

    /// Takes a turn, waiting however long the queue is: for bulk import,
    /// whose own workers (no more than the concurrency) are the bound.
    pub(crate) fn wait(&self) -> Permit<'_> {
        let mut state = self.lock();
        while state.running >= self.concurrency {
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        self.admit(state)
    }

    /// How many hashes may run at once.
    #[cfg_attr(
        target_arch = "wasm32",
        allow(dead_code, reason = "no threads to share out")
    )]
    pub(crate) fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Hashing running and waiting now (for tests).
    #[cfg(test)]
    pub(crate) fn load(&self) -> (usize, usize) {
        let state = self.lock();
        (state.running, state.waiting)
    }

    /// How many threads have had a turn (for tests).
    #[cfg(test)]
    pub(crate) fn threads(&self) -> usize {
        self.lock().threads.len()
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let memory = std::mem::take(self.memory.get_mut());
        let mut state = self.gate.lock();
        state.running -= 1;
        // A buffer grown for an unusually costly stored hash is let go.
        let kept = !memory.is_empty() && memory.len() <= KEEP_BLOCKS;
        if kept && state.memory.len() < self.gate.concurrency {
            state.memory.push(memory);
        }
        drop(state);
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_full_gate_with_no_queue_refuses_at_once() {
        let gate = Gate::new(1, 0);
        let first = gate.enter().unwrap();
        let err = gate.enter().unwrap_err();
        assert_eq!(err.code(), ErrorCode::Busy);
        assert_eq!(err.message(), BUSY);
        drop(first);
        let _again = gate.enter().unwrap();
    }

    #[test]
    fn waiters_queue_up_to_the_limit_and_get_a_turn_in_the_end() {
        let gate = Gate::new(1, 2);
        let first = gate.enter().unwrap();
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel();
            for _ in 0..2 {
                let tx = tx.clone();
                let gate = &gate;
                scope.spawn(move || {
                    let permit = gate.enter();
                    tx.send(permit.is_ok()).unwrap();
                });
            }
            // Both are waiting once the counters say so.
            while gate.load() != (1, 2) {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(gate.enter().unwrap_err().code(), ErrorCode::Busy);
            assert!(rx.try_recv().is_err(), "nobody got a turn yet");
            drop(first);
            assert!(rx.recv().unwrap());
            assert!(rx.recv().unwrap());
        });
        assert_eq!(gate.load(), (0, 0));
    }

    /// The working memory a turn leaves behind (for tests).
    fn kept(gate: &Gate) -> Vec<usize> {
        gate.lock().memory.iter().map(Vec::len).collect()
    }

    #[test]
    fn working_memory_is_kept_for_the_next_turn_unless_it_is_huge() {
        let gate = Gate::new(2, 0);
        // The default argon2id cost (19 MiB) is kept and handed on as is.
        let default_cost = 19 * 1024;
        let turn = gate.enter().unwrap();
        turn.memory(default_cost)[0].as_mut()[0] = 7;
        drop(turn);
        assert_eq!(kept(&gate), [default_cost]);
        let turn = gate.enter().unwrap();
        assert!(kept(&gate).is_empty(), "handed to the turn");
        // Long enough already: neither grown nor made anew.
        assert_eq!(turn.memory(default_cost).len(), default_cost);
        assert_eq!(turn.memory(default_cost)[0].as_ref()[0], 7);
        // A shorter need takes the longer buffer as it is.
        assert_eq!(turn.memory(8).len(), default_cost);
        drop(turn);
        // The largest that is kept, and one block more, which is not.
        let turn = gate.enter().unwrap();
        assert_eq!(turn.memory(KEEP_BLOCKS).len(), KEEP_BLOCKS);
        drop(turn);
        assert_eq!(kept(&gate), [KEEP_BLOCKS]);
        let turn = gate.enter().unwrap();
        assert_eq!(turn.memory(KEEP_BLOCKS + 1).len(), KEEP_BLOCKS + 1);
        drop(turn);
        assert!(kept(&gate).is_empty(), "a huge buffer is let go");
        assert_eq!(KEEP_BLOCKS, 65_536, "64 MiB of 1 KiB blocks");
        // Turns that ran at once each leave their own buffer.
        let (a, b) = (gate.enter().unwrap(), gate.enter().unwrap());
        a.memory(16);
        b.memory(16);
        drop((a, b));
        assert_eq!(kept(&gate), [16, 16]);
    }

    #[test]
    fn concurrency_is_at_least_one() {
        let gate = Gate::new(0, 0);
        assert_eq!(gate.concurrency(), 1);
        let _permit = gate.enter().unwrap();
        assert!(gate.enter().is_err());
        assert_eq!(Gate::new(3, 0).concurrency(), 3);
    }

    #[test]
    fn an_import_turn_waits_however_full_the_queue_is() {
        // No queue: `enter` is refused, `wait` waits for the running turn.
        let gate = Gate::new(1, 0);
        let first = gate.enter().unwrap();
        assert!(gate.enter().is_err());
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel();
            let gate = &gate;
            scope.spawn(move || {
                let _turn = gate.wait();
                tx.send(gate.load()).unwrap();
            });
            assert!(
                rx.recv_timeout(Duration::from_millis(100)).is_err(),
                "no turn while the gate is full"
            );
            drop(first);
            assert_eq!(rx.recv().unwrap(), (1, 0), "its turn, alone");
        });
        assert_eq!(gate.load(), (0, 0));
        // A free gate lets it in at once.
        let _turn = gate.wait();
        assert_eq!(gate.load(), (1, 0));
    }
}
