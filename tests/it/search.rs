//! Search behaviour over the built-in default corpus.

use kotae::material::{Material, MaterialKind};
use kotae::search::SearchRequest;

use crate::common::{default_engine, top_source_ids};

fn req(q: &str) -> SearchRequest {
    SearchRequest::new(q)
}

#[test]
fn default_corpus_is_loaded_with_faq_and_contacts() {
    let (_dir, engine) = default_engine(false);
    let m = engine.materials();
    let faq = m.values().filter(|x| x.kind == MaterialKind::Faq).count();
    let contact = m
        .values()
        .filter(|x| x.kind == MaterialKind::Contact)
        .count();
    assert!(faq >= 80, "{faq}");
    assert!(contact >= 20, "{contact}");
}

#[test]
fn keyword_and_sentence_queries_find_the_right_faq() {
    let (_dir, engine) = default_engine(false);
    // Operator keywords.
    let top = top_source_ids(&engine, "国保 脱退", 3);
    assert_eq!(top[0], "faq-0022", "{top:?}");
    // A citizen's whole sentence.
    let top = top_source_ids(
        &engine,
        "国民年金の保険料を払うのが難しいのですが、免除してもらえる制度はありますか？",
        3,
    );
    assert_eq!(top[0], "faq-0031", "{top:?}");
    let top = top_source_ids(&engine, "パスポートの手数料はいくらですか", 3);
    assert_eq!(top[0], "faq-0094", "{top:?}");
}

#[test]
fn kind_and_department_filters_and_facets() {
    let (_dir, engine) = default_engine(false);
    let all = engine.search(&req("国民健康保険")).unwrap();
    assert!(all.total > 0);
    let by_kind: u64 = all.facets.kind.values().sum();
    assert_eq!(by_kind, all.total, "every hit has a kind");
    let mut contacts = req("国民健康保険");
    contacts.kind = Some(MaterialKind::Contact);
    let c = engine.search(&contacts).unwrap();
    assert!(c.total > 0);
    assert!(
        c.hits
            .iter()
            .all(|h| h.kind == MaterialKind::Contact && h.contact.is_some())
    );
    assert_eq!(Some(&c.total), all.facets.kind.get("contact"));
    let mut dep = req("国民健康保険");
    dep.department = Some("健康福祉部 国保医療課".into());
    let d = engine.search(&dep).unwrap();
    assert!(d.total > 0);
    assert!(
        d.hits
            .iter()
            .all(|h| h.department.as_deref() == Some("健康福祉部 国保医療課"))
    );
    let mut none = req("国民健康保険");
    none.department = Some("存在しない部".into());
    assert_eq!(engine.search(&none).unwrap().total, 0);
}

#[test]
fn paging_is_consistent() {
    let (_dir, engine) = default_engine(false);
    let mut r = req("手続き");
    r.limit = 10;
    let first = engine.search(&r).unwrap();
    r.limit = 5;
    r.offset = 5;
    let second = engine.search(&r).unwrap();
    let a: Vec<_> = first.hits[5..].iter().map(|h| h.id.clone()).collect();
    let b: Vec<_> = second.hits.iter().map(|h| h.id.clone()).collect();
    assert_eq!(a, b);
    assert_eq!(first.total, second.total);
}

#[test]
fn snippets_mark_matches_and_escape_html() {
    let (_dir, engine) = default_engine(false);
    let resp = engine.search(&req("粗大ごみ")).unwrap();
    let hit = &resp.hits[0];
    assert!(hit.snippet.contains("<mark>"), "{}", hit.snippet);
    // Only <mark> tags are unescaped.
    let stripped = hit.snippet.replace("<mark>", "").replace("</mark>", "");
    assert!(
        !stripped.contains('<') && !stripped.contains('>'),
        "{}",
        hit.snippet
    );
}

fn material(source_id: &str, q: &str, a: &str) -> Material {
    serde_json::from_value(serde_json::json!({
        "source_id": source_id, "kind": "faq", "question": q, "answer": a,
        "source": "test", "updated_at": "2026-04-01T09:00:00+09:00"
    }))
    .unwrap()
}

#[test]
fn upserted_material_is_searchable_at_once_and_removal_hides_it() {
    let (_dir, engine) = default_engine(true);
    let q = "ドローン飛行許可の申請窓口";
    assert!(
        top_source_ids(&engine, "ドローン飛行許可", 5)
            .iter()
            .all(|s| s != "new-1")
    );
    engine
        .upsert(
            "cms",
            vec![material(
                "new-1",
                q,
                "ドローンの飛行許可は危機管理部が受け付けます。",
            )],
        )
        .unwrap();
    assert_eq!(
        top_source_ids(&engine, "ドローン飛行許可", 1),
        vec!["new-1".to_string()]
    );
    let id = engine
        .materials()
        .values()
        .find(|m| m.source_id == "new-1")
        .unwrap()
        .id
        .clone();
    assert_eq!(engine.remove("cms", std::slice::from_ref(&id)).unwrap(), 1);
    assert!(
        top_source_ids(&engine, "ドローン飛行許可", 5)
            .iter()
            .all(|s| s != "new-1")
    );
}

#[test]
fn expired_materials_are_not_returned() {
    let (_dir, engine) = default_engine(false);
    let mut old = material("old-1", "ペット同行避難訓練の申込み", "終了しました。");
    old.valid_until = chrono::DateTime::parse_from_rfc3339("2020-01-01T00:00:00+09:00").ok();
    let mut current = material("cur-1", "ペット同行避難訓練の会場", "県民広場です。");
    current.valid_until = chrono::DateTime::parse_from_rfc3339("2999-01-01T00:00:00+09:00").ok();
    engine.upsert("events", vec![old, current]).unwrap();
    let ids = top_source_ids(&engine, "ペット同行避難訓練", 10);
    assert!(ids.contains(&"cur-1".to_string()), "{ids:?}");
    assert!(!ids.contains(&"old-1".to_string()), "{ids:?}");
}

#[test]
fn materials_before_their_valid_from_are_not_returned() {
    let (_dir, engine) = default_engine(false);
    let mut later = material(
        "later-1",
        "防災フェスタの出展申込み",
        "来月から受け付けます。",
    );
    later.valid_from = chrono::DateTime::parse_from_rfc3339("2999-01-01T00:00:00+09:00").ok();
    let mut open = material("open-1", "防災フェスタの会場", "県民広場です。");
    open.valid_from = chrono::DateTime::parse_from_rfc3339("2020-01-01T00:00:00+09:00").ok();
    engine.upsert("events", vec![later, open]).unwrap();
    let ids = top_source_ids(&engine, "防災フェスタ", 10);
    assert!(ids.contains(&"open-1".to_string()), "{ids:?}");
    assert!(!ids.contains(&"later-1".to_string()), "{ids:?}");
}

#[test]
fn index_survives_restart_and_follows_corpus_edits() {
    let (dir, engine) = default_engine(true);
    let n = engine.materials().len();
    drop(engine);
    // Edit the corpus on disk while the service is down: the index catches up at start.
    let path = dir.path().join("corpus/default/faq.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        &serde_json::to_string(&material(
            "disk-1",
            "蜂の巣の駆除はしてもらえますか",
            "専門業者にご相談ください。",
        ))
        .unwrap(),
    );
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    let opts = kotae::engine::EngineOptions::new(dir.path());
    let engine = kotae::engine::Engine::open_with(&opts, crate::common::analyzer()).unwrap();
    assert_eq!(engine.materials().len(), n + 1);
    assert_eq!(
        top_source_ids(&engine, "蜂の巣 駆除", 1),
        vec!["disk-1".to_string()]
    );
}

#[test]
fn synonyms_reload_without_reindex() {
    let (dir, engine) = default_engine(false);
    // 「ピヨピヨ」 is not a word of the corpus and shares no character with it.
    let before = engine.search(&req("ピヨピヨ")).unwrap();
    assert_eq!(before.total, 0);
    let dicts = dir.path().join("dictionaries");
    std::fs::create_dir_all(&dicts).unwrap();
    std::fs::write(dicts.join("synonyms.txt"), "ピヨピヨ, パスポート\n").unwrap();
    assert_eq!(engine.reload_synonyms(), 1);
    let after = engine.search(&req("ピヨピヨ")).unwrap();
    assert!(after.total > before.total);
    assert_eq!(after.hits[0].kind, MaterialKind::Faq);
    assert!(
        after.hits[0].title.contains("パスポート"),
        "{}",
        after.hits[0].title
    );
}

#[test]
fn one_character_query_finds_the_character_inside_words() {
    let (_dir, engine) = default_engine(false);
    // 税 often stands inside words such as 自動車税 and 県税: the ideograph unigram field finds it.
    let resp = engine.search(&req("税")).unwrap();
    let mut r = req("税");
    r.limit = 100;
    let all: Vec<String> = engine
        .search(&r)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.source_id)
        .collect();
    assert!(all.contains(&"faq-0058".to_string()), "{all:?}");
    assert!(resp.total >= 20, "{}", resp.total);
    assert!(
        resp.hits[0].snippet.contains("<mark>税</mark>")
            || resp.hits[0].snippet.contains("税</mark>"),
        "{}",
        resp.hits[0].snippet
    );
}

#[test]
fn small_index_is_kept_in_one_segment_with_its_metadata() {
    let (dir, engine) = default_engine(true);
    let segments =
        |e: &kotae::engine::Engine| e.index().reader().searcher().segment_readers().len();
    assert_eq!(segments(&engine), 1, "a rebuild ends merged");
    let before = engine.search(&req("県税")).unwrap().total;
    engine
        .upsert(
            "cms",
            vec![material(
                "seg-1",
                "県税の証明書を郵送で取りたい",
                "県税事務所に郵送で請求できます。",
            )],
        )
        .unwrap();
    // Searchable at once, whatever the merge is doing.
    assert_eq!(
        top_source_ids(&engine, "県税の証明書 郵送", 1),
        vec!["seg-1".to_string()]
    );
    // The background merge brings the index back to one segment with every document.
    let mut waited = 0;
    while segments(&engine) > 1 && waited < 100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    assert_eq!(segments(&engine), 1);
    let after = engine.search(&req("県税")).unwrap();
    assert_eq!(after.total, before + 1);
    assert_eq!(after.facets.kind.values().sum::<u64>(), after.total);
    drop(engine);
    // Reopened from disk: still one segment, same results.
    let opts = kotae::engine::EngineOptions::new(dir.path());
    let reopened = kotae::engine::Engine::open_with(&opts, crate::common::analyzer()).unwrap();
    assert_eq!(segments(&reopened), 1);
    assert_eq!(reopened.search(&req("県税")).unwrap().total, before + 1);
}

#[test]
fn exemption_and_reduction_are_one_operator_word() {
    // Operators say 免除 for every kind of relief; 国保 calls it 減免 (synonyms.txt).
    let (_dir, engine) = default_engine(false);
    let top = top_source_ids(&engine, "国保 免除", 5);
    assert!(top.contains(&"faq-0024".to_string()), "{top:?}");
}
