//! Operator-style queries (issue 13): kana typed before conversion, abbreviations derived
//! from the materials' compounds.

use std::sync::Arc;

use chrono::DateTime;
use kotae::engine::Engine;
use kotae::material::{Material, MaterialKind};
use kotae::search::{RankingParams, SearchRequest};

fn faq(source_id: &str, q: &str, a: &str) -> Material {
    let mut m = Material::new(
        MaterialKind::Faq,
        "test",
        source_id,
        DateTime::parse_from_rfc3339("2026-04-01T09:00:00+09:00").unwrap(),
    );
    m.question = Some(q.into());
    m.answer = Some(a.into());
    m
}

fn engine() -> Engine {
    // No synonyms: the abbreviations must come from the materials alone.
    let analyzer = Arc::new(kotae::analysis::Analyzer::builtin().unwrap());
    analyzer.set_synonyms(kotae::analysis::Synonyms::default());
    Engine::ephemeral(
        analyzer,
        vec![
            faq(
                "hogo",
                "生活保護の申請について",
                "福祉事務所の窓口で相談してください。",
            ),
            faq(
                "seimei",
                "生命保険料控除について",
                "年末調整で控除を受けられます。",
            ),
            faq("jifu", "児童扶養手当の振込日", "振込日は年6回です。"),
            faq(
                "inkan",
                "印鑑登録の手続き",
                "本人が窓口で登録してください。",
            ),
            faq(
                "nenkin",
                "国民年金保険料の免除",
                "所得が少ない方は申請により免除されます。",
            ),
            faq("gomi", "ごみの出し方", "決められた曜日に出してください。"),
        ],
    )
    .unwrap()
}

fn top(engine: &Engine, q: &str) -> Vec<String> {
    engine
        .search(&SearchRequest::new(q))
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.source_id)
        .collect()
}

#[test]
fn kana_typed_queries_meet_kanji_materials() {
    let e = engine();
    assert_eq!(
        top(&e, "いんかんとうろく").first().map(String::as_str),
        Some("inkan")
    );
    assert_eq!(
        top(&e, "こくみんねんきん めんじょ")
            .first()
            .map(String::as_str),
        Some("nenkin")
    );
    e.set_ranking_params(RankingParams {
        reading_kana_weight: 0.0,
        ..RankingParams::default()
    });
    assert!(!top(&e, "いんかんとうろく").contains(&"inkan".to_string()));
}

#[test]
fn a_short_form_finds_its_compounds_and_shares_their_weight() {
    let e = engine();
    let hits = top(&e, "児扶");
    assert_eq!(hits.first().map(String::as_str), Some("jifu"), "{hits:?}");
    // 生保 is the short form of 生活保護 and of 生命保険: both are found, and the words
    // around it decide.
    let hits = top(&e, "生保");
    assert!(hits.contains(&"hogo".to_string()) && hits.contains(&"seimei".to_string()));
    assert_eq!(
        top(&e, "生保 申請").first().map(String::as_str),
        Some("hogo")
    );
    assert_eq!(
        top(&e, "生保 控除").first().map(String::as_str),
        Some("seimei")
    );
    // An unambiguous short form outweighs an ambiguous one (abbreviation group alone).
    e.set_ranking_params(RankingParams {
        unigram_group_weight: 0.0,
        use_bigram: false,
        ..RankingParams::default()
    });
    let score = |q: &str| e.search(&SearchRequest::new(q)).unwrap().hits[0].score;
    assert!(
        score("児扶") > score("生保"),
        "{} {}",
        score("児扶"),
        score("生保")
    );
}

#[test]
fn words_of_the_materials_do_not_go_through_abbreviations() {
    let e = engine();
    // 申請 is a word of the materials: it matches where it occurs, not as a short form.
    let with = top(&e, "申請");
    e.set_ranking_params(RankingParams {
        abbrev_weight: 0.0,
        ..RankingParams::default()
    });
    assert_eq!(with, top(&e, "申請"));
}

#[test]
fn match_level_and_total_count_content_words_only() {
    use kotae::search::quality::MatchLevel;
    let e = engine();
    let r = e.search(&SearchRequest::new("生活保護 申請")).unwrap();
    assert_eq!(r.match_level, MatchLevel::Good);
    assert_eq!(r.hits[0].source_id, "hogo");
    assert!(
        r.hits[0].match_quality > 0.99,
        "{}",
        r.hits[0].match_quality
    );
    // 保 and 険 are shared with other materials, but no material has 道路 or 陥没.
    let r = e.search(&SearchRequest::new("道路 陥没 保険")).unwrap();
    assert!(r.hits.iter().all(|h| h.match_quality < 0.5));
    let r = e.search(&SearchRequest::new("道路 陥没")).unwrap();
    assert_eq!(r.match_level, MatchLevel::None);
    assert_eq!(r.total, 0);
    // Fillers of a caller's sentence weigh nothing: the sentence ranks like its content.
    let said = e
        .search(&SearchRequest::new(
            "もしもし、あのですね、えっと、印鑑の登録ってどうするんですか",
        ))
        .unwrap();
    assert_eq!(said.hits[0].source_id, "inkan");
    assert_eq!(said.match_level, MatchLevel::Good);
}
