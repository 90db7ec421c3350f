//! Character-set handling: decodes fetched bytes to text the way browsers do.
//!
//! Order (WHATWG HTML "determining the character encoding"): byte-order mark, the HTTP
//! `Content-Type` charset, a `<meta charset>` / `<meta http-equiv="Content-Type">` in the
//! first bytes, then detection among UTF-8, ISO-2022-JP, Shift_JIS and EUC-JP. Labels are
//! resolved by `encoding_rs` (WHATWG Encoding Standard), so `Shift_JIS` decodes as
//! Windows-31J (①, ～, － come out right).

use encoding_rs::{EUC_JP, Encoding, ISO_2022_JP, SHIFT_JIS, UTF_8};

/// How many leading bytes are scanned for a `<meta>` charset declaration.
pub const META_SCAN_BYTES: usize = 4096;

/// Where the encoding of a decoded document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    /// A byte-order mark.
    Bom,
    /// The HTTP `Content-Type` header.
    Header,
    /// A `<meta>` declaration in the document.
    Meta,
    /// Detection from the bytes.
    Detected,
}

/// Decodes `bytes` given the HTTP `Content-Type` header value (if any); returns the text,
/// the encoding used and where it came from.
pub fn decode_html(
    bytes: &[u8],
    content_type: Option<&str>,
) -> (String, &'static Encoding, CharsetSource) {
    let (enc, src) = sniff(bytes, content_type);
    let (text, _, _) = enc.decode(bytes);
    (text.into_owned(), enc, src)
}

/// Determines the encoding of `bytes` without decoding them.
pub fn sniff(bytes: &[u8], content_type: Option<&str>) -> (&'static Encoding, CharsetSource) {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return (enc, CharsetSource::Bom);
    }
    if let Some(enc) = content_type.and_then(charset_param).and_then(label) {
        return (enc, CharsetSource::Header);
    }
    if let Some(enc) = meta_charset(&bytes[..bytes.len().min(META_SCAN_BYTES)]) {
        return (enc, CharsetSource::Meta);
    }
    (detect(bytes), CharsetSource::Detected)
}

/// Resolves a charset label; UTF-16 labels in documents mean UTF-8 (WHATWG).
fn label(l: &str) -> Option<&'static Encoding> {
    let enc = Encoding::for_label(l.trim().trim_matches(['"', '\'']).as_bytes())?;
    Some(enc.output_encoding())
}

/// Returns the `charset=` parameter of a `Content-Type` value.
pub fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']))
    })
}

/// Finds a charset declared by a `<meta>` tag in `head` (ASCII-compatible prescan).
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut pos = 0;
    while let Some(off) = find(&lower[pos..], b"<meta") {
        let start = pos + off + 5;
        let end = find(&lower[start..], b">").map_or(lower.len(), |e| start + e);
        let tag = String::from_utf8_lossy(&lower[start..end]);
        if let Some(i) = tag.find("charset") {
            let rest = tag[i + 7..].trim_start();
            if let Some(rest) = rest.strip_prefix('=') {
                let v: String = rest
                    .trim_start()
                    .trim_start_matches(['"', '\''])
                    .chars()
                    .take_while(|c| !matches!(c, '"' | '\'' | ';' | ' ' | '/' | '>'))
                    .collect();
                if let Some(enc) = label(&v) {
                    return Some(enc);
                }
            }
        }
        pos = end.max(start);
        if pos >= lower.len() {
            break;
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Guesses the encoding of undeclared bytes: UTF-8 when valid, ISO-2022-JP when it holds
/// its escape sequences, else whichever of Shift_JIS and EUC-JP decodes with fewer errors
/// and fewer half-width katakana (the usual sign of a wrong guess).
pub fn detect(bytes: &[u8]) -> &'static Encoding {
    if find(bytes, b"\x1b$B").is_some() || find(bytes, b"\x1b$@").is_some() {
        return ISO_2022_JP;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let score = |enc: &'static Encoding| {
        let (text, _) = enc.decode_without_bom_handling(bytes);
        text.chars()
            .map(|c| match c {
                '\u{FFFD}' => 10,
                '\u{FF61}'..='\u{FF9F}' => 1,
                _ => 0,
            })
            .sum::<usize>()
    };
    let candidates = [UTF_8, SHIFT_JIS, EUC_JP];
    candidates
        .into_iter()
        .min_by_key(|e| score(e))
        .unwrap_or(UTF_8)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "お問い合わせ①：電話０３－１２３４～５";

    fn enc(e: &'static Encoding) -> Vec<u8> {
        e.encode(TEXT).0.into_owned()
    }

    #[test]
    fn header_charset_wins_over_meta() {
        let mut b = b"<meta charset=\"euc-jp\">".to_vec();
        b.extend(enc(SHIFT_JIS));
        let (text, e, src) = decode_html(&b, Some("text/html; charset=Shift_JIS"));
        assert_eq!((e, src), (SHIFT_JIS, CharsetSource::Header));
        assert!(text.ends_with(TEXT), "{text}");
    }

    #[test]
    fn meta_charset_and_http_equiv_are_read() {
        let mut b = b"<html><head><meta charset=\"EUC-JP\"></head>".to_vec();
        b.extend(enc(EUC_JP));
        assert_eq!(decode_html(&b, None).1, EUC_JP);
        let mut b =
            b"<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=x-sjis\">".to_vec();
        b.extend(enc(SHIFT_JIS));
        let (text, e, src) = decode_html(&b, Some("text/html"));
        assert_eq!((e, src), (SHIFT_JIS, CharsetSource::Meta));
        assert!(text.contains(TEXT));
    }

    #[test]
    fn undeclared_japanese_is_detected() {
        for e in [UTF_8, SHIFT_JIS, EUC_JP, ISO_2022_JP] {
            let b = enc(e);
            let (text, got, src) = decode_html(&b, None);
            assert_eq!(src, CharsetSource::Detected);
            assert_eq!(got, e, "{text}");
            assert_eq!(text, TEXT);
        }
    }

    #[test]
    fn windows_31j_characters_decode_as_browsers_do() {
        // ① (0x8740), ～ (0x8160 → U+FF5E) and － (0x817C → U+FF0D) in Windows-31J.
        let b = [0x87, 0x40, 0x81, 0x60, 0x81, 0x7c];
        let (text, _, _) = decode_html(&b, Some("text/html; charset=shift_jis"));
        assert_eq!(text, "①～－");
    }
}
