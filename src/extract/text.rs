//! DOM-to-text helpers shared by the extractors: block-aware rendering that skips
//! boilerplate (header, navigation, breadcrumb, side menus, footer, 文字サイズ/背景色
//! widgets, skip links).

use scraper::node::Node;
use scraper::{ElementRef, Html, Selector};

/// Elements rendered on their own line(s).
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
];

/// Elements never rendered.
const DROP_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "object", "embed", "button",
    "select", "input", "textarea", "canvas", "map", "audio", "video",
];

/// Id/class name components that mark navigation and page furniture.
const BOILERPLATE_PARTS: &[&str] = &[
    "nav",
    "navi",
    "gnav",
    "gnavi",
    "lnav",
    "lnavi",
    "snav",
    "snavi",
    "globalnav",
    "globalnavi",
    "localnav",
    "localnavi",
    "menu",
    "submenu",
    "sidemenu",
    "megamenu",
    "side",
    "sidebar",
    "sidenav",
    "breadcrumb",
    "breadcrumbs",
    "pankuzu",
    "topicpath",
    "footer",
    "header",
    "skip",
    "skiplink",
    "fontsize",
    "textsize",
    "moji",
    "mojisize",
    "mojiookisa",
    "bgcolor",
    "haikei",
    "haikeishoku",
    "colorchange",
    "sns",
    "share",
    "pagetop",
    "utility",
    "tool",
    "tools",
    "banner",
    "search",
];

/// Texts that start a 文字サイズ / 背景色 widget.
const WIDGET_PREFIXES: &[&str] = &[
    "文字サイズ",
    "文字の大きさ",
    "背景色",
    "背景の色",
    "色合い",
    "Language",
    "音声読み上げ",
];

/// Returns whether `el` is page furniture to leave out of the main text.
pub fn is_boilerplate(el: ElementRef<'_>) -> bool {
    let e = el.value();
    let name = e.name();
    if DROP_TAGS.contains(&name) || matches!(name, "nav" | "footer" | "aside" | "form") {
        return true;
    }
    if name == "header" {
        return !has_text_h1(el);
    }
    if let Some(role) = e.attr("role")
        && matches!(
            role,
            "navigation" | "banner" | "contentinfo" | "complementary" | "search"
        )
    {
        return true;
    }
    if e.attr("hidden").is_some() || e.attr("aria-hidden") == Some("true") {
        return true;
    }
    let names = e.id().into_iter().chain(e.classes());
    for n in names {
        let n = n.to_ascii_lowercase();
        if n.split(['-', '_'])
            .any(|part| BOILERPLATE_PARTS.contains(&part))
        {
            // An article header holding the page title (not a logo image) is content.
            return !(n.contains("header") && has_text_h1(el));
        }
    }
    if name == "a"
        && e.attr("href").is_some_and(|h| h.starts_with('#'))
        && leading_text(el, 40).contains(['本', 'ス', 'メ'])
    {
        let t = leading_text(el, 40);
        if t.contains("本文") || t.contains("スキップ") || t.contains("メニュー") {
            return true;
        }
    }
    if matches!(
        name,
        "ul" | "ol" | "div" | "dl" | "p" | "section" | "span" | "li"
    ) {
        let t = leading_text(el, 80);
        let t = t.trim_start();
        if WIDGET_PREFIXES.iter().any(|p| t.starts_with(p)) && t.chars().count() < 80 {
            return true;
        }
    }
    false
}

/// Returns whether `el` holds an `<h1>` with text of its own (not only a logo image).
fn has_text_h1(el: ElementRef<'_>) -> bool {
    Selector::parse("h1").ok().is_some_and(|s| {
        el.select(&s)
            .any(|h| h.text().any(|t| !t.trim().is_empty()))
    })
}

/// Returns whether `el` or an ancestor below `root` is page furniture.
pub fn inside_boilerplate(el: ElementRef<'_>, root: ElementRef<'_>) -> bool {
    if is_boilerplate(el) {
        return true;
    }
    for a in el.ancestors() {
        if a.id() == root.id() {
            return false;
        }
        if let Some(e) = ElementRef::wrap(a)
            && is_boilerplate(e)
        {
            return true;
        }
    }
    false
}

/// Returns up to about `max_chars` characters of the text under `el`, whitespace collapsed.
pub fn leading_text(el: ElementRef<'_>, max_chars: usize) -> String {
    let mut out = String::new();
    for t in el.text() {
        out.push_str(t);
        if out.chars().count() > max_chars {
            break;
        }
    }
    collapse_spaces(&out)
}

/// Collapses runs of ASCII whitespace to one space and trims.
pub fn collapse_spaces(s: &str) -> String {
    s.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders the text under `el` with block elements on their own lines, skipping elements
/// for which `skip` is true. Lines are trimmed; empty lines dropped.
pub fn render(el: ElementRef<'_>, skip: &dyn Fn(ElementRef<'_>) -> bool) -> String {
    let mut buf = String::new();
    walk(el, skip, &mut buf, true);
    tidy(&buf)
}

/// As [`render`] with the standard boilerplate filter.
pub fn render_clean(el: ElementRef<'_>) -> String {
    render(el, &is_boilerplate)
}

/// Renders the children of `el` (not `el` itself) from the `from`-th child node on.
pub fn render_children_from(
    el: ElementRef<'_>,
    from: usize,
    skip: &dyn Fn(ElementRef<'_>) -> bool,
) -> String {
    let mut buf = String::new();
    for child in el.children().skip(from) {
        walk_node(child, skip, &mut buf);
    }
    tidy(&buf)
}

fn walk(el: ElementRef<'_>, skip: &dyn Fn(ElementRef<'_>) -> bool, buf: &mut String, root: bool) {
    if !root && skip(el) {
        return;
    }
    let name = el.value().name();
    if DROP_TAGS.contains(&name) {
        return;
    }
    let block = BLOCK_TAGS.contains(&name);
    if block {
        buf.push('\n');
    }
    match name {
        "br" => buf.push('\n'),
        "img" => {
            if let Some(alt) = el.value().attr("alt") {
                buf.push_str(alt);
            }
        }
        _ => {}
    }
    for child in el.children() {
        walk_node(child, skip, buf);
    }
    match name {
        "td" | "th" => buf.push_str(" \t "),
        _ if block => buf.push('\n'),
        _ => {}
    }
}

fn walk_node(
    node: ego_tree::NodeRef<'_, Node>,
    skip: &dyn Fn(ElementRef<'_>) -> bool,
    buf: &mut String,
) {
    match node.value() {
        Node::Text(t) => buf.push_str(t),
        Node::Element(_) => {
            if let Some(e) = ElementRef::wrap(node) {
                walk(e, skip, buf, false);
            }
        }
        _ => {}
    }
}

/// Trims lines, collapses spaces within them, drops empty lines.
pub fn tidy(s: &str) -> String {
    s.lines()
        .map(|l| {
            let cells: Vec<String> = l
                .split('\t')
                .map(collapse_spaces)
                .filter(|c| !c.is_empty())
                .collect();
            cells.join(" ").trim_matches('\u{3000}').trim().to_string()
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses a CSS selector known to be valid.
pub fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|_| Selector::parse("*").expect("`*` is a valid selector"))
}

/// Returns the element holding the main content: `main`, `[role=main]` or a common CMS
/// content container, else `body`, else the document root.
pub fn main_root(doc: &Html) -> ElementRef<'_> {
    const CANDIDATES: &[&str] = &[
        "main",
        "[role=main]",
        "#tmp_contents",
        "#main_body",
        "#main-contents",
        "#main_contents",
        "#mainContents",
        "#contents-main",
        "#contents_main",
        "#contents",
        "#content",
        "#main",
        ".main-contents",
        ".main_contents",
        "article",
    ];
    for c in CANDIDATES {
        if let Some(el) = doc
            .select(&sel(c))
            .find(|e| !is_boilerplate(*e) && !leading_text(*e, 10).is_empty())
        {
            return el;
        }
    }
    doc.select(&sel("body"))
        .next()
        .unwrap_or_else(|| doc.root_element())
}

/// Converts full-width ASCII (digits, letters, punctuation) and the ideographic space to
/// their ASCII forms, for matching labels and parsing numbers.
pub fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_keeps_blocks_as_lines_and_skips_furniture() {
        let html = Html::parse_document(
            r##"<body><a href="#main">本文へスキップ</a><div id="tmp_gnav"><ul><li>くらし</li></ul></div>
            <div id="main"><h1>見出し</h1><p>一行目<br>二行目</p>
            <ul class="fontsize"><li>文字サイズ</li><li>標準</li></ul>
            <table><tr><td>課</td><td>電話</td></tr></table></div>
            <footer>Copyright</footer></body>"##,
        );
        let root = main_root(&html);
        assert_eq!(render_clean(root), "見出し\n一行目\n二行目\n課 電話");
    }

    #[test]
    fn ascii_fold_converts_full_width() {
        assert_eq!(ascii_fold("ＴＥＬ：０３－１２３４"), "TEL:03-1234");
    }
}
