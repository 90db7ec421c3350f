//! What a reviewer must look at in a text that was already redacted: the places where the
//! redactor replaced something (a published FAQ that reads `[氏名]` needs rewording), and
//! what still looks personal although no rule matched (the redactor is a set of rules, so a
//! name written in hiragana before `と申します`, or a number of a form it does not know,
//! can pass it).
//!
//! | kind | flagged when |
//! |---|---|
//! | `redacted` | a redaction token ([`TOKENS`]) is in the text |
//! | `digits` | a run of at least [`FLAG_DIGITS`] digits (ASCII or full-width, joined by `-`, `ー`, `－`, `.`, `/` or spaces) that is not an amount (`円`) |
//! | `self_introduction` | `と申します`, `といいます`, `と言います` or `と申す` not right after a `[氏名]` token |
//!
//! Flags never change the text: the reviewer decides (see [`crate::promotion`]).

use serde::Serialize;

use super::{NAME, TOKENS};

/// Shortest run of digits flagged: 6 digits is no year, date, fee or count a FAQ states,
/// but is most personal numbers' length or more (postal codes 7, phones 10–11, マイナンバー 12).
pub const FLAG_DIGITS: usize = 6;

/// Characters of context on each side of a flagged place in [`Flag::excerpt`].
const CONTEXT: usize = 12;

/// One place of a text the reviewer must look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Flag {
    /// `redacted`, `digits` or `self_introduction` (see the module documentation).
    pub kind: String,
    /// The text around the place (from the redacted text, so never more personal than it).
    pub excerpt: String,
}

fn excerpt(text: &str, start: usize, end: usize) -> String {
    let before: String = {
        let v: Vec<char> = text[..start].chars().rev().take(CONTEXT).collect();
        v.into_iter().rev().collect()
    };
    let after: String = text[end..].chars().take(CONTEXT).collect();
    format!("{before}{}{after}", &text[start..end])
}

fn digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

fn joiner(c: char) -> bool {
    matches!(
        c,
        '-' | 'ー' | '－' | '‐' | '−' | '.' | '．' | '/' | '／' | ' ' | '　'
    )
}

/// Runs of digits joined by single separators: `(start, end, digit count)` in bytes.
fn digit_runs(text: &str) -> Vec<(usize, usize, usize)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !digit(chars[i].1) {
            i += 1;
            continue;
        }
        let start = chars[i].0;
        let mut n = 0;
        let mut j = i;
        loop {
            while j < chars.len() && digit(chars[j].1) {
                n += 1;
                j += 1;
            }
            // One separator followed by a digit continues the run.
            if j + 1 < chars.len() && joiner(chars[j].1) && digit(chars[j + 1].1) {
                j += 1;
            } else {
                break;
            }
        }
        let end = chars.get(j).map_or(text.len(), |&(b, _)| b);
        out.push((start, end, n));
        i = j;
    }
    out
}

/// The flags of `text` (already redacted), in order of position.
pub fn flags(text: &str) -> Vec<Flag> {
    let mut found: Vec<(usize, usize, &str)> = Vec::new();
    for token in TOKENS {
        found.extend(
            text.match_indices(token)
                .map(|(s, t)| (s, s + t.len(), "redacted")),
        );
    }
    for (s, e, n) in digit_runs(text) {
        let amount = text[e..].trim_start().starts_with(['円', '万', '億']);
        if n >= FLAG_DIGITS && !amount {
            found.push((s, e, "digits"));
        }
    }
    for phrase in ["と申します", "といいます", "と言います", "と申す"] {
        for (s, p) in text.match_indices(phrase) {
            if !text[..s].ends_with(NAME) {
                found.push((s, s + p.len(), "self_introduction"));
            }
        }
    }
    found.sort_unstable_by_key(|&(s, e, _)| (s, e));
    found.dedup_by(|b, a| a.0 == b.0 && a.2 == b.2);
    found
        .into_iter()
        .map(|(s, e, kind)| Flag {
            kind: kind.to_string(),
            excerpt: excerpt(text, s, e),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::redact;
    use super::*;

    fn kinds(text: &str) -> Vec<String> {
        flags(text).into_iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_clean_faq_has_no_flags() {
        for t in [
            "国民健康保険の保険証は区役所の保険年金課で再発行します。手数料は3,000円です。",
            "受付は令和6年4月1日から、9:00〜17:00です。第12条第3項をご覧ください。",
            "補助金は1,200,000円まで、または120万円までです。",
        ] {
            assert_eq!(kinds(t), Vec::<String>::new(), "{t}");
        }
    }

    #[test]
    fn redaction_tokens_are_flagged_with_their_context() {
        let t = redact("山田太郎と申します。保険証をなくしました。");
        let f = flags(&t);
        assert_eq!(f.len(), 1, "{t} {f:?}");
        assert_eq!(f[0].kind, "redacted");
        assert!(f[0].excerpt.starts_with("[氏名]と申します"), "{f:?}");
    }

    #[test]
    fn what_the_rules_missed_is_flagged() {
        // A name in hiragana, and digits in a form no rule knows.
        assert_eq!(kinds("やまだたろうと申します"), ["self_introduction"]);
        assert_eq!(kinds("受付は 12 34 56 で確認"), ["digits"]);
        assert_eq!(kinds("整理１２３４５６７の件"), ["digits"]);
        assert_eq!(kinds("12345の件"), Vec::<String>::new());
    }

    #[test]
    fn excerpts_stay_on_char_boundaries() {
        let t = format!("{}1234567{}", "あ".repeat(20), "い".repeat(20));
        let f = flags(&t);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].excerpt.chars().count(), 7 + 2 * CONTEXT);
    }
}
