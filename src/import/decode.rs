//! The text encoding of an imported file. Excel saves 「CSV (コンマ区切り)」 in the system's
//! ANSI code page, on Japanese Windows Windows-31J (CP932, a superset of Shift_JIS); its
//! 「CSV UTF-8」 writes UTF-8 with a byte-order mark; older systems export EUC-JP.
//!
//! Detection, in order: a byte-order mark (UTF-8, UTF-16LE/BE); valid UTF-8 (Japanese text in
//! Shift_JIS or EUC-JP is almost never valid UTF-8: their lead bytes 0x81–0xFC are followed by
//! bytes that UTF-8 does not allow there); else Shift_JIS or EUC-JP, whichever decodes the
//! whole file without a malformed sequence; when both do, the one giving fewer half-width
//! katakana (EUC-JP read as Shift_JIS turns into them), Shift_JIS on a tie. A file
//! that none decodes cleanly is refused with a message naming `--encoding`. Decoding is
//! `encoding_rs` (the WHATWG Encoding Standard, where the label `shift_jis` is Windows-31J,
//! NEC and IBM extensions included: ①, ㈱, 髙).

use encoding_rs::{EUC_JP, Encoding, SHIFT_JIS, UTF_8};

/// The names `--encoding` accepts, for messages.
pub const NAMES: &str = "utf-8, shift_jis (= cp932, windows-31j, sjis), euc-jp";

/// Parses an `--encoding` value (case-insensitive; `cp932`, `windows-31j`, `sjis` are
/// Shift_JIS).
pub fn parse(name: &str) -> Option<&'static Encoding> {
    let n = name.trim().to_ascii_lowercase().replace('_', "-");
    match n.as_str() {
        "cp932" | "windows-31j" | "sjis" | "shift-jis" | "ms932" => Some(SHIFT_JIS),
        "utf8" => Some(UTF_8),
        other => Encoding::for_label(other.as_bytes()),
    }
}

/// Decodes `bytes`: with `forced`, in that encoding (a malformed sequence is an error
/// naming its byte offset); else as detected (module documentation). Returns the text
/// (without a byte-order mark) and the encoding used.
///
/// # Errors
/// A message for the user (English, then Japanese).
pub fn decode(
    bytes: &[u8],
    forced: Option<&'static Encoding>,
) -> Result<(String, &'static Encoding), String> {
    if let Some(enc) = forced {
        let body = match Encoding::for_bom(bytes) {
            Some((bom_enc, n)) if bom_enc == enc => &bytes[n..],
            _ => bytes,
        };
        return strict(enc, body).map(|t| (t, enc)).ok_or_else(|| {
            format!(
                "the file is not valid {} (--encoding) / ファイルが {} として読めません",
                enc.name(),
                enc.name()
            )
        });
    }
    if let Some((enc, n)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[n..]);
        if had_errors {
            return Err(format!(
                "the file starts with a {} byte-order mark but is not valid {} / \
                 {} の BOM がありますが、内容が {} ではありません",
                enc.name(),
                enc.name(),
                enc.name(),
                enc.name()
            ));
        }
        return Ok((text.into_owned(), enc));
    }
    if let Ok(t) = std::str::from_utf8(bytes) {
        return Ok((t.to_string(), UTF_8));
    }
    // EUC-JP bytes often decode as Shift_JIS too, into half-width katakana (0xA1–0xDF is
    // half-width katakana there): when both decode, the one with fewer of them wins.
    let halfwidth = |t: &str| {
        t.chars()
            .filter(|c| ('\u{FF61}'..='\u{FF9F}').contains(c))
            .count()
    };
    match (strict(SHIFT_JIS, bytes), strict(EUC_JP, bytes)) {
        (Some(s), Some(e)) if halfwidth(&e) < halfwidth(&s) => return Ok((e, EUC_JP)),
        (Some(s), _) => return Ok((s, SHIFT_JIS)),
        (None, Some(e)) => return Ok((e, EUC_JP)),
        (None, None) => {}
    }
    Err(format!(
        "the file is neither UTF-8, Shift_JIS nor EUC-JP; give its encoding with --encoding \
         ({NAMES}) / 文字コードを判定できません。--encoding で指定してください"
    ))
}

fn strict(enc: &'static Encoding, bytes: &[u8]) -> Option<String> {
    enc.decode_without_bom_handling_and_without_replacement(bytes)
        .map(|t| t.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "質問,回答\n国保の保険証は？,区役所で再発行します。①㈱髙\n";

    #[test]
    fn excel_shift_jis_utf8_bom_and_euc_jp_are_detected() {
        let (sjis, _, bad) = SHIFT_JIS.encode(TEXT);
        assert!(!bad);
        assert_eq!(decode(&sjis, None).unwrap(), (TEXT.to_string(), SHIFT_JIS));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(TEXT.as_bytes());
        assert_eq!(decode(&bom, None).unwrap(), (TEXT.to_string(), UTF_8));
        // EUC-JP without the CP932 extensions (EUC-JP has no ① ㈱ 髙).
        let plain = "質問,回答\n国保の保険証は？,区役所で再発行します。\n";
        let (euc, _, bad) = EUC_JP.encode(plain);
        assert!(!bad);
        assert_eq!(decode(&euc, None).unwrap().0, plain);
    }

    #[test]
    fn a_forced_encoding_is_used_or_refused() {
        let (sjis, _, _) = SHIFT_JIS.encode(TEXT);
        let cp932 = parse("CP932").unwrap();
        assert_eq!(decode(&sjis, Some(cp932)).unwrap().0, TEXT);
        let e = decode(&sjis, Some(UTF_8)).unwrap_err();
        assert!(e.contains("UTF-8") && e.contains("読めません"), "{e}");
        assert_eq!(parse("euc-jp"), Some(EUC_JP));
        assert_eq!(parse("latin-9x"), None);
    }

    #[test]
    fn undecodable_bytes_name_the_option() {
        let e = decode(&[0x82, 0xFF, 0xFF, 0x00, 0x8E], None).unwrap_err();
        assert!(e.contains("--encoding"), "{e}");
    }
}
