//! Personal-data redaction of queries, inquiry summaries and department answers before they
//! are stored.
//!
//! # What is replaced
//!
//! | class | token | forms caught |
//! |---|---|---|
//! | e-mail | `[メール]` | `a@b.jp`, `＠`, `(at)`, `[at]`, `アットマーク`, spaces around `@`/`.`, Japanese (IDN) domains `info@大阪.jp` |
//! | マイナンバー | `[個人番号]` | 12 digits, any grouping (`-`, `.`, `/`, one or more spaces), kanji digits, or any number after `マイナンバー`/`個人番号` |
//! | card numbers | `[カード番号]` | 14–19 digits (13 when grouped and Luhn-valid), or any number after `カード番号`; the whole number, no last four digits kept |
//! | 基礎年金番号 | `[年金番号]` | `1234-567890`, or any number after `基礎年金番号`/`年金番号` |
//! | other labelled numbers | `[番号]` | a number after `記号`, `番号`, `被保険者番号`, `保険証の記号`, `受給者番号`, `口座番号`, … (保険証 記号・番号) |
//! | phone, FAX | `[電話番号]` | 10/11 digits starting with 0 in every written form (`06(6941)0351`, `(06)6941-0351`, `090.1234.5678`, `090/1234/5678`, `090 1234 5678`), `+81(0)90-…`, `+81-6-…`; 6–11 digits after a phone cue (`電話`, `TEL`, `携帯`, `FAX`, `連絡先`, …) |
//! | postal code | `[郵便番号]` | `〒530-0001`, `〒5300001`, `530-0001`, `郵便番号5300001`, 7 digits before a prefecture/city name |
//! | street and room numbers | `[番地]` | `1丁目3番20号`, `三丁目5-12`, `3番1号`, `12番地の3`, `1-3-20` after a place name, `101号室`, `305室`, `ハイツ青葉 201` |
//! | dates of birth | `[生年月日]` | a date with a year (`昭和50年1月1日`, `S50.1.1`, `1975/01/01`, `平成元年`) next to a birth cue (`生まれ`, `生`, `誕生`, `生年月日`, `誕生日`, `DOB`) |
//! | names | `[氏名]` | a kanji, katakana or romaji name before `と申します`/`といいます`, before an honorific (`様`, `さん`, `氏`, `殿`, `くん`, `ちゃん`, `先生`), after `私は`/`こちらは` before `です`, after a label (`氏名`, `名前`, `フリガナ`, `Name:`, `My name is`, `Mr.`), with a following reading in brackets (`山田太郎（ヤマダタロウ）`) |
//!
//! Kept: prefecture, city, ward and town names (where a question comes from, not who asked),
//! fees (`3,000円`), dates without a birth cue (`4月1日から受付`, `令和6年度`), law articles
//! (`第12条第3項`), times (`9:00〜17:00`), counts, `3番窓口`.
//!
//! # Policy on public numbers
//!
//! A phone number is redacted whoever it belongs to: a question may hold a department's
//! published number as well as a caller's, and the redactor cannot tell them apart from the
//! text. Losing a public number from a statistic costs nothing (the number is published);
//! keeping a caller's number would break the centers' rule. The same holds for a labelled
//! number (`受付番号`, `番号`): it is an identifier that leads to a person or a case.
//!
//! # How
//!
//! Matching runs on a normalised copy, one character for one character, so that the spans
//! found map back onto the original text, which is otherwise kept as typed: full-width ASCII
//! to ASCII (`０６（６９４１）` → `06(6941)`), the ideographic space to a space, kanji digits
//! written positionally (`〇九〇`, at least two in a row) to ASCII digits, dashes (and `ー`
//! next to a digit) to `-`, `・` between digits to `.`. Rules run in a fixed order (e-mail,
//! labelled numbers, dates of birth, postal codes, digit runs, street numbers, names); a span
//! overlapping one found earlier is skipped. Digit runs (digits joined by `-`, `.`, `/`,
//! spaces or brackets, one kind of separator per run) are classified by their digit count
//! and grouping rather than by one pattern per written form.

use std::sync::LazyLock;

use regex::Regex;

pub mod flags;
#[cfg(test)]
mod tests;

/// Token replacing an e-mail address.
pub const EMAIL: &str = "[メール]";
/// Token replacing a 12-digit individual number (マイナンバー).
pub const MY_NUMBER: &str = "[個人番号]";
/// Token replacing a phone or FAX number.
pub const PHONE: &str = "[電話番号]";
/// Token replacing a postal code.
pub const POSTAL_CODE: &str = "[郵便番号]";
/// Token replacing a street or room number (番地, 号, 号室).
pub const STREET_NUMBER: &str = "[番地]";
/// Token replacing a person's name.
pub const NAME: &str = "[氏名]";
/// Token replacing a date of birth.
pub const BIRTH_DATE: &str = "[生年月日]";
/// Token replacing a basic pension number (基礎年金番号).
pub const PENSION_NUMBER: &str = "[年金番号]";
/// Token replacing a credit or cash card number.
pub const CARD_NUMBER: &str = "[カード番号]";
/// Token replacing another labelled number (保険証の記号・番号, 受給者番号, 口座番号, …).
pub const ID_NUMBER: &str = "[番号]";

/// Every token the redactor writes.
pub const TOKENS: [&str; 10] = [
    EMAIL,
    MY_NUMBER,
    PHONE,
    POSTAL_CODE,
    STREET_NUMBER,
    NAME,
    BIRTH_DATE,
    PENSION_NUMBER,
    CARD_NUMBER,
    ID_NUMBER,
];

fn re(pat: &str) -> Regex {
    Regex::new(pat).unwrap_or_else(|e| panic!("redaction pattern {pat:?}: {e}"))
}

const KANJI_DIGITS: &str = "〇一二三四五六七八九";

fn kanji_digit(c: char) -> Option<char> {
    KANJI_DIGITS
        .chars()
        .position(|k| k == c)
        .and_then(|i| char::from_digit(i as u32, 10))
}

/// The normalised copy of a text and, for each of its characters, the byte offsets in both.
struct Folded {
    text: String,
    map: Vec<(usize, usize)>,
}

impl Folded {
    fn new(text: &str) -> Self {
        let orig: Vec<(usize, char)> = text.char_indices().collect();
        let mut cs: Vec<char> = orig
            .iter()
            .map(|&(_, c)| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '\u{3000}' => ' ',
                '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | '﹣' => '-',
                _ => c,
            })
            .collect();
        // Kanji digits written positionally: runs (through separators) with two or more.
        let is_sep = |c: char| matches!(c, '-' | '.' | ' ' | '(' | ')' | '・' | 'ー' | 'ｰ' | '/');
        let mut i = 0;
        while i < cs.len() {
            if kanji_digit(cs[i]).is_none() {
                i += 1;
                continue;
            }
            let mut j = i;
            let mut n = 0;
            while j < cs.len() && (kanji_digit(cs[j]).is_some() || is_sep(cs[j])) {
                n += usize::from(kanji_digit(cs[j]).is_some());
                j += 1;
            }
            if n >= 2 {
                for c in &mut cs[i..j] {
                    if let Some(d) = kanji_digit(*c) {
                        *c = d;
                    }
                }
            }
            i = j;
        }
        // Long vowel marks next to a digit are dashes; `・` between digits is a dot.
        for i in 0..cs.len() {
            let before = i > 0 && cs[i - 1].is_ascii_digit();
            let after = cs.get(i + 1).is_some_and(char::is_ascii_digit);
            match cs[i] {
                'ー' | 'ｰ' if before || after => cs[i] = '-',
                '・' if before && after => cs[i] = '.',
                _ => {}
            }
        }
        let mut folded = String::with_capacity(text.len());
        let mut map = Vec::with_capacity(cs.len() + 1);
        for (&(o, _), &c) in orig.iter().zip(&cs) {
            map.push((folded.len(), o));
            folded.push(c);
        }
        map.push((folded.len(), text.len()));
        Self { text: folded, map }
    }

    fn to_orig(&self, folded_byte: usize) -> usize {
        match self.map.binary_search_by_key(&folded_byte, |&(f, _)| f) {
            Ok(i) => self.map[i].1,
            Err(i) => self.map[i.min(self.map.len() - 1)].1,
        }
    }
}

/// Spans to replace, in folded byte offsets; a span overlapping an earlier one is refused.
#[derive(Default)]
struct Spans(Vec<(usize, usize, &'static str)>);

impl Spans {
    fn claim(&mut self, s: usize, e: usize, token: &'static str) -> bool {
        if s >= e || self.0.iter().any(|&(a, b, _)| s < b && a < e) {
            return false;
        }
        self.0.push((s, e, token));
        true
    }
}

fn prev_char(t: &str, i: usize) -> Option<char> {
    t[..i].chars().next_back()
}

fn next_char(t: &str, i: usize) -> Option<char> {
    t[i..].chars().next()
}

fn digit_bounded(t: &str, s: usize, e: usize) -> bool {
    !prev_char(t, s).is_some_and(|c| c.is_ascii_digit())
        && !next_char(t, e).is_some_and(|c| c.is_ascii_digit())
}

/// Returns `text` with personal data replaced by tokens (see the module documentation).
pub fn redact(text: &str) -> String {
    let f = Folded::new(text);
    let t = f.text.as_str();
    let mut spans = Spans::default();
    emails(t, &mut spans);
    labelled_numbers(t, &mut spans);
    birth_dates(t, &mut spans);
    postal_codes(t, &mut spans);
    digit_runs(t, &mut spans);
    street_numbers(t, &mut spans);
    names(t, &mut spans);
    let mut spans = spans.0;
    spans.sort_unstable_by_key(|&(s, _, _)| s);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e, token) in spans {
        let (os, oe) = (f.to_orig(s), f.to_orig(e));
        out.push_str(&text[last..os]);
        out.push_str(token);
        last = oe;
    }
    out.push_str(&text[last..]);
    out
}

fn emails(t: &str, spans: &mut Spans) {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        let label = r"[A-Za-z0-9\-\p{Han}\p{Hiragana}\p{Katakana}ー]+";
        let dot = r"\s?(?:\.|(?i:\(dot\)|\[dot\])|ドット)\s?";
        let tld = r"(?:[A-Za-z]{2,}|日本|みんな|コム|テスト)";
        re(&format!(
            r"[A-Za-z0-9._%+\-]+\s*(?:@|(?i:\(at\)|\[at\]|<at>|\s+at\s+)|アットマーク|\(アット\))\s*{label}(?:{dot}{label})*{dot}{tld}"
        ))
    });
    for m in RE.find_iter(t) {
        spans.claim(m.start(), m.end(), EMAIL);
    }
}

/// A number after its label: `基礎年金番号 1234-567890`, `記号12 番号345`, `カード番号…`.
fn labelled_numbers(t: &str, spans: &mut Spans) {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        re(concat!(
            r"(?P<label>基礎年金番号|年金番号|年金手帳の?番号",
            r"|マイナンバー(?:カード)?の?(?:番号)?|個人番号",
            r"|(?:クレジット|キャッシュ|デビット)?カードの?(?:番号|No\.?)",
            r"|被保険者証?番号|保険者番号|保険証の?(?:記号|番号)|記号(?:・番号)?|番号|枝番|口座番号)",
            r"[はがの:=\s]{0,3}",
            r"(?P<value>[A-Za-z0-9][A-Za-z0-9\-./ ]*[0-9]|[0-9])",
        ))
    });
    for caps in RE.captures_iter(t) {
        let (Some(label), Some(v)) = (caps.name("label"), caps.name("value")) else {
            continue;
        };
        let l = label.as_str();
        let digits = v.as_str().chars().filter(char::is_ascii_digit).count();
        // `電話番号`, `郵便番号`: left to the phone and postal-code rules.
        if l == "番号"
            && [
                "電話",
                "携帯",
                "FAX",
                "ファックス",
                "ファクス",
                "郵便",
                "個人",
            ]
            .iter()
            .any(|p| t[..label.start()].ends_with(p))
        {
            continue;
        }
        if digits < 3 || !digit_bounded(t, v.start(), v.end()) {
            continue;
        }
        let token = if l.contains("年金") {
            PENSION_NUMBER
        } else if l.contains("マイナンバー") || l == "個人番号" {
            MY_NUMBER
        } else if l.contains("カード") {
            CARD_NUMBER
        } else {
            ID_NUMBER
        };
        spans.claim(v.start(), v.end(), token);
    }
}

const KANJI_NUM: &str = "[0-9一二三四五六七八九十〇]";

fn birth_dates(t: &str, spans: &mut Spans) {
    static DATE: LazyLock<String> = LazyLock::new(|| {
        let n = KANJI_NUM;
        let md = format!(r"{n}{{1,3}}\s?月(?:\s?{n}{{1,3}}\s?日)?");
        let era = r"(?:明治|大正|昭和|平成|令和|(?i:[mtshr])\.?)";
        let era_date = format!(
            r"{era}\s?(?:{n}{{1,3}}|元)\s?(?:年\s?(?:{md})?|[./\-][0-9]{{1,2}}[./\-][0-9]{{1,2}})"
        );
        let west = format!(
            r"(?:19|20)[0-9]{{2}}\s?(?:年\s?(?:{md})?|[./\-][0-9]{{1,2}}(?:[./\-][0-9]{{1,2}})?)"
        );
        format!("(?:{era_date}|{west})")
    });
    static AFTER: LazyLock<Regex> = LazyLock::new(|| {
        re(&format!(
            r"(?P<date>{})\s?(?:に|の)?\s?(?:生まれ|産まれ|うまれ|生れ|誕生|出生|生)",
            *DATE
        ))
    });
    static BEFORE: LazyLock<Regex> = LazyLock::new(|| {
        let n = KANJI_NUM;
        re(&format!(
            r"(?:生年月日|誕生日|生まれ(?:は|た日)?|出生日|(?i:DOB|D\.O\.B\.?|date of birth|birthday|born(?: on| in)?))[\s:はがの]*(?P<date>{}|{n}{{1,2}}\s?月\s?{n}{{1,2}}\s?日|[0-9]{{1,2}}/[0-9]{{1,2}})",
            *DATE
        ))
    });
    for caps in AFTER.captures_iter(t) {
        let (Some(m), Some(all)) = (caps.name("date"), caps.get(0)) else {
            continue;
        };
        // `生` alone must end a word: not `生活`, `生徒`, `生き`, `生じ`.
        if all.as_str().ends_with('生')
            && !all.as_str().ends_with("出生")
            && next_char(t, all.end())
                .is_some_and(|c| is_han(c) || matches!(c, 'き' | 'じ' | 'け' | 'か'))
        {
            continue;
        }
        // The end of a range (`平成23年4月2日～平成24年4月1日生まれ`) states who is
        // eligible, not someone's birthday.
        let head = t[..m.start()].trim_end();
        if ["～", "〜", "~", "から", "-", "から、"]
            .iter()
            .any(|p| head.ends_with(p))
        {
            continue;
        }
        if digit_bounded(t, m.start(), m.end()) {
            spans.claim(m.start(), m.end(), BIRTH_DATE);
        }
    }
    for caps in BEFORE.captures_iter(t) {
        if let Some(m) = caps.name("date")
            && digit_bounded(t, m.start(), m.end())
        {
            spans.claim(m.start(), m.end(), BIRTH_DATE);
        }
    }
}

fn postal_codes(t: &str, spans: &mut Spans) {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        re(concat!(
            r"(?P<a>〒\s?[0-9]{3}\s?-?\s?[0-9]{4})",
            r"|郵便番号[\s:はが]*(?P<b>[0-9]{3}\s?-?\s?[0-9]{4})",
            r"|(?P<c>[0-9]{3}-?[0-9]{4})\s?\p{Han}{1,5}?[都道府県市区町村郡]",
        ))
    });
    for caps in RE.captures_iter(t) {
        if let Some(m) = caps.name("a").or(caps.name("b")).or(caps.name("c"))
            && digit_bounded(t, m.start(), m.end())
        {
            spans.claim(m.start(), m.end(), POSTAL_CODE);
        }
    }
}

/// Words just before a number that make it a phone number.
const PHONE_CUES: [&str; 14] = [
    "電話",
    "TEL",
    "Tel",
    "tel",
    "携帯",
    "ケータイ",
    "連絡先",
    "FAX",
    "Fax",
    "fax",
    "ファクス",
    "ファックス",
    "℡",
    "折り返し",
];

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Digits joined by separators, classified by digit count and grouping.
fn digit_runs(t: &str, spans: &mut Spans) {
    let cs: Vec<(usize, char)> = t.char_indices().collect();
    let end_of = |k: usize| cs.get(k).map_or(t.len(), |&(b, _)| b);
    let digit = |k: usize| cs.get(k).is_some_and(|&(_, c)| c.is_ascii_digit());
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i].1;
        let opens = (c == '+' || c == '(') && digit(i + 1);
        if !(c.is_ascii_digit() || opens) || (i > 0 && digit(i - 1)) {
            i += 1;
            continue;
        }
        // Decimals (`1.5`) and the digits after a letter-and-dot (`S50.1.1`) start no run.
        let plus = c == '+';
        let mut j = if opens { i + 1 } else { i };
        let mut groups: Vec<usize> = Vec::new();
        let mut digits: Vec<u8> = Vec::new();
        let mut kind: Option<char> = None;
        let mut last_digit_end;
        let mut first_group_end = None;
        let mut consistent = true;
        loop {
            let g0 = j;
            while digit(j) {
                digits.push(cs[j].1 as u8 - b'0');
                j += 1;
            }
            groups.push(j - g0);
            first_group_end.get_or_insert(j);
            last_digit_end = j;
            // A separator: 1–3 characters of `-./ ()`, then a digit.
            let s0 = j;
            while j < cs.len() && j - s0 < 3 && matches!(cs[j].1, '-' | '.' | '/' | ' ' | '(' | ')')
            {
                j += 1;
            }
            if j == s0 || !digit(j) {
                break;
            }
            let sep: String = cs[s0..j].iter().map(|&(_, c)| c).collect();
            let k = if sep.contains('-') {
                '-'
            } else if sep.contains('.') {
                '.'
            } else if sep.contains('/') {
                '/'
            } else if sep.contains('(') || sep.contains(')') {
                'p'
            } else {
                ' '
            };
            if sep.chars().filter(|c| matches!(c, '-' | '.' | '/')).count() > 1 {
                consistent = false;
            }
            if k != 'p' {
                match kind {
                    None => kind = Some(k),
                    Some(k0) if k0 != k => consistent = false,
                    _ => {}
                }
            }
        }
        let (s, e) = (cs[i].0, end_of(last_digit_end));
        // Unless the run is redacted, the next try starts at its second group
        // (`問い合わせ0 06-6941-0351`: the phone number after a lone digit).
        let retry = first_group_end.unwrap_or(i + 1).max(i + 1);
        i = retry;
        if !consistent {
            continue;
        }
        // A number followed by a unit is a quantity (`…151円`, `12件`).
        if next_char(t, e).is_some_and(is_unit) {
            continue;
        }
        let n = digits.len();
        let before = &t[..s];
        let cue = PHONE_CUES.iter().any(|p| {
            before
                .char_indices()
                .rev()
                .nth(7)
                .map_or(before, |(b, _)| &before[b..])
                .contains(p)
        });
        let rest_81 = (plus && digits.starts_with(&[8, 1])).then(|| {
            let r = &digits[2..];
            if r.first() == Some(&0) { &r[1..] } else { r }
        });
        let token = if let Some(r) = rest_81 {
            (9..=10).contains(&r.len()).then_some(PHONE)
        } else if plus {
            None
        } else if digits[0] == 0 && (n == 10 || n == 11) {
            Some(PHONE)
        } else if n == 12 && groups.iter().all(|&g| g >= 3) {
            Some(MY_NUMBER)
        } else if ((14..=19).contains(&n) && (luhn(&digits) || groups.iter().all(|&g| g >= 4)))
            || (n == 13 && groups.len() > 1 && luhn(&digits))
        {
            Some(CARD_NUMBER)
        } else if groups == [4, 6] {
            Some(PENSION_NUMBER)
        } else if groups == [3, 4] && kind == Some('-') {
            Some(POSTAL_CODE)
        } else if cue && (6..=11).contains(&n) {
            Some(PHONE)
        } else {
            None
        };
        if let Some(token) = token
            && spans.claim(s, e, token)
        {
            i = last_digit_end.max(i);
        }
    }
}

/// Characters after a number that make it a quantity, not a street number.
fn is_unit(c: char) -> bool {
    "月日年時分秒回歳才階条項円人件個枚割倍週部名号線番冊頁ページ％%".contains(c)
}

fn street_numbers(t: &str, spans: &mut Spans) {
    static RES: LazyLock<Vec<(Regex, bool)>> = LazyLock::new(|| {
        vec![
            // 1丁目3番20号, 三丁目5-12, 一丁目3番地の2.
            (
                re(concat!(
                    r"(?P<n>[0-9一二三四五六七八九十〇]+丁目",
                    r"(?:[0-9]+(?:番地?の?|-)(?:[0-9]+(?:号|-)?)?(?:[0-9]+(?:号室?)?)?)?)",
                )),
                false,
            ),
            // 12番地の3, 3番1号, 3番地.
            (
                re(r"(?P<n>[0-9]+番地(?:の?[0-9]+号?)?|[0-9]+番[0-9]+号?(?:[0-9]+号?)?)"),
                false,
            ),
            // 中之島1-3-20, 中桜塚3-1-1 101.
            (
                re(concat!(
                    r"[\p{Han}\p{Hiragana}\p{Katakana}ー]",
                    r"(?P<n>[0-9]{1,4}(?:-[0-9]{1,4}){1,3}(?:号室?)?(?:\s[0-9]{2,4}(?:号室?)?)?)",
                )),
                true,
            ),
            (re(r"(?P<n>[0-9]+号室|[0-9]{2,4}室)"), false),
            // ハイツ青葉201, コーポ山田 3-201.
            (
                re(concat!(
                    r"(?:マンション|ハイツ|コーポ|アパート|レジデンス|ハイム|メゾン|パレス|コート",
                    r"|ヒルズ|ヴィラ|ビレッジ|荘|団地|住宅|棟)",
                    r"[\p{Katakana}\p{Han}ーA-Za-z]{0,10}\s?",
                    r"(?P<n>[0-9]{1,4}(?:-[0-9]{1,4})?(?:号室?|室)?)",
                )),
                true,
            ),
        ]
    });
    for (re, unit_check) in RES.iter() {
        for caps in re.captures_iter(t) {
            let Some(m) = caps.name("n") else { continue };
            if !digit_bounded(t, m.start(), m.end()) {
                continue;
            }
            if *unit_check && next_char(t, m.end()).is_some_and(is_unit) {
                continue;
            }
            spans.claim(m.start(), m.end(), STREET_NUMBER);
        }
    }
}

fn is_han(c: char) -> bool {
    matches!(c, '々' | 'ヶ' | '〆')
        || ('\u{4E00}'..='\u{9FFF}').contains(&c)
        || ('\u{3400}'..='\u{4DBF}').contains(&c)
        || ('\u{F900}'..='\u{FAFF}').contains(&c)
}

/// Last characters of a kanji word that make it a role, an institution or a thing rather
/// than a person's name (`相談者`, `職員`, `市民`, `課長`, `大阪市`, `保険料`).
const NOT_NAME_END: &str =
    "者員民婦長師士官医客嬢供達業局課係室所院園校社店区市県府都料金費税書証類度日月年時歳才様人";

/// Whole kanji or katakana words that take an honorific but are no names.
const NOT_NAMES: [&str; 73] = [
    "皆",
    "同",
    "各",
    "貴",
    "奥",
    "神",
    "仏",
    "王",
    "嫁",
    "婿",
    "姉",
    "兄",
    "妹",
    "弟",
    "母",
    "父",
    "孫",
    "子",
    "娘",
    "親",
    "妻",
    "夫",
    "息子",
    "旦那",
    "主人",
    "家族",
    "親御",
    "子供",
    "近所",
    "隣",
    "大家",
    "家主",
    "先方",
    "相手",
    "担当",
    "先生",
    "学生",
    "生徒",
    "赤",
    "ママ",
    "パパ",
    "ヘルパー",
    "ケアマネ",
    "ケアマネージャー",
    "ドクター",
    "スタッフ",
    "オーナー",
    "ドライバー",
    "ボランティア",
    "マネージャー",
    "メンバー",
    "ユーザー",
    "猫",
    "犬",
    "ワン",
    "ニャン",
    "何",
    "誰",
    "不明",
    "不要",
    "必要",
    "無料",
    "有料",
    "可能",
    "不可",
    "自由",
    "未定",
    "以上",
    "以下",
    "対象",
    "対象外",
    "予定",
    "同様",
];

/// Candidate name: kanji (optionally family and given name split by a space), katakana
/// (half- or full-width, optionally split by a space, `・` or `=`), or romaji.
const NAME_PAT: &str = concat!(
    r"(?:[\p{Han}々ヶ]{1,3} [\p{Han}々ヶ]{1,3}|[\p{Han}々ヶ]{1,6}",
    r"|[\p{Katakana}ーｰﾞﾟ]{2,10}(?:[ ・=][\p{Katakana}ーｰﾞﾟ]{2,10})?",
    r"|[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}|[A-Z]{2,}(?: [A-Z]{2,}){0,2})"
);

/// Narrows a candidate name to the part that can be a name; `None` when none can.
/// `大阪市北区山田` → `山田` (offsets within the candidate).
fn name_part(cand: &str) -> Option<(usize, usize)> {
    let mut s = 0;
    // After a space, a first part ending like a place or a role is dropped.
    if let Some(sp) = cand.find(' ') {
        let first = &cand[..sp];
        if first
            .chars()
            .next_back()
            .is_some_and(|c| NOT_NAME_END.contains(c))
        {
            s = sp + 1;
        }
    }
    // Without a space, a prefix of at least two kanji ending in a place or role character
    // is dropped when at least two characters remain.
    let body = &cand[s..];
    let chars: Vec<(usize, char)> = body.char_indices().collect();
    if chars.iter().all(|&(_, c)| is_han(c)) && chars.len() >= 4 {
        for k in (1..chars.len() - 2).rev() {
            // Not 町, 村, 道: 町田, 中村, 北村, 道下 are surnames.
            if "市区県府都課係局室".contains(chars[k].1) {
                s += chars[k + 1].0;
                break;
            }
        }
    }
    let name = &cand[s..];
    let last = name.chars().next_back()?;
    if NOT_NAMES.contains(&name) || (is_han(last) && NOT_NAME_END.contains(last)) {
        return None;
    }
    if ["学生", "先生", "校生", "院生", "年生"]
        .iter()
        .any(|w| name.ends_with(w))
    {
        return None;
    }
    Some((s, cand.len()))
}

fn names(t: &str, spans: &mut Spans) {
    static RES: LazyLock<Vec<(Regex, u8)>> = LazyLock::new(|| {
        let n = NAME_PAT;
        vec![
            // 0: name, then a humble self-introduction (申す is said of oneself only).
            (
                re(&format!(r"(?P<n>{n})\s?(?:と申し|ともうし|と申す|と名乗)")),
                0,
            ),
            // 0: self-reference, name, といいます (without one it defines a term:
            // `これを法定免除といいます`).
            (
                re(&format!(
                    r"(?:私|わたし|わたくし|僕|ぼく|こちら|当方)は?\s?(?P<n>{n})\s?(?:といいます|と言います)"
                )),
                0,
            ),
            // 1: name, then an honorific.
            (
                re(&format!(
                    r"(?P<n>{n})\s?(?P<h>様|さま|サマ|さん|サン|殿|氏|くん|君|ちゃん|先生)"
                )),
                1,
            ),
            // 2: self-reference, name, です.
            (
                re(&format!(
                    r"(?:私|わたし|わたくし|僕|ぼく|こちら|当方)は?\s?(?P<n>{n})\s?(?:です|でございます)"
                )),
                2,
            ),
            // 3: a summary opening with a name: `山田です。`
            (re(r"^\s?(?P<n>[\p{Han}々]{2,4})です[。、!！]"), 2),
            // 4: a label, then the name up to a boundary.
            (
                re(&format!(
                    r"(?:氏名|お名前|名前|フリガナ|ふりがな|(?i:name|my name is|i am|i'm)|Mr\.?|Ms\.?|Mrs\.?|Dr\.?)(?:は|:|=|\s)+(?P<n>{n})(?P<b>$|です|と申|[\s、。,.!！?？(])"
                )),
                4,
            ),
        ]
    });
    static READING: LazyLock<Regex> =
        LazyLock::new(|| re(r"^\s?\(\s?(?P<r>[\p{Katakana}\p{Hiragana}ーｰﾞﾟ ・]+?)\s?\)"));
    for (re, kind) in RES.iter() {
        for caps in re.captures_iter(t) {
            let Some(m) = caps.name("n") else { continue };
            let cand = m.as_str();
            // A one-kanji honorific glued to a following kanji is a word: 氏名, 様式, 君主.
            if let Some(h) = caps.name("h")
                && h.as_str().chars().count() == 1
                && next_char(t, h.end()).is_some_and(|c| is_han(c) && !matches!(c, '宛' | '方'))
            {
                continue;
            }
            // One kanji before 様 is a word: 模様, 多様, 仕様, 一様, `5名さま`; so are
            // 同様 and the like at the end of a longer run, and さまざま.
            if let Some(h) = caps.name("h")
                && matches!(h.as_str(), "様" | "さま")
                && ((cand.chars().count() == 1 && cand.chars().all(is_han))
                    || cand.ends_with(['同', '模', '多', '仕', '異', '一'])
                    || t[h.end()..].starts_with("ざま"))
            {
                continue;
            }
            // `さんさん`: a repeated honorific is a word (燦々), not an honorific.
            if let Some(h) = caps.name("h")
                && t[h.end()..].starts_with(h.as_str())
            {
                continue;
            }
            // `お客様`, `ご主人`: the candidate is a word with an honorific prefix.
            if *kind == 1
                && prev_char(t, m.start()).is_some_and(|c| matches!(c, 'お' | 'ご' | '御'))
            {
                continue;
            }
            // A lower-case romaji candidate after `i am` is a phrase, not a name.
            if *kind == 4 && cand.starts_with(|c: char| c.is_ascii_lowercase()) {
                continue;
            }
            let Some((s, e)) = name_part(cand) else {
                continue;
            };
            let (s, e) = (m.start() + s, m.start() + e);
            spans.claim(s, e, NAME);
            // The reading in brackets after the name or its honorific: `山田様（ヤマダ）`.
            let after = caps.name("h").map_or(e, |h| h.end());
            if let Some(r) = READING.captures(&t[after..]).and_then(|c| c.name("r")) {
                spans.claim(after + r.start(), after + r.end(), NAME);
            }
        }
    }
}
