//! Character filters with an offset map back to the original text.
//!
//! [`normalize`] applies, per character: Unicode NFKC (full-width ASCII → ASCII, half-width
//! kana → full-width, ① → 1; half-width voiced marks are composed with the preceding kana as
//! full NFKC would), ASCII lowercasing, a dash and wave-dash table (‐ ‑ ‒ – — ― − － → `-`,
//! 〜 ～ ∼ → `~`) and a table of old/variant kanji common in names and official text
//! (髙→高, 﨑→崎, 國→国 …). Accent folding is deliberately absent: it would merge パ/バ/ハ.
//!
//! The result keeps, for each output byte, the byte span of the input character it came
//! from, so token offsets found in normalized text map back to the original text exactly
//! (for `<mark>` snippets).

use unicode_normalization::UnicodeNormalization;

/// Text after the character filters, with the map back to the original byte offsets.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    /// The normalized text.
    pub text: String,
    /// For each byte of `text`, the start byte of the original character it came from.
    orig_start: Vec<u32>,
    /// For each byte of `text`, the end byte of the original character it came from.
    orig_end: Vec<u32>,
}

impl Normalized {
    /// Maps the normalized byte range `start..end` back to a byte range of the original text.
    /// Returns `None` for an empty or out-of-range span.
    pub fn original_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end || end > self.text.len() {
            return None;
        }
        Some((
            self.orig_start[start] as usize,
            self.orig_end[end - 1] as usize,
        ))
    }
}

/// Maps old-form (旧字体) and variant kanji to the forms used in current official text.
/// Source: the 常用漢字表 (2010) 康熙字典体 column for the common ones, plus the variant forms
/// most common in names (髙, 﨑, 德, 瀨).
pub fn fold_variant_kanji(c: char) -> char {
    match c {
        '髙' => '高',
        '﨑' | '嵜' => '崎',
        '德' => '徳',
        '瀨' => '瀬',
        '國' => '国',
        '學' => '学',
        '廣' => '広',
        '櫻' => '桜',
        '萬' => '万',
        '與' => '与',
        '會' => '会',
        '縣' => '県',
        '圖' => '図',
        '區' => '区',
        '廳' | '廰' => '庁',
        '證' => '証',
        '號' => '号',
        '驛' => '駅',
        '氣' => '気',
        '體' => '体',
        '發' => '発',
        '當' => '当',
        '舊' => '旧',
        '戰' => '戦',
        '實' => '実',
        '寶' => '宝',
        '惠' => '恵',
        '眞' => '真',
        '兒' => '児',
        '團' => '団',
        '圓' => '円',
        '醫' => '医',
        '藝' => '芸',
        '禮' => '礼',
        '來' => '来',
        '黑' => '黒',
        '靜' => '静',
        '賣' => '売',
        '讀' => '読',
        '聽' => '聴',
        '應' => '応',
        '藏' => '蔵',
        '傳' => '伝',
        '邊' | '邉' => '辺',
        '澤' => '沢',
        '濱' => '浜',
        '齋' | '齊' => '斎',
        '淺' => '浅',
        '彌' => '弥',
        '龍' => '竜',
        '壽' => '寿',
        '榮' => '栄',
        '險' => '険',
        '檢' => '検',
        '擧' => '挙',
        '雜' => '雑',
        '稅' => '税',
        '緣' => '縁',
        '黃' => '黄',
        '祿' => '禄',
        '條' => '条',
        '價' => '価',
        '辯' | '辨' | '瓣' => '弁',
        '豫' => '予',
        '變' => '変',
        '屆' => '届',
        '勞' => '労',
        '兩' => '両',
        '乘' => '乗',
        '惡' => '悪',
        '壓' => '圧',
        '圍' => '囲',
        '營' => '営',
        '衞' => '衛',
        '鐵' => '鉄',
        '廢' => '廃',
        '拂' => '払',
        '佛' => '仏',
        '册' => '冊',
        '收' => '収',
        '處' => '処',
        '狀' => '状',
        '眾' => '衆',
        '專' => '専',
        '戶' => '戸',
        '步' => '歩',
        '歲' => '歳',
        '淸' => '清',
        '靑' => '青',
        _ => c,
    }
}

/// Maps dash and wave-dash variants to `-` and `~` (JIS X 0208 / Windows-31J confusions).
fn fold_dash(c: char) -> char {
    match c {
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' | '\u{FF0D}' | '\u{FE63}' => '-',
        '\u{301C}' | '\u{FF5E}' | '\u{223C}' | '\u{02DC}' => '~',
        _ => c,
    }
}

/// Applies the character filters to `input` (see the module docs).
///
/// Control characters are replaced by a space; the output never contains them.
pub fn normalize(input: &str) -> Normalized {
    let mut out = Normalized {
        text: String::with_capacity(input.len() + 8),
        orig_start: Vec::with_capacity(input.len() + 8),
        orig_end: Vec::with_capacity(input.len() + 8),
    };
    let mut buf = [0u8; 4];
    for (pos, c) in input.char_indices() {
        let end = pos + c.len_utf8();
        let mut push = |out: &mut Normalized, ch: char| {
            let s = ch.encode_utf8(&mut buf);
            // A half-width voiced mark composes with the preceding kana (ｶﾞ → ガ).
            if (ch == '\u{3099}' || ch == '\u{309A}')
                && let Some(prev) = out.text.chars().next_back()
                && let Some(composed) = unicode_normalization::char::compose(prev, ch)
            {
                let prev_len = prev.len_utf8();
                let prev_start = out.text.len() - prev_len;
                let start_orig = out.orig_start[prev_start];
                out.text.truncate(prev_start);
                out.orig_start.truncate(prev_start);
                out.orig_end.truncate(prev_start);
                let mut b2 = [0u8; 4];
                let s2 = composed.encode_utf8(&mut b2);
                out.text.push_str(s2);
                for _ in 0..s2.len() {
                    out.orig_start.push(start_orig);
                    out.orig_end.push(end as u32);
                }
                return;
            }
            out.text.push_str(s);
            for _ in 0..s.len() {
                out.orig_start.push(pos as u32);
                out.orig_end.push(end as u32);
            }
        };
        if c.is_ascii() {
            let ch = if c.is_ascii_control() {
                ' '
            } else {
                c.to_ascii_lowercase()
            };
            push(&mut out, ch);
            continue;
        }
        if c.is_control() {
            push(&mut out, ' ');
            continue;
        }
        // Fast path: hiragana, katakana (not the half-width forms), CJK unified ideographs
        // and 、。 are NFKC-invariant and in no table below.
        if matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | 'ー' | '、' | '。')
            || (matches!(c, '\u{4E00}'..='\u{9FFF}') && fold_variant_kanji(c) == c)
        {
            push(&mut out, c);
            continue;
        }
        let c0 = fold_variant_kanji(fold_dash(c));
        for n in std::iter::once(c0).nfkc() {
            let n = fold_dash(n);
            let n = if n.is_ascii_uppercase() {
                n.to_ascii_lowercase()
            } else if n.is_control() {
                ' '
            } else {
                n
            };
            push(&mut out, n);
        }
    }
    out
}

/// Folds katakana to hiragana (ァ..ヶ → ぁ..ゖ, ヽヾ → ゝゞ); other characters unchanged.
pub fn katakana_to_hiragana(c: char) -> char {
    match c {
        '\u{30A1}'..='\u{30F6}' | '\u{30FD}' | '\u{30FE}' => {
            char::from_u32(c as u32 - 0x60).unwrap_or(c)
        }
        _ => c,
    }
}

/// Returns whether `c` is a kana (hiragana, katakana or the long-vowel mark ー).
pub fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}')
}

/// Returns whether `c` is a CJK ideograph (or the iteration mark 々, 〆, 〇).
pub fn is_ideograph(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FFFF}' | '々' | '〆' | '〇' | 'ヶ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfkc_width_and_case() {
        let n = normalize("ＡＢＣ１２３ ｶﾞｲﾄﾞ ①");
        assert_eq!(n.text, "abc123 ガイド 1");
    }

    #[test]
    fn offsets_map_back_through_width_changes() {
        let src = "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞの申請";
        let n = normalize(src);
        assert_eq!(n.text, "マイナンバーカードの申請");
        let start = n.text.find("申請").unwrap();
        let (a, b) = n.original_span(start, start + "申請".len()).unwrap();
        assert_eq!(&src[a..b], "申請");
        let (a, b) = n.original_span(0, "マイナンバー".len()).unwrap();
        assert_eq!(&src[a..b], "ﾏｲﾅﾝﾊﾞｰ");
    }

    #[test]
    fn dashes_waves_and_old_kanji() {
        assert_eq!(normalize("０９９－１２３‐４５６７").text, "099-123-4567");
        assert_eq!(normalize("9時〜17時").text, "9時~17時");
        assert_eq!(normalize("髙橋 國民健康保險").text, "高橋 国民健康保険");
    }

    #[test]
    fn controls_become_spaces() {
        assert_eq!(normalize("a\u{0}b\u{7}c\u{85}").text, "a b c ");
    }

    #[test]
    fn kana_folding() {
        let s: String = "マイナンバーヴ".chars().map(katakana_to_hiragana).collect();
        assert_eq!(s, "まいなんばーゔ");
    }
}
