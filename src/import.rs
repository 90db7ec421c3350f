//! Importers: FAQ sets from JSON, JSON Lines and CSV (with a column mapping), the
//! localgovFAQ JSON shape, and contact tables from CSV; extraction of the `【お問い合わせ】`
//! contact blocks of FAQ answers into deduplicated `contact` materials.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::error::{Error, Result};
pub use crate::extract::contact_block::parse_contact_block;
use crate::material::{Contact, Material, MaterialKind};

/// What the file holds, when it cannot be told from its extension and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportKind {
    /// FAQ entries (question/answer).
    #[default]
    Faq,
    /// Contact records (department, group, duties, phone …).
    Contact,
}

/// Import options.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// FAQ or contact table (CSV and generic JSON).
    pub kind: ImportKind,
    /// CSV column mapping: material field → CSV header (e.g. `question` → `質問`). Fields
    /// not mapped are looked up under their own name.
    pub columns: HashMap<String, String>,
    /// Extract `【お問い合わせ】` blocks of FAQ answers into contact materials.
    pub extract_contacts: bool,
    /// Time stamp given to imported materials without one (default: now).
    pub updated_at: Option<DateTime<FixedOffset>>,
}

/// The result of reading one file.
#[derive(Debug, Default)]
pub struct Imported {
    /// FAQ or page materials.
    pub materials: Vec<Material>,
    /// Contact materials (from a contact table or extracted from answers), deduplicated.
    pub contacts: Vec<Material>,
    /// Number of `【お問い合わせ】` blocks seen in answers (before deduplication).
    pub contact_blocks_seen: usize,
}

impl Imported {
    fn push(&mut self, m: Material) {
        match m.kind {
            MaterialKind::Contact => self.contacts.push(m),
            _ => self.materials.push(m),
        }
    }

    fn finish(
        mut self,
        opts: &ImportOptions,
        source: &str,
        updated: DateTime<FixedOffset>,
    ) -> Self {
        if opts.extract_contacts {
            extract_contacts_into(&mut self, source, updated);
        }
        self
    }
}

fn now() -> DateTime<FixedOffset> {
    chrono::Utc::now().fixed_offset()
}

fn invalid(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{}: {msg}", path.display()))
}

/// Reads `path` (`.json`, `.jsonl`/`.ndjson`, `.csv`) into materials. `source` is the name
/// recorded as the materials' source (and part of their stable ids).
///
/// # Errors
/// [`Error::Invalid`] for an unreadable file, malformed content (with line or record
/// number), or records missing their required fields; nothing is returned then.
pub fn read_file(path: &Path, source: &str, opts: &ImportOptions) -> Result<Imported> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        context: format!("cannot read {}", path.display()),
        source: e,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| invalid(path, "file is not UTF-8"))?;
    let text = text.trim_start_matches('\u{feff}');
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let updated = opts.updated_at.unwrap_or_else(now);
    let mut out = Imported::default();
    let records: Vec<(String, Value)> = match ext.as_str() {
        "csv" => return read_csv(path, text, source, opts, updated),
        "jsonl" | "ndjson" => {
            let mut v = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let val: Value = serde_json::from_str(line)
                    .map_err(|e| invalid(path, format!("line {}: {e}", i + 1)))?;
                v.push(((i + 1).to_string(), val));
            }
            v
        }
        "json" => {
            let val: Value = serde_json::from_str(text).map_err(|e| invalid(path, e))?;
            match val {
                Value::Array(items) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| ((i + 1).to_string(), v))
                    .collect(),
                Value::Object(map) => map.into_iter().collect(),
                _ => return Err(invalid(path, "expected a JSON array or object")),
            }
        }
        other => {
            return Err(invalid(
                path,
                format!("unknown file type {other:?}: use .json, .jsonl or .csv"),
            ));
        }
    };
    for (key, val) in records {
        let m = match val {
            // localgovFAQ shape: id → "Question: …\nAnswer: …".
            Value::String(s) => localgov_record(&key, &s, source, updated).ok_or_else(|| {
                invalid(
                    path,
                    format!("record {key}: expected \"Question: …\\nAnswer: …\""),
                )
            })?,
            Value::Object(obj) => json_record(&key, &obj, source, opts.kind, updated)
                .map_err(|e| invalid(path, format!("record {key}: {e}")))?,
            _ => {
                return Err(invalid(
                    path,
                    format!("record {key}: expected an object or a string"),
                ));
            }
        };
        out.push(m);
    }
    Ok(out.finish(opts, source, updated))
}

/// Parses one localgovFAQ record: `"Question: …\nAnswer: …\n"`; `＜改＞` (an original line
/// break) becomes a newline. The department is read from the `【お問い合わせ】` block.
pub fn localgov_record(
    key: &str,
    text: &str,
    source: &str,
    updated: DateTime<FixedOffset>,
) -> Option<Material> {
    let rest = text.strip_prefix("Question:")?;
    let (q, a) = rest.split_once("\nAnswer:")?;
    let question = q.trim().to_string();
    let answer = a.trim().replace("＜改＞", "\n");
    if question.is_empty() || answer.is_empty() {
        return None;
    }
    let department = parse_contact_block(&answer).and_then(|c| c.department);
    Some(Material {
        question: Some(question),
        answer: Some(answer),
        department,
        ..Material::new(MaterialKind::Faq, source, key, updated)
    })
}

fn str_field(obj: &serde_json::Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match obj.get(*n) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(x)) => Some(x.to_string()),
        _ => None,
    })
}

fn json_record(
    key: &str,
    obj: &serde_json::Map<String, Value>,
    source: &str,
    kind: ImportKind,
    updated: DateTime<FixedOffset>,
) -> std::result::Result<Material, String> {
    let time = |names: &[&str]| -> std::result::Result<Option<DateTime<FixedOffset>>, String> {
        match str_field(obj, names) {
            None => Ok(None),
            Some(s) => DateTime::parse_from_rfc3339(&s)
                .map(Some)
                .map_err(|e| format!("bad time {s:?}: {e}")),
        }
    };
    let kind_field = str_field(obj, &["kind"]);
    let kind = match kind_field.as_deref() {
        Some(k) => MaterialKind::parse(k).ok_or_else(|| format!("unknown kind {k:?}"))?,
        None if obj.contains_key("contact") || kind == ImportKind::Contact => MaterialKind::Contact,
        None if obj.contains_key("body") && !obj.contains_key("answer") => MaterialKind::Page,
        None => MaterialKind::Faq,
    };
    let contact = match (kind, obj.get("contact")) {
        (MaterialKind::Contact, Some(c)) => Some(
            serde_json::from_value::<Contact>(c.clone()).map_err(|e| format!("contact: {e}"))?,
        ),
        (MaterialKind::Contact, None) => Some(Contact {
            department: str_field(obj, &["department", "部署"]),
            group: str_field(obj, &["group", "グループ"]),
            duties: str_field(obj, &["duties", "事務分担"]),
            phone: str_field(obj, &["phone", "電話番号"]),
            fax: str_field(obj, &["fax", "FAX"]),
            email: str_field(obj, &["email", "メール"]),
            address: str_field(obj, &["address", "住所"]),
            hours: str_field(obj, &["hours", "受付時間"]),
        }),
        _ => None,
    };
    let tags = match obj.get("tags") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => vec![],
    };
    let mut m = Material {
        id: String::new(),
        source_id: str_field(obj, &["source_id", "id"]).unwrap_or_else(|| key.to_string()),
        kind,
        title: str_field(obj, &["title"]).unwrap_or_default(),
        question: str_field(obj, &["question", "質問"]),
        answer: str_field(obj, &["answer", "回答"]),
        body: str_field(obj, &["body"]),
        contact,
        source: source.to_string(),
        url: str_field(obj, &["url"]),
        department: str_field(obj, &["department", "部署"]),
        category: str_field(obj, &["category", "分類"]),
        tags,
        updated_at: time(&["updated_at"])?.unwrap_or(updated),
        valid_from: time(&["valid_from"])?,
        valid_until: time(&["valid_until"])?,
    };
    if m.kind == MaterialKind::Contact && m.title.is_empty() {
        m.title = m.display_title();
    }
    m.ensure_id();
    m.validate().map_err(|e| e.to_string())?;
    if let Some(u) = &m.url {
        web_url(u)?;
    }
    Ok(m)
}

/// Checks that a material's `url` is an absolute `http` or `https` URL: search results link
/// to it, and a `javascript:` or `data:` URL there would run in the operator's browser.
fn web_url(u: &str) -> Result<(), String> {
    match url::Url::parse(u) {
        Ok(p) if matches!(p.scheme(), "http" | "https") && p.host().is_some() => Ok(()),
        Ok(p) => Err(format!(
            "`url` must be an http or https URL, got scheme {:?}",
            p.scheme()
        )),
        Err(e) => Err(format!("`url` is not an absolute URL ({e}): {u:?}")),
    }
}

fn read_csv(
    path: &Path,
    text: &str,
    source: &str,
    opts: &ImportOptions,
    updated: DateTime<FixedOffset>,
) -> Result<Imported> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| invalid(path, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    // Map each material field to a column index.
    let col = |field: &str| -> Option<usize> {
        let name = opts.columns.get(field).map(String::as_str).unwrap_or(field);
        headers.iter().position(|h| h == name)
    };
    for (field, header) in &opts.columns {
        if !headers.iter().any(|h| h == header) {
            return Err(invalid(
                path,
                format!("column {header:?} (mapped to `{field}`) is not in the header {headers:?}"),
            ));
        }
    }
    let mut out = Imported::default();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2; // 1-based, after the header line
        let rec = rec.map_err(|e| invalid(path, format!("row {row}: {e}")))?;
        let mut obj = serde_json::Map::new();
        let fields = [
            "source_id",
            "id",
            "question",
            "answer",
            "title",
            "body",
            "url",
            "department",
            "category",
            "updated_at",
            "valid_from",
            "valid_until",
            "group",
            "duties",
            "phone",
            "fax",
            "email",
            "address",
            "hours",
            "kind",
        ];
        for f in fields {
            if let Some(c) = col(f)
                && let Some(v) = rec.get(c)
            {
                obj.insert(f.to_string(), Value::String(v.to_string()));
            }
        }
        if let Some(c) = col("tags")
            && let Some(v) = rec.get(c)
        {
            let tags: Vec<Value> = v
                .split(['|', ';', '、'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| Value::String(t.to_string()))
                .collect();
            obj.insert("tags".into(), Value::Array(tags));
        }
        let m = json_record(&row.to_string(), &obj, source, opts.kind, updated)
            .map_err(|e| invalid(path, format!("row {row}: {e}")))?;
        out.push(m);
    }
    Ok(out.finish(opts, source, updated))
}

/// Extracts contact blocks from the FAQ answers into `out.contacts`, deduplicated by
/// department, group and phone number.
fn extract_contacts_into(out: &mut Imported, source: &str, updated: DateTime<FixedOffset>) {
    let mut seen: BTreeMap<String, Contact> = BTreeMap::new();
    for m in &out.materials {
        let Some(answer) = m.answer.as_deref().or(m.body.as_deref()) else {
            continue;
        };
        let Some(c) = parse_contact_block(answer) else {
            continue;
        };
        out.contact_blocks_seen += 1;
        // A phone number identifies a desk: blocks naming it with different wording
        // (健康福祉局健康増進課 / 健康福祉局健康増進課母子保健担当) are one contact.
        let digits: String = c
            .phone
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let key = if digits.len() >= 9 {
            format!("tel:{digits}")
        } else {
            format!(
                "{}|{}",
                c.department.as_deref().unwrap_or(""),
                c.group.as_deref().unwrap_or("")
            )
        };
        seen.entry(key).or_insert(c);
    }
    for (key, c) in seen {
        let mut m = Material {
            department: c.department.clone(),
            contact: Some(c),
            category: Some("組織・連絡先".into()),
            ..Material::new(
                MaterialKind::Contact,
                source,
                format!("contact:{key}"),
                updated,
            )
        };
        m.title = m.display_title();
        out.contacts.push(m);
    }
}

/// Returns the corpus collection an imported file is written to: `explicit` when given,
/// else `imported/STEM` with every character of the file stem other than ASCII letters,
/// digits, `-` and `_` replaced by `_` (so that the collection is a safe file name).
pub fn collection_for(file: &Path, explicit: Option<&str>) -> String {
    if let Some(c) = explicit {
        return c.to_string();
    }
    let stem: String = file
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("imported/{stem}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = "■粗大ごみは予約制です。＜改＞。【お問い合わせ】。経済環境局環境部。クリーンセンター。（資源リサイクルセンター管理担当）。尼崎市東海岸町２３番地の１。電話０６－６４０９－１５１２。ＦＡＸ０６－６４０９－１５１０。■問合せ時間。午前８時３０分～午後５時１５分。■休日。土・日曜日、年末年始（１２月２９日～１月３日）。";

    #[test]
    fn contact_block_fields() {
        let c = parse_contact_block(ANSWER).unwrap();
        assert_eq!(c.department.as_deref(), Some("経済環境局環境部"));
        assert_eq!(
            c.group.as_deref(),
            Some("クリーンセンター (資源リサイクルセンター管理担当)")
        );
        assert_eq!(c.address.as_deref(), Some("尼崎市東海岸町23番地の1"));
        assert_eq!(c.phone.as_deref(), Some("06-6409-1512"));
        assert_eq!(c.fax.as_deref(), Some("06-6409-1510"));
        assert!(
            c.hours
                .as_deref()
                .unwrap()
                .starts_with("午前8時30分~午後5時15分 休日: 土・日曜日")
        );
    }

    #[test]
    fn contact_block_decorations_notes_and_inline_phone() {
        let a = "説明。【お問い合わせ】。●市民協働局市民サービス部国保年金課年金担当電話０６－６４８９－６４２８。※詳しくは年金事務所へ。";
        let c = parse_contact_block(a).unwrap();
        assert_eq!(
            c.department.as_deref(),
            Some("市民協働局市民サービス部国保年金課年金担当")
        );
        assert_eq!(c.phone.as_deref(), Some("06-6489-6428"));
        let b = "【お問い合わせ】。-特定健診について-。健康福祉局健康増進課。電話06-4869-3053。";
        assert_eq!(
            parse_contact_block(b).unwrap().department.as_deref(),
            Some("健康福祉局健康増進課")
        );
    }

    #[test]
    fn localgov_record_parses_question_and_answer() {
        let t = format!("Question: 粗大ごみの出し方は？\nAnswer: {ANSWER}\n");
        let m = localgov_record("7", &t, "corpus.json", now()).unwrap();
        assert_eq!(m.question.as_deref(), Some("粗大ごみの出し方は？"));
        assert!(
            m.answer
                .as_deref()
                .unwrap()
                .starts_with("■粗大ごみは予約制です。\n")
        );
        assert_eq!(m.department.as_deref(), Some("経済環境局環境部"));
        assert_eq!(m.source_id, "7");
        assert!(localgov_record("8", "no shape", "x", now()).is_none());
    }

    #[test]
    fn csv_with_column_mapping_and_bad_row() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("faq.csv");
        std::fs::write(&p, "番号,質問,回答,分類\n1,国保の加入は？,14日以内に届け出ます。,国保\n2,住民票は？,窓口で。,住民票\n").unwrap();
        let mut opts = ImportOptions::default();
        for (f, h) in [
            ("source_id", "番号"),
            ("question", "質問"),
            ("answer", "回答"),
            ("category", "分類"),
        ] {
            opts.columns.insert(f.into(), h.into());
        }
        let got = read_file(&p, "faq.csv", &opts).unwrap();
        assert_eq!(got.materials.len(), 2);
        assert_eq!(got.materials[1].category.as_deref(), Some("住民票"));
        std::fs::write(&p, "番号,質問,回答,分類\n1,国保の加入は？,,国保\n").unwrap();
        let err = read_file(&p, "faq.csv", &opts).unwrap_err().to_string();
        assert!(err.contains("row 2") && err.contains("answer"), "{err}");
        opts.columns.insert("question".into(), "問い".into());
        let err = read_file(&p, "faq.csv", &opts).unwrap_err().to_string();
        assert!(err.contains("問い"), "{err}");
    }

    #[test]
    fn only_http_and_https_urls_are_imported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("faq.csv");
        let opts = ImportOptions::default();
        for (url, ok) in [
            ("https://www.city.example.jp/kokuho.html", true),
            ("http://www.city.example.jp/", true),
            ("javascript:alert(1)", false),
            ("JavaScript:alert(1)", false),
            ("data:text/html,<script>alert(1)</script>", false),
            ("vbscript:msgbox", false),
            ("file:///etc/passwd", false),
            ("/relative/path", false),
            ("http://", false),
        ] {
            std::fs::write(
                &p,
                format!("source_id,question,answer,url\n1,国保は？,届け出ます。,\"{url}\"\n"),
            )
            .unwrap();
            let got = read_file(&p, "faq.csv", &opts);
            match (ok, got) {
                (true, Ok(g)) => assert_eq!(g.materials[0].url.as_deref(), Some(url)),
                (false, Err(e)) => assert!(e.to_string().contains("url"), "{e}"),
                (ok, got) => panic!("{url}: want ok={ok}, got {got:?}"),
            }
        }
    }

    #[test]
    fn contact_csv() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("contacts.csv");
        std::fs::write(&p, "department,group,duties,phone\n健康福祉部 国保医療課,国民健康保険グループ,国保の資格,099-123-4567\n").unwrap();
        let opts = ImportOptions {
            kind: ImportKind::Contact,
            ..Default::default()
        };
        let got = read_file(&p, "contacts.csv", &opts).unwrap();
        assert_eq!(got.contacts.len(), 1);
        let c = got.contacts[0].contact.as_ref().unwrap();
        assert_eq!(c.phone.as_deref(), Some("099-123-4567"));
        assert_eq!(
            got.contacts[0].title,
            "健康福祉部 国保医療課 国民健康保険グループ"
        );
    }

    #[test]
    fn extraction_deduplicates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lg.json");
        let rec = |q: &str| format!("Question: {q}\nAnswer: {ANSWER}\n");
        let json = serde_json::json!({"0": rec("a?"), "1": rec("b?")});
        std::fs::write(&p, json.to_string()).unwrap();
        let opts = ImportOptions {
            extract_contacts: true,
            ..Default::default()
        };
        let got = read_file(&p, "lg.json", &opts).unwrap();
        assert_eq!(got.materials.len(), 2);
        assert_eq!(got.contact_blocks_seen, 2);
        assert_eq!(got.contacts.len(), 1);
    }

    #[test]
    fn collection_names_are_safe_file_names() {
        let c = |p: &str, e: Option<&str>| collection_for(Path::new(p), e);
        assert_eq!(c("data/faq 2026.csv", None), "imported/faq_2026");
        assert_eq!(c("../よくある質問.json", None), "imported/______");
        assert_eq!(c("x/a-b_c.jsonl", None), "imported/a-b_c");
        assert_eq!(c("x/a.csv", Some("city/faq")), "city/faq");
    }
}
