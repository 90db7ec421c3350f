//! The frontier: URLs waiting to be fetched, breadth first, each at most once per run.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use super::Url;
use super::config::Scope;

/// URLs to fetch with their link depth, and the set of URLs seen in this run (shared with
/// the fetch tasks, which follow a redirect in place only to a URL not seen yet).
pub(super) struct Frontier {
    queue: VecDeque<(Url, u32)>,
    seen: Arc<Mutex<HashSet<String>>>,
    scope: Arc<Scope>,
    max_depth: u32,
}

impl Frontier {
    pub(super) fn new(scope: Arc<Scope>, max_depth: u32) -> Self {
        Self {
            queue: VecDeque::new(),
            seen: Arc::default(),
            scope,
            max_depth,
        }
    }

    /// Queues `u` when it is within depth and scope and not seen yet in this run.
    pub(super) fn enqueue(&mut self, u: Url, depth: u32) {
        if depth > self.max_depth || !self.scope.allows(&u) {
            return;
        }
        if self.mark_seen(&u) {
            self.queue.push_back((u, depth));
        }
    }

    /// Queues a seed at depth 0: seeds are crawled even when a scope rule would exclude them.
    pub(super) fn seed(&mut self, u: Url) {
        if self.mark_seen(&u) {
            self.queue.push_back((u, 0));
        }
    }

    /// Marks `u` as seen in this run; returns whether it was new.
    pub(super) fn mark_seen(&self, u: &Url) -> bool {
        mark(&self.seen, u)
    }

    /// The seen set, for fetch tasks.
    pub(super) fn seen(&self) -> Arc<Mutex<HashSet<String>>> {
        self.seen.clone()
    }

    pub(super) fn pop(&mut self) -> Option<(Url, u32)> {
        self.queue.pop_front()
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// Inserts `u` into a seen set; returns whether it was new.
pub(super) fn mark(seen: &Mutex<HashSet<String>>, u: &Url) -> bool {
    seen.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(u.to_string())
}
