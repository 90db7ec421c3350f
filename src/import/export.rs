//! `kotae export`: a collection written back as CSV (UTF-8 with a byte-order mark, so that
//! Excel opens the Japanese text) or JSON Lines, in the shape the importer reads, so that a
//! file edited in Excel and imported again (`kotae import FILE --collection NAME`) updates
//! the same materials in place: each row carries the material's `source` and `source_id`,
//! from which its id is derived (`material::material_id`).
//!
//! CSV columns: [`CSV_COLUMNS`]; `tags` joined by `|`; times RFC 3339; a contact record's
//! fields (`group`, `duties`, `phone`, …) in their own columns.

use crate::material::Material;

/// The CSV header, in order.
pub const CSV_COLUMNS: [&str; 20] = [
    "source",
    "source_id",
    "kind",
    "question",
    "answer",
    "title",
    "body",
    "url",
    "department",
    "category",
    "tags",
    "updated_at",
    "valid_from",
    "valid_until",
    "group",
    "duties",
    "phone",
    "fax",
    "email",
    "address",
];

/// Extra contact columns after [`CSV_COLUMNS`].
const CONTACT_TAIL: [&str; 1] = ["hours"];

fn row(m: &Material) -> Vec<String> {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let t = |v: &Option<chrono::DateTime<chrono::FixedOffset>>| {
        v.map(|d| d.to_rfc3339()).unwrap_or_default()
    };
    let c = m.contact.clone().unwrap_or_default();
    vec![
        m.source.clone(),
        m.source_id.clone(),
        m.kind.as_str().to_string(),
        o(&m.question),
        o(&m.answer),
        m.title.clone(),
        o(&m.body),
        o(&m.url),
        o(&m.department.clone().or(c.department.clone())),
        o(&m.category),
        m.tags.join("|"),
        m.updated_at.to_rfc3339(),
        t(&m.valid_from),
        t(&m.valid_until),
        o(&c.group),
        o(&c.duties),
        o(&c.phone),
        o(&c.fax),
        o(&c.email),
        o(&c.address),
        o(&c.hours),
    ]
}

/// `materials` as CSV (with a UTF-8 byte-order mark).
///
/// # Errors
/// The CSV writer's error (as text).
pub fn to_csv(materials: &[Material]) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = CSV_COLUMNS.iter().chain(&CONTACT_TAIL).copied().collect();
    w.write_record(&header).map_err(|e| e.to_string())?;
    for m in materials {
        w.write_record(row(m)).map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    Ok(format!(
        "\u{feff}{}",
        String::from_utf8(bytes).map_err(|e| e.to_string())?
    ))
}

/// `materials` as JSON Lines (one material per line, as the corpus stores them).
///
/// # Errors
/// Serialisation errors (as text).
pub fn to_jsonl(materials: &[Material]) -> Result<String, String> {
    let mut out = String::new();
    for m in materials {
        out.push_str(&serde_json::to_string(m).map_err(|e| e.to_string())?);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::import::{ImportKind, ImportOptions, read_file};

    fn round_trip(file: &str, text: &str, kind: ImportKind, ext: &str) {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join(file);
        std::fs::write(&src, text).unwrap();
        let opts = ImportOptions {
            kind,
            ..Default::default()
        };
        let first = read_file(&src, file, &opts).unwrap();
        let mut all = first.materials;
        all.extend(first.contacts);
        assert!(!all.is_empty());
        let out = dir.path().join(format!("edited.{ext}"));
        let written = if ext == "csv" {
            to_csv(&all).unwrap()
        } else {
            to_jsonl(&all).unwrap()
        };
        std::fs::write(&out, written).unwrap();
        // Imported again under another file name: the same ids, the same materials.
        let again = read_file(Path::new(&out), "edited", &opts).unwrap();
        let mut back = again.materials;
        back.extend(again.contacts);
        assert_eq!(back, all, "{ext}");
    }

    #[test]
    fn faq_and_contact_tables_round_trip_with_stable_ids() {
        let faq = "source_id,question,answer,department,category,tags,url\n\
                   q1,\"国保の保険証は？\",\"区役所で再発行します。\n窓口へ\",健康福祉部 国保医療課,国保,保険証|再発行,https://www.city.example.lg.jp/a\n\
                   q2,粗大ごみは？,予約制です。,環境局,ごみ,,\n";
        round_trip("国保FAQ.csv", faq, ImportKind::Faq, "csv");
        round_trip("国保FAQ.csv", faq, ImportKind::Faq, "jsonl");
        let contacts = "source_id,department,group,duties,phone,hours\n\
                        c1,健康福祉部 国保医療課,国保係,資格・保険料,06-6208-9999,平日9時〜17時30分\n";
        round_trip("contacts.csv", contacts, ImportKind::Contact, "csv");
    }
}
