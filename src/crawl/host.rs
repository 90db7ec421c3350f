//! One host's crawl state in memory: its state file, robots.txt rules, politeness slot, the
//! materials of its corpus collection and the body hashes of its indexed pages.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use texting_robots::Robot;

use super::state::{HostState, PageState, PageStatus};
use crate::material::Material;

/// A host's materials in a vector with an id index, and the ids changed since the last
/// checkpoint (only those are written back, so a change another writer made to the same
/// collection meanwhile, e.g. a CMS webhook job in a running server, is kept).
#[derive(Default)]
pub(super) struct MaterialSet {
    items: Vec<Material>,
    pos: HashMap<String, usize>,
    changed: std::collections::HashSet<String>,
}

impl MaterialSet {
    pub(super) fn new(items: Vec<Material>) -> Self {
        let mut set = Self::default();
        for m in items {
            set.insert(m);
        }
        set.changed.clear();
        set
    }

    /// Returns the changed materials and the removed ids since the last call.
    pub(super) fn take_changes(&mut self) -> (Vec<Material>, Vec<String>) {
        let mut upserts = Vec::new();
        let mut removes = Vec::new();
        for id in std::mem::take(&mut self.changed) {
            match self.get(&id) {
                Some(m) => upserts.push(m.clone()),
                None => removes.push(id),
            }
        }
        (upserts, removes)
    }

    pub(super) fn get(&self, id: &str) -> Option<&Material> {
        self.pos.get(id).map(|&i| &self.items[i])
    }

    pub(super) fn insert(&mut self, m: Material) {
        self.changed.insert(m.id.clone());
        match self.pos.get(&m.id) {
            Some(&i) => self.items[i] = m,
            None => {
                self.pos.insert(m.id.clone(), self.items.len());
                self.items.push(m);
            }
        }
    }

    pub(super) fn remove(&mut self, id: &str) -> Option<Material> {
        let i = self.pos.remove(id)?;
        self.changed.insert(id.to_string());
        let m = self.items.swap_remove(i);
        if let Some(moved) = self.items.get(i) {
            self.pos.insert(moved.id.clone(), i);
        }
        Some(m)
    }

    #[cfg(test)]
    pub(super) fn as_slice(&self) -> &[Material] {
        &self.items
    }
}

/// A host during a crawl run.
pub(super) struct Host {
    /// The state file's content.
    pub state: HostState,
    /// robots.txt rules (`None` when not obeyed).
    pub robots: Option<Arc<Robot>>,
    /// The host's corpus collection.
    pub materials: MaterialSet,
    /// Delay between two requests to this host.
    pub delay: Duration,
    /// When the next request may start.
    pub next_slot: Instant,
    /// Body hash → URL of the indexed page with that body.
    pub hashes: HashMap<String, String>,
    /// Whether state or materials changed since the last checkpoint.
    pub dirty: bool,
}

impl Host {
    /// A host from its loaded state and corpus collection.
    pub(super) fn new(
        state: HostState,
        materials: Vec<Material>,
        robots: Option<Arc<Robot>>,
        delay: Duration,
    ) -> Self {
        let hashes = state
            .pages
            .iter()
            .filter(|(_, p)| p.status == PageStatus::Indexed)
            .map(|(u, p)| (p.hash.clone(), u.clone()))
            .collect();
        Self {
            state,
            robots,
            materials: MaterialSet::new(materials),
            delay,
            next_slot: Instant::now(),
            hashes,
            dirty: false,
        }
    }

    /// Removes a page's materials and state; returns the number of materials removed, or
    /// `None` when the page was unknown.
    pub(super) fn forget_page(&mut self, url: &str) -> Option<usize> {
        let p = self.state.pages.remove(url)?;
        self.dirty = true;
        if self.hashes.get(&p.hash).is_some_and(|u| u == url) {
            self.hashes.remove(&p.hash);
        }
        // A site-wide material (a department's contact block) stays while another page
        // lists it.
        let pages = &self.state.pages;
        let materials = &mut self.materials;
        Some(
            p.material_ids
                .iter()
                .filter(|id| !listed_elsewhere(pages, url, id))
                .filter(|id| materials.remove(id).is_some())
                .count(),
        )
    }
}

/// Whether a page other than `url` lists material `id` (site-wide materials such as a
/// department's contact block are listed by every page that shows it).
pub(super) fn listed_elsewhere(pages: &BTreeMap<String, PageState>, url: &str, id: &str) -> bool {
    pages
        .iter()
        .any(|(u, p)| u != url && p.material_ids.iter().any(|m| m == id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn material_set_keeps_the_index_in_step() {
        let m = |id: &str| Material {
            id: id.into(),
            source_id: id.into(),
            kind: crate::material::MaterialKind::Page,
            title: id.into(),
            question: None,
            answer: None,
            body: None,
            contact: None,
            source: "s".into(),
            url: None,
            department: None,
            category: None,
            tags: vec![],
            updated_at: Utc::now().fixed_offset(),
            valid_from: None,
            valid_until: None,
        };
        let mut set = MaterialSet::new(vec![m("a"), m("b"), m("c")]);
        assert!(set.remove("a").is_some());
        assert!(set.remove("a").is_none());
        assert_eq!(set.get("c").map(|x| x.id.as_str()), Some("c"));
        set.insert(m("d"));
        let mut ids: Vec<&str> = set.as_slice().iter().map(|x| x.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["b", "c", "d"]);
    }
}
