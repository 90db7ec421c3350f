//! Analysis: token offsets, the variant suite, robustness.

use proptest::prelude::*;

use crate::common::{analyzer, default_engine, top_source_ids};

#[test]
fn morph_tokens_have_byte_offsets_into_the_original() {
    let a = analyzer();
    let text = "羽田空港から国民健康保険の申請をした";
    let toks = a.morph_tokens(text);
    let terms: Vec<&str> = toks.iter().map(|t| t.term.as_str()).collect();
    assert!(terms.contains(&"羽田空港"), "{terms:?}");
    assert!(terms.contains(&"国民健康保険"), "{terms:?}");
    // Base form: した → する is a stop word, 申請 stays.
    assert!(terms.contains(&"申請"), "{terms:?}");
    let haneda = toks.iter().find(|t| t.term == "羽田空港").unwrap();
    assert_eq!((haneda.start, haneda.end), (0, 12));
    for t in &toks {
        assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
    }
    let kokuho = toks.iter().find(|t| t.term == "国民健康保険").unwrap();
    assert_eq!(&text[kokuho.start..kokuho.end], "国民健康保険");
}

#[test]
fn offsets_survive_width_normalisation() {
    let a = analyzer();
    let text = "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞの申請";
    let toks = a.morph_tokens(text);
    let card = toks
        .iter()
        .find(|t| t.term.starts_with("まいなんば"))
        .expect("card token");
    assert_eq!(&text[card.start..card.end], "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ");
    let b = a.bigram_tokens(text);
    assert!(
        b.iter()
            .all(|t| text.is_char_boundary(t.start) && text.is_char_boundary(t.end))
    );
}

#[test]
fn user_dictionary_keeps_administrative_terms_whole() {
    let a = analyzer();
    for term in [
        "マイナンバーカード",
        "後期高齢者医療制度",
        "公金受取口座",
        "粗大ごみ",
        "印鑑登録証明書",
    ] {
        let toks = a.morph_tokens(term);
        assert_eq!(toks[0].start, 0, "{term}");
        assert_eq!(toks[0].end, term.len(), "{term}: {toks:?}");
    }
}

/// Each group: spelling variants of one query that must find the same top material.
const VARIANTS: &[&[&str]] = &[
    // full-width / half-width
    &[
        "マイナンバーカード 受け取り 持ち物",
        "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ 受け取り 持ち物",
    ],
    &["パスポート 手数料", "ﾊﾟｽﾎﾟｰﾄ 手数料"],
    // hiragana / katakana
    &["パスポートの手数料", "ぱすぽーとの手数料"],
    // long vowel mark variants
    &["消費生活センター 相談", "消費生活センタ 相談"],
    &["ケアマネジャー 相談", "ケアマネージャー 相談"],
    &["原付のナンバー", "原付のナンバ"],
    // old / new kanji
    &["国民健康保険の脱退", "國民健康保險の脱退"],
    &["県営住宅の家賃", "縣営住宅の家賃"],
    // synonyms (abbreviation vs official name)
    &["国保 脱退", "国民健康保険 脱退"],
];

#[test]
fn variants_find_the_same_material() {
    let (_dir, engine) = default_engine(false);
    for group in VARIANTS {
        let first = top_source_ids(&engine, group[0], 1);
        assert!(!first.is_empty(), "no hit for {:?}", group[0]);
        for v in &group[1..] {
            assert_eq!(
                top_source_ids(&engine, v, 1),
                first,
                "{:?} vs {:?}",
                group[0],
                v
            );
        }
    }
}

#[test]
fn huge_input_is_analyzed_without_panic() {
    let a = analyzer();
    let huge = "国民健康保険の申請。".repeat(200_000); // 6 MB
    let toks = a.morph_tokens(&huge);
    assert!(!toks.is_empty());
    assert!(toks.last().unwrap().end <= huge.len());
    let one_word = "あ".repeat(100_000);
    let _ = a.morph_tokens(&one_word);
    let _ = a.bigram_tokens(&one_word);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_text_never_panics_and_offsets_are_valid(s in "\\PC{0,200}") {
        let a = analyzer();
        for t in a.morph_tokens(&s).into_iter().chain(a.bigram_tokens(&s)) {
            prop_assert!(t.start < t.end && t.end <= s.len());
            prop_assert!(s.is_char_boundary(t.start) && s.is_char_boundary(t.end));
            prop_assert!(!t.term.is_empty());
        }
    }

    #[test]
    fn mixed_scripts_and_controls_never_panic(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("国保".to_string()), Just("ｶﾞ".to_string()), Just("\u{0}".to_string()),
                Just("ー".to_string()), Just("〜".to_string()), Just("①".to_string()),
                Just("\u{3099}".to_string()), Just("🙂".to_string()), "[a-zA-Z0-9 ]{0,5}",
            ],
            0..40,
        )
    ) {
        let s: String = parts.concat();
        let a = analyzer();
        for t in a.morph_tokens(&s).into_iter().chain(a.bigram_tokens(&s)) {
            prop_assert!(s.is_char_boundary(t.start) && s.is_char_boundary(t.end));
        }
    }
}
