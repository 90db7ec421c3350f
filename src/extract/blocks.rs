//! The main text as a flat list of leaf blocks (headings, paragraphs, list items, table
//! rows' containers, inline runs between blocks), in document order: the unit the FAQ and
//! contact extractors walk.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::ElementRef;
use scraper::node::Node;

use super::text::{is_boilerplate, render, tidy};

/// A leaf block of the main text, in document order.
pub struct Block {
    /// The element (or first node of an inline run) the block starts at.
    pub id: NodeId,
    /// Heading level (1–6) of a heading block.
    pub heading: Option<u8>,
    /// Rendered text, one line per rendered line.
    pub text: String,
    /// A structure already turned into FAQ pairs (ends the pending pair).
    pub boundary: bool,
}

const CONTAINER_TAGS: &[&str] = &[
    "div", "section", "article", "main", "body", "center", "span", "header", "font",
];
const LEAF_BLOCK_TAGS: &[&str] = &[
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "ul",
    "ol",
    "dl",
    "table",
    "blockquote",
    "pre",
    "figure",
    "address",
    "details",
    "hr",
];

/// Whether `el` starts a block of its own.
pub fn is_blockish(el: ElementRef<'_>) -> bool {
    let n = el.value().name();
    LEAF_BLOCK_TAGS.contains(&n) || (n != "span" && n != "font" && CONTAINER_TAGS.contains(&n))
}

/// Flattens `el` into blocks; elements in `consumed` become boundary blocks.
pub fn flatten(el: ElementRef<'_>, consumed: &HashSet<NodeId>, out: &mut Vec<Block>, root: bool) {
    flatten_with(el, consumed, out, root, &is_boilerplate);
}

/// As [`flatten`], leaving out the elements for which `skip` is true instead of the
/// standard page furniture.
pub fn flatten_with(
    el: ElementRef<'_>,
    consumed: &HashSet<NodeId>,
    out: &mut Vec<Block>,
    root: bool,
    skip: &dyn Fn(ElementRef<'_>) -> bool,
) {
    if !root && skip(el) {
        return;
    }
    if consumed.contains(&el.id()) {
        out.push(Block {
            id: el.id(),
            heading: None,
            text: String::new(),
            boundary: true,
        });
        return;
    }
    let name = el.value().name();
    let has_block_child = el
        .children()
        .filter_map(ElementRef::wrap)
        .any(|c| is_blockish(c) && !skip(c));
    if !CONTAINER_TAGS.contains(&name) || !has_block_child {
        let text = render(el, skip);
        if !text.is_empty() {
            out.push(Block {
                id: el.id(),
                heading: heading_level(name),
                text,
                boundary: false,
            });
        }
        return;
    }
    // Group inline runs between block children into anonymous blocks.
    let mut run: Vec<ego_tree::NodeRef<'_, Node>> = Vec::new();
    let flush = |run: &mut Vec<ego_tree::NodeRef<'_, Node>>, out: &mut Vec<Block>| {
        if run.is_empty() {
            return;
        }
        let mut buf = String::new();
        for n in run.iter() {
            match n.value() {
                Node::Text(t) => buf.push_str(t),
                Node::Element(_) => {
                    if let Some(e) = ElementRef::wrap(*n)
                        && !skip(e)
                    {
                        buf.push_str(&render(e, skip));
                    }
                }
                _ => {}
            }
        }
        let text = tidy(&buf);
        if !text.is_empty() {
            out.push(Block {
                id: run[0].id(),
                heading: None,
                text,
                boundary: false,
            });
        }
        run.clear();
    };
    for child in el.children() {
        match ElementRef::wrap(child) {
            Some(c) if is_blockish(c) => {
                flush(&mut run, out);
                flatten_with(c, consumed, out, false, skip);
            }
            _ => run.push(child),
        }
    }
    flush(&mut run, out);
}

/// Returns the heading level of a tag name (`h1` → 1).
pub fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// The entries of a `<dl>`: each `<dt>` with the `<dd>`s after it (also when a CMS wraps
/// each pair in a `<div>`), in order; `<dd>`s before the first `<dt>` are dropped.
pub fn dl_entries(dl: ElementRef<'_>) -> Vec<(ElementRef<'_>, Vec<ElementRef<'_>>)> {
    let mut out: Vec<(ElementRef<'_>, Vec<ElementRef<'_>>)> = Vec::new();
    for child in dl.children().filter_map(ElementRef::wrap) {
        let items: Vec<ElementRef<'_>> = if child.value().name() == "div" {
            child.children().filter_map(ElementRef::wrap).collect()
        } else {
            vec![child]
        };
        for it in items {
            match it.value().name() {
                "dt" => out.push((it, Vec::new())),
                "dd" => {
                    if let Some(last) = out.last_mut() {
                        last.1.push(it);
                    }
                }
                _ => {}
            }
        }
    }
    out
}
