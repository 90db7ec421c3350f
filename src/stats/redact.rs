//! Personal-data redaction of queries and inquiry summaries before they are stored.
//!
//! Replaced, in this order: e-mail addresses (`[メール]`), 12-digit individual numbers
//! (マイナンバー, `[個人番号]`), phone and FAX numbers (`[電話番号]`), postal codes
//! (`[郵便番号]`) and street numbers (番地: `１丁目３番２０号`, `1-3-20`, `[番地]`). The
//! prefecture, city, ward and town names are kept: they say where a question comes from
//! without saying who asked it.
//!
//! Matching runs on a copy with full-width digits, letters and dashes folded to ASCII
//! (`０９０－１２３４－５６７８` → `090-1234-5678`), one character for one character, so
//! that the spans found map back onto the original text, which is otherwise kept as typed.

use std::sync::LazyLock;

use regex::Regex;

/// Token replacing an e-mail address.
pub const EMAIL: &str = "[メール]";
/// Token replacing a 12-digit individual number (マイナンバー).
pub const MY_NUMBER: &str = "[個人番号]";
/// Token replacing a phone or FAX number.
pub const PHONE: &str = "[電話番号]";
/// Token replacing a postal code.
pub const POSTAL_CODE: &str = "[郵便番号]";
/// Token replacing a street number (番地, 号, 号室).
pub const STREET_NUMBER: &str = "[番地]";

struct Rule {
    re: Regex,
    token: &'static str,
    /// Capture group holding the span to replace (0: the whole match).
    group: usize,
    /// The span must not touch a digit on either side.
    digit_bounded: bool,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |pat: &str, token, group, digit_bounded| Rule {
        re: Regex::new(pat).unwrap_or_else(|e| panic!("redaction pattern {pat:?}: {e}")),
        token,
        group,
        digit_bounded,
    };
    vec![
        rule(
            r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+",
            EMAIL,
            0,
            false,
        ),
        // 12 digits, optionally grouped 4-4-4.
        rule(r"[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}", MY_NUMBER, 0, true),
        // Phone and FAX: 06-6941-0351, 090-1234-5678, (06)6941-0351, 0669410351, +81-6-….
        rule(
            r"(?:\+81[- ]?[1-9][0-9]{0,3}|\(0[0-9]{1,4}\)|0[0-9]{1,4})[- ]?[0-9]{1,4}[- ]?[0-9]{3,4}",
            PHONE,
            0,
            true,
        ),
        rule(
            r"〒 ?[0-9]{3}-?[0-9]{4}|[0-9]{3}-[0-9]{4}",
            POSTAL_CODE,
            0,
            true,
        ),
        // 1丁目3番20号, 一丁目3番地の2, 3番20号, 101号室.
        rule(
            r"[0-9一二三四五六七八九十〇]+丁目(?:[0-9]+番地?(?:の?[0-9]+号?)?)?(?:[0-9]+号室?)?|[0-9]+番地?(?:の?[0-9]+号?)?|[0-9]+号室",
            STREET_NUMBER,
            0,
            false,
        ),
        // 中之島1-3-20: digits with dashes right after a place name.
        rule(
            r"[\p{Han}\p{Hiragana}\p{Katakana}]([0-9]{1,4}(?:-[0-9]{1,4}){1,3}号?)",
            STREET_NUMBER,
            1,
            true,
        ),
    ]
});

/// Folds one character for matching: full-width ASCII to ASCII, dashes and long vowel
/// marks between digits to `-`, ideographic space to space.
fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | 'ｰ' | 'ー' => '-',
        _ => c,
    }
}

/// Returns `text` with personal data replaced by tokens (see the module documentation).
pub fn redact(text: &str) -> String {
    // The folded copy and, for each of its characters, the byte offset in both strings.
    let mut folded = String::with_capacity(text.len());
    let mut map: Vec<(usize, usize)> = Vec::with_capacity(text.len() + 1);
    for (orig, c) in text.char_indices() {
        map.push((folded.len(), orig));
        folded.push(fold(c));
    }
    map.push((folded.len(), text.len()));
    let to_orig = |folded_byte: usize| -> usize {
        match map.binary_search_by_key(&folded_byte, |&(f, _)| f) {
            Ok(i) => map[i].1,
            Err(i) => map[i.min(map.len() - 1)].1,
        }
    };
    // Spans to replace, in folded offsets; earlier rules win over later overlapping ones.
    let mut spans: Vec<(usize, usize, &'static str)> = Vec::new();
    let is_digit_at = |i: usize| {
        folded[i..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    };
    let digit_before = |i: usize| {
        folded[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_digit())
    };
    for rule in RULES.iter() {
        for caps in rule.re.captures_iter(&folded) {
            let Some(m) = caps.get(rule.group) else {
                continue;
            };
            let (s, e) = (m.start(), m.end());
            if rule.digit_bounded && (digit_before(s) || is_digit_at(e)) {
                continue;
            }
            if spans.iter().any(|&(a, b, _)| s < b && a < e) {
                continue;
            }
            spans.push((s, e, rule.token));
        }
    }
    spans.sort_unstable_by_key(|&(s, _, _)| s);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e, token) in spans {
        let (os, oe) = (to_orig(s), to_orig(e));
        out.push_str(&text[last..os]);
        out.push_str(token);
        last = oe;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_realistic_inquiries() {
        let cases = [
            (
                "携帯０９０－１２３４－５６７８に折り返し希望",
                "携帯[電話番号]に折り返し希望",
            ),
            ("FAX 06-6941-0351 へ送付済み", "FAX [電話番号] へ送付済み"),
            ("(06)6941-0351まで", "[電話番号]まで"),
            ("自宅は0669410351です", "自宅は[電話番号]です"),
            (
                "連絡先 taro.yamada@example.co.jp まで",
                "連絡先 [メール] まで",
            ),
            ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "[メール]"),
            (
                "マイナンバー１２３４ ５６７８ ９０１２を伝えた",
                "マイナンバー[個人番号]を伝えた",
            ),
            ("個人番号123456789012", "個人番号[個人番号]"),
            (
                "〒５３０－０００１　大阪市北区梅田１丁目",
                "[郵便番号]　大阪市北区梅田[番地]",
            ),
            (
                "大阪市北区中之島１丁目３番２０号に住んでいる",
                "大阪市北区中之島[番地]に住んでいる",
            ),
            ("堺市堺区南瓦町3番1号", "堺市堺区南瓦町[番地]"),
            ("中之島1-3-20の件", "中之島[番地]の件"),
            ("豊中市中桜塚3-1-1 101号室", "豊中市中桜塚[番地] [番地]"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input {input:?}");
        }
    }

    #[test]
    fn keeps_text_without_personal_data() {
        for s in [
            "国民健康保険の保険料を知りたい",
            "令和8年度の児童手当",
            "粗大ごみは何曜日？",
            "2026年4月1日から",
            "第3子の保育料",
            "",
        ] {
            assert_eq!(redact(s), s);
        }
    }

    #[test]
    fn does_not_cut_longer_digit_runs() {
        // 13 digits: neither a phone number nor an individual number; left alone.
        assert_eq!(redact("受付番号1234567890123"), "受付番号1234567890123");
    }
}
