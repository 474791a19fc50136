//! The lock around the store. A write guard is one transaction: when it is released,
//! the changes the store captured meanwhile become change events, published while the
//! lock is still held so replay ids follow commit order. A guard taken for an API call
//! carries that call's `changeOrigin` into its events.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::PubSubState;
use super::events;
use crate::store::Store;

/// The store behind a read-write lock, publishing events on every write.
#[derive(Debug)]
pub struct StoreLock {
    lock: RwLock<Store>,
    /// Where events go.
    pub pubsub: Arc<PubSubState>,
}

impl StoreLock {
    /// Wraps `store`, capturing its changes from now on.
    pub fn new(mut store: Store, pubsub: Arc<PubSubState>) -> StoreLock {
        store.capture.enable();
        StoreLock {
            lock: RwLock::new(store),
            pubsub,
        }
    }

    /// Shared access (no events).
    pub fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.lock.read()
    }

    /// Exclusive access: one transaction that no API made (churn, admin, set-up), so
    /// its events carry an empty `changeOrigin`.
    pub fn write(&self) -> StoreWrite<'_> {
        self.write_from(String::new())
    }

    /// Exclusive access for an API call: its events carry `origin` (see `origin`).
    pub fn write_from(&self, origin: String) -> StoreWrite<'_> {
        StoreWrite {
            guard: self.lock.write(),
            pubsub: &self.pubsub,
            origin,
        }
    }
}

/// A write transaction; its changes are published when it is dropped.
pub struct StoreWrite<'a> {
    guard: RwLockWriteGuard<'a, Store>,
    pubsub: &'a PubSubState,
    origin: String,
}

impl Deref for StoreWrite<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.guard
    }
}

impl DerefMut for StoreWrite<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.guard
    }
}

impl Drop for StoreWrite<'_> {
    fn drop(&mut self) {
        if self.guard.capture.is_empty() {
            return;
        }
        let changes = self.guard.capture.drain();
        events::commit(self.pubsub, &self.guard, &self.origin, changes);
    }
}
