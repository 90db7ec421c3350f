//! Abbreviations (略語) derived from the compounds of the materials, without a hand-written
//! list.
//!
//! Japanese administrative abbreviations are formed regularly from the parts of a compound:
//! the first character of each kept part (生活保護 → 生保, 児童扶養手当 → 児扶, 国民健康保険 →
//! 国保 skipping 健康, 固定資産税 → 固資税), the first two morae of a katakana part
//! (ケア・マネジャー → ケアマネ, パーソナル・コンピュータ → パソコン). A compound is a run of
//! consecutive noun tokens of IPADIC's segmentation (児童/扶養/手当). For every start part
//! and every ordered choice of up to [`MAX_FORM_PARTS`] of the next [`MAX_WINDOW`] parts that
//! keeps the start part, the short form is emitted as a term of the abbreviation field; a
//! prefix of a long compound (児童扶養) is already a morph term (its parts are).
//!
//! At query time, a query word that is no word of the materials (no document frequency in
//! the morph fields) is looked up in this field, so 児扶 meets 児童扶養手当 while 申請, a word
//! of the materials, never goes through it. Each short form is also indexed with its source
//! compound (`生保` + [`SOURCE_SEP`] + `生活保護`), so the query side can count how many
//! distinct compounds share a short form and weigh it down accordingly (生保: 生活保護 and
//! 生命保険 → each match counts half).

use super::normalize::{is_ideograph, katakana_to_hiragana, normalize};
use super::{Analyzer, Token, chunks, truncate};

/// Most parts one short form takes (国民健康保険料 → 国健保料 has four).
pub const MAX_FORM_PARTS: usize = 4;
/// Most parts after the start part that a short form may draw from.
pub const MAX_WINDOW: usize = 5;
/// Separator between a short form and its source compound in the `form + SEP + source`
/// terms (a control character: never in normalized text).
pub const SOURCE_SEP: char = '\u{1}';

/// The short piece a part contributes: its first character, or for a katakana part its
/// first two morae (kana other than the long-vowel mark and small kana), folded to hiragana
/// as every kana term of the index is. `None` for a part without a usable first character.
fn piece(part: &str) -> Option<String> {
    let first = part.chars().next()?;
    if is_ideograph(first) {
        return Some(first.to_string());
    }
    if matches!(first, '\u{30A1}'..='\u{30FA}') {
        let mut out = String::new();
        let mut morae = 0;
        for c in part.chars() {
            let small = matches!(
                c,
                'ァ' | 'ィ' | 'ゥ' | 'ェ' | 'ォ' | 'ャ' | 'ュ' | 'ョ' | 'ヮ'
            );
            if c == 'ー' || c == 'ッ' {
                continue;
            }
            if !small {
                if morae == 2 {
                    break;
                }
                morae += 1;
            }
            out.push(katakana_to_hiragana(c));
        }
        return (morae == 2).then_some(out);
    }
    None
}

/// Returns the short forms of the compound made of `parts` (see the module docs), without
/// duplicates, each of at least two characters and different from the compound itself.
pub fn short_forms(parts: &[&str]) -> Vec<String> {
    let pieces: Vec<Option<String>> = parts.iter().map(|p| piece(p)).collect();
    let whole: String = parts.concat();
    let mut out: Vec<String> = Vec::new();
    for start in 0..parts.len() {
        let Some(head) = &pieces[start] else {
            continue;
        };
        let rest: Vec<usize> = (start + 1..parts.len().min(start + 1 + MAX_WINDOW)).collect();
        // Every non-empty ordered subset of the following parts, up to MAX_FORM_PARTS in all.
        for mask in 1u32..(1 << rest.len()) {
            if mask.count_ones() as usize + 1 > MAX_FORM_PARTS {
                continue;
            }
            let mut form = head.clone();
            let mut ok = true;
            for (bit, &i) in rest.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    match &pieces[i] {
                        Some(p) => form.push_str(p),
                        None => ok = false,
                    }
                }
            }
            if ok && form.chars().count() >= 2 && form != whole && !out.contains(&form) {
                out.push(form);
            }
        }
    }
    out
}

impl Analyzer {
    /// Returns the compounds of `text`: runs of at least two consecutive noun tokens of
    /// IPADIC's segmentation (without the user dictionary), each as its parts' surfaces.
    pub fn compounds(&self, text: &str) -> Vec<Vec<String>> {
        self.compounds_normalized(&normalize(truncate(text)))
    }

    /// Returns the compounds of already normalized text (see [`Analyzer::compounds`]).
    pub fn compounds_normalized(&self, norm: &super::Normalized) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for (_, chunk) in chunks(&norm.text) {
            let Ok(tokens) = self
                .parts_segmenter
                .segment(std::borrow::Cow::Borrowed(chunk))
            else {
                continue;
            };
            let mut run: Vec<String> = Vec::new();
            for mut t in tokens {
                let details = t.details();
                let noun = details.first().is_some_and(|p| *p == "名詞")
                    && !details
                        .get(1)
                        .is_some_and(|p| matches!(*p, "非自立" | "代名詞" | "数" | "副詞可能"));
                let surface = t.surface.to_string();
                if noun
                    && surface
                        .chars()
                        .all(|c| is_ideograph(c) || matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー'))
                {
                    run.push(surface);
                } else {
                    if run.len() >= 2 {
                        out.push(std::mem::take(&mut run));
                    }
                    run.clear();
                }
            }
            if run.len() >= 2 {
                out.push(run);
            }
        }
        out
    }

    /// Returns the abbreviation-field tokens of `text`: every short form of every compound,
    /// once as the form and once as `form` + [`SOURCE_SEP`] + compound.
    pub fn abbreviation_tokens(&self, text: &str) -> Vec<Token> {
        abbreviation_tokens_of(self.compounds(text))
    }
}

/// Returns the abbreviation-field tokens of `compounds` (see [`Analyzer::abbreviation_tokens`]).
pub(super) fn abbreviation_tokens_of(compounds: Vec<Vec<String>>) -> Vec<Token> {
    let mut out = Vec::new();
    for parts in compounds {
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let whole: String = refs.concat().chars().map(katakana_to_hiragana).collect();
        for form in short_forms(&refs) {
            let tagged = format!("{form}{SOURCE_SEP}{whole}");
            for term in [form, tagged] {
                out.push(Token {
                    term,
                    start: 0,
                    end: 0,
                    noun: true,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_characters_of_parts() {
        let f = short_forms(&["生活", "保護"]);
        assert_eq!(f, ["生保"]);
        let f = short_forms(&["国民", "健康", "保険"]);
        for want in ["国保", "国健", "国健保", "健保"] {
            assert!(f.contains(&want.to_string()), "{want} not in {f:?}");
        }
        let f = short_forms(&["児童", "扶養", "手当"]);
        assert!(f.contains(&"児扶".to_string()), "{f:?}");
    }

    #[test]
    fn katakana_parts_give_two_morae() {
        let f = short_forms(&["ケア", "マネジャー"]);
        assert!(f.contains(&"けあまね".to_string()), "{f:?}");
        let f = short_forms(&["パーソナル", "コンピュータ"]);
        assert!(f.contains(&"ぱそこん".to_string()), "{f:?}");
        let f = short_forms(&["デジタル", "カメラ"]);
        assert!(f.contains(&"でじかめ".to_string()), "{f:?}");
        // The long-vowel mark and the small ッ are left out of a short form.
        let f = short_forms(&["エアー", "コンディショナー"]);
        assert!(f.contains(&"えあこん".to_string()), "{f:?}");
    }

    #[test]
    fn the_compound_itself_is_no_short_form() {
        assert!(short_forms(&["生", "保"]).is_empty());
    }

    #[test]
    fn forms_of_the_materials_compounds() {
        let a = Analyzer::builtin().expect("IPADIC");
        let toks: Vec<String> = a
            .abbreviation_tokens("児童扶養手当の申請と生活保護について")
            .into_iter()
            .map(|t| t.term)
            .collect();
        assert!(toks.contains(&"児扶".to_string()), "{toks:?}");
        assert!(toks.contains(&"生保".to_string()), "{toks:?}");
        assert!(
            toks.contains(&format!("生保{SOURCE_SEP}生活保護")),
            "{toks:?}"
        );
        assert!(!toks.iter().any(|t| t.contains('の')), "{toks:?}");
    }
}
