//! [`Live`]: a configuration value that `SIGHUP` can replace while requests read it
//! ([`super::serve::reload`]).

use std::sync::{Arc, RwLock};

/// A shared value that can be replaced while serving: every clone sees the latest
/// [`Live::set`]. A reader takes a snapshot ([`Live::get`], one lock and an `Arc` clone) and
/// keeps it for the rest of its request, so one request never sees two versions.
pub struct Live<T>(Arc<RwLock<Arc<T>>>);

impl<T> Live<T> {
    /// A live value starting at `value`.
    pub fn new(value: T) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(value))))
    }

    /// The value in force now.
    pub fn get(&self) -> Arc<T> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the value for every clone; readers holding a snapshot keep theirs.
    pub fn set(&self, value: T) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(value);
    }
}

impl<T> Clone for Live<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Default> Default for Live<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Live<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl<T> From<T> for Live<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clone_sees_a_set_and_a_snapshot_stays() {
        let a = Live::new(vec![1]);
        let b = a.clone();
        let snapshot = a.get();
        b.set(vec![2, 3]);
        assert_eq!(*a.get(), vec![2, 3]);
        assert_eq!(*snapshot, vec![1]);
    }
}
