//! Query side of the abbreviation field (see [`crate::analysis::abbrev`]): a query word that
//! is no word of the materials is looked up among the short forms of their compounds, each
//! match weighed by 1 / (number of distinct compounds sharing that short form).

use tantivy::Searcher;
use tantivy::schema::Field;

use super::bm25f::TermGroup;
use super::plan::QueryPlan;
use super::quality;
use crate::analysis::abbrev::SOURCE_SEP;
use crate::analysis::normalize::{is_ideograph, katakana_to_hiragana};
use crate::index::MaterialIndex;

/// Longest query run (in characters) tried as a short form.
pub const MAX_QUERY_FORM_CHARS: usize = 6;

/// Returns the candidate short forms of a normalized query: its runs of kanji and katakana
/// of 2..=[`MAX_QUERY_FORM_CHARS`] characters (katakana folded to hiragana), and its morph
/// terms of two or more characters.
pub fn candidates(norm_text: &str, morph_terms: &[(String, f32)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut run = String::new();
    let push = |run: &mut String, out: &mut Vec<String>| {
        let n = run.chars().count();
        if (2..=MAX_QUERY_FORM_CHARS).contains(&n) && !out.contains(run) {
            out.push(run.clone());
        }
        run.clear();
    };
    for c in norm_text.chars() {
        if is_ideograph(c) || matches!(c, '\u{30A1}'..='\u{30FA}') {
            run.push(katakana_to_hiragana(c));
        } else if c == 'ー' {
            // The long-vowel mark is not part of a short form's pieces.
        } else {
            push(&mut run, &mut out);
        }
    }
    push(&mut run, &mut out);
    for (t, _) in morph_terms {
        if t.chars().count() >= 2 && !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

/// Keeps in the abbreviation group (the group whose first field is `abbrev_field`) only the
/// terms that no morph field knows, each weighted by 1 / the number of distinct compounds
/// the abbreviation field lists for it; drops terms no compound has. Returns the compounds
/// the kept terms stand for (at most [`MAX_SOURCES`] per term), for highlighting.
///
/// # Errors
/// tantivy I/O errors reading the term dictionaries.
pub fn resolve(
    searcher: &Searcher,
    groups: &mut Vec<TermGroup>,
    abbrev_field: Field,
    morph_fields: [Field; 2],
) -> tantivy::Result<Vec<String>> {
    let Some(g) = groups
        .iter_mut()
        .find(|g| g.fields.first().map(|f| f.field) == Some(abbrev_field))
    else {
        return Ok(Vec::new());
    };
    let mut kept = Vec::new();
    let mut compounds = Vec::new();
    for (term, qw) in std::mem::take(&mut g.terms) {
        if known(searcher, &morph_fields, &term)? {
            continue;
        }
        let found = sources(searcher, abbrev_field, &term)?;
        if !found.is_empty() {
            kept.push((term, qw / found.len() as f32));
            compounds.extend(found.into_iter().take(MAX_SOURCES));
        }
    }
    g.terms = kept;
    groups.retain(|g| !g.terms.is_empty());
    Ok(compounds)
}

/// Resolves the abbreviation group of `p` over `searcher` ([`resolve`]), and makes each
/// resolved short form one content unit in place of the pieces the segmenter cut it into
/// (児扶 → 児, 扶).
///
/// # Errors
/// tantivy I/O errors reading the term dictionaries.
pub fn resolve_plan(
    index: &MaterialIndex,
    searcher: &Searcher,
    p: &mut QueryPlan,
) -> tantivy::Result<()> {
    let f = index.fields();
    let compounds = resolve(
        searcher,
        &mut p.groups,
        f.title_abbrev,
        [f.title_morph, f.body_morph],
    )?;
    p.highlighter
        .add_words(compounds.iter().map(String::as_str));
    let forms: Vec<String> = p
        .groups
        .iter()
        .filter(|g| g.fields.first().map(|x| x.field) == Some(f.title_abbrev))
        .flat_map(|g| g.terms.iter().map(|t| t.0.clone()))
        .collect();
    if !forms.is_empty() {
        p.units.retain(|u| {
            !u.alternatives
                .first()
                .and_then(|a| a.first())
                .is_some_and(|(_, t)| forms.iter().any(|form| form.contains(t.as_str())))
        });
        for form in forms {
            p.units.push(quality::Unit {
                alternatives: vec![vec![(vec![f.title_abbrev, f.body_abbrev], form)]],
            });
        }
    }
    Ok(())
}

fn known(searcher: &Searcher, fields: &[Field], term: &str) -> tantivy::Result<bool> {
    for &f in fields {
        let t = tantivy::Term::from_field_text(f, term);
        if searcher.doc_freq(&t)? > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Most compounds of one short form returned for highlighting (the count still weighs all).
pub const MAX_SOURCES: usize = 16;

/// Returns the distinct compounds of the `form + SEP + compound` terms of `form` over all
/// segments.
fn sources(searcher: &Searcher, field: Field, form: &str) -> tantivy::Result<Vec<String>> {
    let lo = format!("{form}{SOURCE_SEP}");
    let hi = format!(
        "{form}{}",
        char::from_u32(SOURCE_SEP as u32 + 1).unwrap_or(SOURCE_SEP)
    );
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for seg in searcher.segment_readers() {
        let inv = seg.inverted_index(field)?;
        let mut stream = inv
            .terms()
            .range()
            .ge(lo.as_bytes())
            .lt(hi.as_bytes())
            .into_stream()?;
        while stream.advance() {
            let k = stream.key().to_vec();
            if !seen.contains(&k) {
                seen.push(k);
            }
        }
    }
    Ok(seen
        .iter()
        .map(|k| String::from_utf8_lossy(&k[lo.len()..]).into_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_kanji_and_katakana_runs() {
        let c = candidates("児扶 の申請 ケアマネ", &[("申請".into(), 1.0)]);
        assert_eq!(c, ["児扶", "申請", "けあまね"]);
    }
}
