//! The `【お問い合わせ】` block ([`CONTACT_BLOCK_MARKER`]) that ends many Japanese FAQ answers
//! and pages: read by the importer (localgovFAQ answers) and by the page extractor (FAQ
//! answers and page text with such a block), so that the department and the desk's phone
//! number, which the index leaves out of the indexed body, become a `contact` material.

use unicode_normalization::UnicodeNormalization;

use crate::material::{CONTACT_BLOCK_MARKER, Contact};

/// Parses the `【お問い合わせ】` block of an FAQ answer (localgovFAQ style: items separated
/// by `。`, e.g. `【お問い合わせ】。経済環境局環境部。クリーンセンター。尼崎市東海岸町２３番地の１。
/// 電話０６－６４０９－１５１２。ＦＡＸ…。■問合せ時間。午前８時３０分～午後５時１５分。■休日。…`).
/// Text is NFKC-normalized (full-width digits become ASCII). Returns `None` when there is no
/// block or it names no department.
pub fn parse_contact_block(answer: &str) -> Option<Contact> {
    let start = answer
        .find(CONTACT_BLOCK_MARKER)
        .or_else(|| answer.find("【問い合わせ】"))?;
    let block: String = answer[start..].nfkc().collect();
    let block = block.split_once('】').map_or(block.as_str(), |x| x.1);
    // The block ends at the next 【…】 heading.
    let block = block.split('【').next().unwrap_or("");
    // Items are separated by 。 or newlines; bullets (●, ・) and dash-framed captions
    // (-特定健診について-) are decoration; notes (※…) are not part of the contact; an item
    // with 電話 in the middle (国保年金課年金担当電話06-…) holds an organisation and a phone.
    let mut items: Vec<&str> = Vec::new();
    for raw in block.split(['。', '\n']) {
        let item = raw.trim().trim_start_matches(['●', '・', '○', '◎']).trim();
        if item.is_empty()
            || item.starts_with('※')
            || (item.starts_with('-') && item.ends_with('-'))
        {
            continue;
        }
        match item.find("電話") {
            Some(i) if i > 0 && !item.starts_with('■') => {
                items.push(item[..i].trim());
                items.push(&item[i..]);
            }
            _ => items.push(item),
        }
    }
    let mut c = Contact::default();
    let mut orgs: Vec<&str> = Vec::new();
    let mut address: Vec<&str> = Vec::new();
    let mut hours: Vec<String> = Vec::new();
    let mut mode = "";
    for item in items {
        if let Some(rest) = item.strip_prefix('■') {
            mode = if rest.contains("時間") {
                "hours"
            } else if rest.contains("休") {
                "holidays"
            } else {
                ""
            };
            continue;
        }
        match mode {
            "hours" => {
                hours.push(item.to_string());
                continue;
            }
            "holidays" => {
                hours.push(format!("休日: {item}"));
                continue;
            }
            _ => {}
        }
        if let Some(p) = item.strip_prefix("電話") {
            c.phone = Some(p.trim_start_matches([':', '：', ' ']).to_string());
        } else if let Some(p) = item
            .strip_prefix("FAX")
            .or_else(|| item.strip_prefix("ファクス"))
        {
            c.fax = Some(p.trim_start_matches([':', '：', ' ']).to_string());
        } else if item.contains('@') {
            c.email = Some(
                item.trim_start_matches(|ch: char| !ch.is_ascii_alphanumeric())
                    .to_string(),
            );
        } else if is_address(item) || !address.is_empty() && c.phone.is_none() {
            address.push(item);
        } else if address.is_empty() && c.phone.is_none() {
            orgs.push(item);
        }
    }
    let first = orgs.first()?;
    c.department = Some(first.to_string());
    if orgs.len() > 1 {
        c.group = Some(orgs[1..].join(" "));
    }
    if !address.is_empty() {
        c.address = Some(address.join(" "));
    }
    if !hours.is_empty() {
        c.hours = Some(hours.join(" "));
    }
    Some(c)
}

fn is_address(s: &str) -> bool {
    let has_digit = s.chars().any(|c| c.is_ascii_digit());
    (s.contains("番地") || s.contains("丁目") || s.contains('号') || s.contains("番"))
        && has_digit
        && (s.contains('市') || s.contains('町') || s.contains('区') || s.contains('村'))
}
