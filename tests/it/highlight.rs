//! Highlights mark content only (issue 13): no hiragana fragments, one mark per matched
//! word, kana-typed and abbreviation queries marked on the words they stand for.

use kotae::material::Material;
use kotae::search::SearchRequest;

use crate::common::default_engine;

fn material(source_id: &str, q: &str, a: &str) -> Material {
    serde_json::from_value(serde_json::json!({
        "source_id": source_id, "kind": "faq", "question": q, "answer": a,
        "source": "test", "updated_at": "2026-04-01T09:00:00+09:00"
    }))
    .unwrap()
}

/// The snippet of material `source_id` among the first 20 hits of `q`.
fn snippet_of(engine: &kotae::engine::Engine, q: &str, source_id: &str) -> String {
    let mut req = SearchRequest::new(q);
    req.limit = 20;
    let resp = engine.search(&req).unwrap();
    resp.hits
        .into_iter()
        .find(|h| h.source_id == source_id)
        .unwrap_or_else(|| panic!("{source_id} not in the hits of {q}"))
        .snippet
}

#[test]
fn highlights_mark_whole_content_words_only() {
    let (_dir, engine) = default_engine(false);
    engine
        .upsert(
            "cms",
            vec![
                material(
                    "hl-card",
                    "マイナンバーカードはどこで受け取れますか",
                    "お住まいの地区の区役所で、マイナンバーカードを受け取ってください。",
                ),
                material(
                    "hl-seal",
                    "印鑑証明書がほしい",
                    "印鑑登録証明書の交付は、市民課の窓口とコンビニで受けられます。",
                ),
                material(
                    "hl-child",
                    "ひとり親家庭の手当",
                    "児童扶養手当の申請は、子育て支援課で受け付けます。",
                ),
                material(
                    "hl-waste",
                    "大型ごみの出し方",
                    "粗大ごみは、申込みのうえ指定の日に出してください。",
                ),
            ],
        )
        .unwrap();

    // A katakana query's bigram まい is no mark on the hiragana of お住まい.
    let s = snippet_of(&engine, "マイナ", "hl-card");
    assert!(s.contains("<mark>マイナ"), "{s}");
    assert!(!s.contains("住<mark>"), "{s}");
    assert!(!s.contains("<mark>まい"), "{s}");

    // One mark over the whole katakana word, not one per matched piece.
    let s = snippet_of(&engine, "マイナカード 受け取り", "hl-card");
    assert!(s.contains("<mark>マイナンバーカード</mark>"), "{s}");
    assert!(!s.contains("住<mark>"), "{s}");

    // A query word with hiragana is marked whole (粗大ごみ, not 粗大ご).
    let s = snippet_of(&engine, "粗大ごみ 申込み", "hl-waste");
    assert!(s.contains("<mark>粗大ごみ</mark>"), "{s}");

    // A kana-typed query marks the kanji words it reads as.
    let s = snippet_of(&engine, "いんかんとうろく", "hl-seal");
    assert!(s.contains("<mark>印鑑登録</mark>証明書"), "{s}");
    assert!(!s.contains("<mark>コンビニ"), "{s}");

    // An abbreviation marks the compound it stands for.
    let s = snippet_of(&engine, "児扶", "hl-child");
    assert!(s.contains("<mark>児童扶養手当</mark>"), "{s}");
}
