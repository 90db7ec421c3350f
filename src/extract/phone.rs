//! Japanese phone numbers in running text: `03-1234-5678`, `０３－１２３４－５６７８`,
//! `(0428)22-1111`, `03(1234)5678`, `098ー951ー1530` (a long-vowel mark used as the minus),
//! with the label before them (`電話`, `TEL`, `℡`, `☎`, `FAX`, `ファクス`), an extension
//! (`内線123`, `(2601)`) and the `代表` mark.
//!
//! A number has 10 digits (fixed lines, 0120/0570/0800 numbers) or 11 digits (`0X0` mobile and
//! IP phones), starts with `0` and is written with separators (hyphens, parentheses or a
//! space), following the numbering plan of the Ministry of Internal Affairs and
//! Communications (電気通信番号計画). A bare run of digits counts only right after a phone
//! label, so dates, postal codes and amounts are not taken for numbers.

/// One phone number found in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneHit {
    /// Char index in the line where the number (or its opening parenthesis) starts.
    pub start: usize,
    /// Char index just past the number and its extension.
    pub end: usize,
    /// The number with ASCII digits and hyphens, e.g. `0428-22-1111`.
    pub number: String,
    /// Its digits only, the key two spellings of one number share.
    pub digits: String,
    /// An extension (内線), if given.
    pub extension: Option<String>,
    /// Labelled FAX (ファクス, ファックス).
    pub fax: bool,
    /// Marked as the main switchboard number (代表).
    pub main_line: bool,
}

/// Characters used as a minus sign between digits in Japanese text.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '－' | 'ー' | 'ｰ' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−'
    )
}

/// Folds full-width ASCII and the ideographic space (one char for one char, so indices
/// stay those of the original line).
fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn lower_ascii(s: &[char]) -> String {
    s.iter().map(|c| c.to_ascii_lowercase()).collect()
}

/// Returns the phone numbers in `line`, in order.
pub fn find_phones(line: &str) -> Vec<PhoneHit> {
    let chars: Vec<char> = line.chars().map(fold).collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut prev_end = 0;
    while i < chars.len() {
        if let Some((end, digits, number)) = parse_number(&chars, i, prev_end) {
            let (end, extension) = parse_extension(&chars, end);
            let before = lower_ascii(&chars[prev_end..i]);
            let tail: String = before
                .chars()
                .rev()
                .take(14)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let fax_at = ["fax", "ファクス", "ファックス", "ﾌｧｸｽ"]
                .iter()
                .filter_map(|k| tail.rfind(k))
                .max();
            let tel_at = ["電話", "tel", "℡", "☎", "☏"]
                .iter()
                .filter_map(|k| tail.rfind(k))
                .max();
            let fax = match (fax_at, tel_at) {
                (Some(f), Some(t)) => f > t,
                (Some(_), None) => true,
                _ => false,
            };
            let after: String = chars[end..].iter().take(6).collect();
            let main_line = tail
                .chars()
                .rev()
                .take(8)
                .collect::<String>()
                .contains("表代")
                || after.trim_start().starts_with("(代表")
                || after.trim_start().starts_with("代表");
            out.push(PhoneHit {
                start: i,
                end,
                number,
                digits,
                extension,
                fax,
                main_line,
            });
            prev_end = end;
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Whether a phone label ends right before `at` (for numbers written without separators).
fn label_before(chars: &[char], at: usize, from: usize) -> bool {
    let before = lower_ascii(&chars[from..at]);
    let b = before.trim_end_matches([':', ' ', '(', '）', ')', '：']);
    [
        "電話",
        "電話番号",
        "tel",
        "℡",
        "☎",
        "fax",
        "ファクス",
        "直通",
    ]
    .iter()
    .any(|k| b.ends_with(k))
}

/// Parses a number starting at `i`; returns (end, digits, normalized number).
fn parse_number(chars: &[char], i: usize, from: usize) -> Option<(usize, String, String)> {
    let prev = i.checked_sub(1).map(|p| chars[p]);
    if prev.is_some_and(|p| p.is_ascii_digit() || is_dash(p) || p.is_ascii_alphabetic()) {
        return None;
    }
    let mut j = i;
    let mut groups: Vec<String> = Vec::new();
    let open = chars[j] == '(';
    if open {
        j += 1;
    }
    if chars.get(j) != Some(&'0') {
        return None;
    }
    // Up to three digit groups separated by a dash, a space or parentheses.
    let mut cur = String::new();
    let mut seps = 0;
    let mut in_paren = open;
    while j < chars.len() {
        let c = chars[j];
        if c.is_ascii_digit() {
            cur.push(c);
            j += 1;
            continue;
        }
        let next_digit = chars.get(j + 1).is_some_and(char::is_ascii_digit);
        let sep = if c == ')' && in_paren {
            in_paren = false;
            true
        } else if c == '(' && !in_paren && !cur.is_empty() && groups.is_empty() {
            in_paren = true;
            true
        } else {
            (is_dash(c) || c == ' ') && !cur.is_empty() && next_digit
        };
        if !sep || cur.is_empty() || groups.len() >= 2 {
            break;
        }
        groups.push(std::mem::take(&mut cur));
        seps += 1;
        j += 1;
        // One space may follow a closing parenthesis: "(0428) 22-1111".
        if chars.get(j) == Some(&' ') && chars.get(j + 1).is_some_and(char::is_ascii_digit) {
            j += 1;
        }
    }
    if in_paren {
        return None;
    }
    if !cur.is_empty() {
        groups.push(cur);
    }
    let digits: String = groups.concat();
    let n = digits.len();
    let mobile = digits.len() >= 3 && matches!(&digits[..3], "050" | "060" | "070" | "080" | "090");
    let ok_len = n == 10 || (n == 11 && mobile);
    if !ok_len || chars.get(j).is_some_and(char::is_ascii_digit) {
        return None;
    }
    if seps == 0 && !label_before(chars, i, from) {
        return None;
    }
    if seps > 0 && groups.len() < 2 {
        return None;
    }
    let number = if groups.len() == 1 {
        digits.clone()
    } else {
        groups.join("-")
    };
    Some((j, digits, number))
}

/// Reads an extension after a number: `内線123`, `(内線123)`, `(2601)`.
fn parse_extension(chars: &[char], end: usize) -> (usize, Option<String>) {
    let mut j = end;
    while chars.get(j) == Some(&' ') {
        j += 1;
    }
    let paren = chars.get(j) == Some(&'(');
    if paren {
        j += 1;
    }
    let rest: String = chars[j.min(chars.len())..].iter().take(3).collect();
    let labelled = rest.starts_with("内線");
    if labelled {
        j += 2;
        while matches!(chars.get(j), Some(':' | ' ')) {
            j += 1;
        }
    }
    let start = j;
    while chars.get(j).is_some_and(char::is_ascii_digit) {
        j += 1;
    }
    let ext: String = chars[start..j].iter().collect();
    let closed = !paren || chars.get(j) == Some(&')');
    if ext.is_empty() || ext.len() > 5 || !closed || !(paren || labelled) {
        return (end, None);
    }
    if paren {
        j += 1;
    }
    (j, Some(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(line: &str) -> Vec<(String, bool, Option<String>)> {
        find_phones(line)
            .into_iter()
            .map(|h| (h.number, h.fax, h.extension))
            .collect()
    }

    #[test]
    fn written_forms_of_one_number() {
        for line in [
            "電話：0428-22-1111",
            "電話：０４２８－２２－１１１１",
            "TEL (0428)22-1111",
            "℡ 0428ー22ー1111",
            "電話番号：0428‐22‐1111",
        ] {
            let got = find_phones(line);
            assert_eq!(got.len(), 1, "{line}");
            assert_eq!(got[0].digits, "0428221111", "{line}");
            assert_eq!(got[0].number, "0428-22-1111", "{line}");
            assert!(!got[0].fax);
        }
        assert_eq!(find_phones("03(1234)5678")[0].number, "03-1234-5678");
        assert_eq!(find_phones("TEL:0312345678")[0].digits, "0312345678");
    }

    #[test]
    fn fax_extension_and_main_line() {
        assert_eq!(
            numbers("Tel：0428-22-1111(2601) Fax：0428-21-2458"),
            vec![
                ("0428-22-1111".into(), false, Some("2601".into())),
                ("0428-21-2458".into(), true, None)
            ]
        );
        assert_eq!(
            numbers("電話：03-1234-5678（内線123）")[0].2.as_deref(),
            Some("123")
        );
        let h = find_phones("電話番号（代表）：042-492-5111");
        assert!(h[0].main_line);
        let h = find_phones("電話：082-243-6058（代表） ファクス：082-243-6276");
        assert!(h[0].main_line && !h[1].main_line && h[1].fax);
    }

    #[test]
    fn several_numbers_on_one_line() {
        let got =
            find_phones("電話番号：国保係0xx,保険係03-1111-2222,年金係03-1111-3333、090-1234-5678");
        let d: Vec<&str> = got.iter().map(|h| h.number.as_str()).collect();
        assert_eq!(d, vec!["03-1111-2222", "03-1111-3333", "090-1234-5678"]);
    }

    #[test]
    fn dates_codes_and_amounts_are_not_numbers() {
        for line in [
            "〒160-0000 東京都新宿区",
            "2024-03-01 更新",
            "受付 8:30-17:15",
            "手数料 3,000円",
            "管理番号 0123456789",
            "No.7-8-10",
            "1HN20250139",
            "03-1234-567",
        ] {
            assert!(find_phones(line).is_empty(), "{line}");
        }
    }
}
