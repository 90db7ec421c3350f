//! The redactor's tables: personal values that must go (recall) and ordinary text that must
//! stay unchanged (precision). `cargo test --lib stats::redact::tests::report -- --ignored
//! --nocapture` prints both figures and every change made to the localgovFAQ queries.

use super::*;

/// How a base case is varied: as written, full-width, kanji digits.
#[derive(Clone, Copy)]
enum Var {
    /// As written, full-width ASCII, and kanji digits.
    All,
    /// As written and full-width (no digits, or kanji digits make no sense).
    Width,
    /// As written only.
    Plain,
}

/// Full-width ASCII and ideographic spaces.
fn fw(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

/// ASCII digits written as kanji digits (〇一二…).
fn kd(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => KANJI_DIGITS.chars().nth(d as usize).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// `(input, personal values in it, variants)`, by class.
const PERSONAL: &[(&str, &[&str], Var)] = &[
    // Phone and FAX.
    ("電話は06-6941-0351です", &["06-6941-0351"], Var::All),
    ("06(6941)0351に折り返し", &["06(6941)0351"], Var::All),
    ("(06)6941-0351まで", &["(06)6941-0351"], Var::All),
    ("携帯090.1234.5678", &["090.1234.5678"], Var::All),
    ("090/1234/5678へ", &["090/1234/5678"], Var::All),
    ("090 1234 5678 に連絡", &["090 1234 5678"], Var::All),
    ("09012345678です", &["09012345678"], Var::All),
    ("自宅0669410351", &["0669410351"], Var::All),
    ("+81(0)90-1234-5678", &["+81(0)90-1234-5678"], Var::Width),
    ("+81-90-1234-5678", &["+81-90-1234-5678"], Var::Width),
    ("+81 6 6941 0351", &["+81 6 6941 0351"], Var::Width),
    ("TEL:03-1234-5678", &["03-1234-5678"], Var::All),
    ("FAX 06-6941-0351 へ送付", &["06-6941-0351"], Var::All),
    ("連絡先は080-9876-5432", &["080-9876-5432"], Var::All),
    ("電話番号 0120-123-456", &["0120-123-456"], Var::All),
    ("℡072(123)4567", &["072(123)4567"], Var::All),
    ("電話は6941-0351です", &["6941-0351"], Var::All),
    ("携帯 070 - 1111 - 2222", &["070 - 1111 - 2222"], Var::Width),
    (
        "〇九〇ー一二三四ー五六七八に電話",
        &["〇九〇ー一二三四ー五六七八"],
        Var::Plain,
    ),
    (
        "０６ー６９４１ー０３５１まで",
        &["０６ー６９４１ー０３５１"],
        Var::Plain,
    ),
    ("問い合わせ0 06-6941-0351", &["06-6941-0351"], Var::All),
    ("第2回 090-1234-5678", &["090-1234-5678"], Var::All),
    // マイナンバー.
    ("マイナンバー1234 5678 9012", &["1234 5678 9012"], Var::All),
    ("個人番号123456789012", &["123456789012"], Var::All),
    ("番号は1234-5678-9012です", &["1234-5678-9012"], Var::All),
    ("1234.5678.9012を伝えた", &["1234.5678.9012"], Var::All),
    ("1234  5678  9012を伝えた", &["1234  5678  9012"], Var::All),
    (
        "マイナンバーは 1234/5678/9012",
        &["1234/5678/9012"],
        Var::All,
    ),
    (
        "マイナンバー：1234 567 89012",
        &["1234 567 89012"],
        Var::All,
    ),
    (
        "一二三四・五六七八・九〇一二",
        &["一二三四・五六七八・九〇一二"],
        Var::Plain,
    ),
    // Postal codes.
    ("〒530-0001 大阪市北区梅田", &["530-0001"], Var::All),
    ("〒5300001大阪市", &["5300001"], Var::All),
    ("郵便番号5300001", &["5300001"], Var::All),
    ("530-0001 大阪市北区", &["530-0001"], Var::All),
    ("5300001大阪府大阪市北区", &["5300001"], Var::All),
    ("〒 530 - 0001", &["530 - 0001"], Var::Width),
    // Street and room numbers.
    (
        "大阪市北区中之島1丁目3番20号",
        &["1丁目3番20号"],
        Var::Width,
    ),
    ("中之島三丁目5-12に住む", &["三丁目5-12"], Var::Width),
    ("堺市堺区南瓦町3番1号", &["3番1号"], Var::Width),
    ("豊中市中桜塚3-1-1", &["3-1-1"], Var::Width),
    ("中之島1-3-20の件", &["1-3-20"], Var::All),
    ("中桜塚3-1-1-101", &["3-1-1-101"], Var::Width),
    ("中桜塚3-1-1 101", &["3-1-1 101"], Var::Width),
    ("101号室の者です", &["101号室"], Var::All),
    ("ハイツ青葉201に住んでいる", &["201"], Var::All),
    ("コーポ山田 305号", &["305"], Var::Width),
    ("梅田12番地の3", &["12番地の3"], Var::Width),
    ("305室です", &["305室"], Var::Width),
    // E-mail.
    (
        "taro.yamada@example.co.jp まで",
        &["taro.yamada@example.co.jp"],
        Var::Width,
    ),
    ("taro(at)example.jp", &["taro(at)example.jp"], Var::Width),
    ("taro[at]example.jp", &["taro[at]example.jp"], Var::Width),
    (
        "taro @ example . jp に",
        &["taro @ example . jp"],
        Var::Width,
    ),
    ("info@大阪.jp", &["info@大阪.jp"], Var::Width),
    ("hanako@例え.テスト", &["hanako@例え.テスト"], Var::Width),
    (
        "taroアットマークexample.jp",
        &["taroアットマークexample.jp"],
        Var::Width,
    ),
    (
        "yamada＠ｅｘａｍｐｌｅ．ｃｏｍ",
        &["yamada＠ｅｘａｍｐｌｅ．ｃｏｍ"],
        Var::Plain,
    ),
    (
        "t.yamada+kotae@mail.example.org",
        &["t.yamada+kotae@mail.example.org"],
        Var::Width,
    ),
    // Names.
    ("山田太郎と申します", &["山田太郎"], Var::Plain),
    ("私は山田と申しますが", &["山田"], Var::Plain),
    ("山田 太郎と申します", &["山田 太郎"], Var::Plain),
    ("山田　太郎と申します", &["山田　太郎"], Var::Plain),
    ("私はヤマダタロウといいます", &["ヤマダタロウ"], Var::Plain),
    ("こちらは山本といいます", &["山本"], Var::Plain),
    ("長野県在住の中村敬男さんの作品", &["中村敬男"], Var::Plain),
    ("ﾔﾏﾀﾞ ﾀﾛｳと申します", &["ﾔﾏﾀﾞ ﾀﾛｳ"], Var::Plain),
    ("スミス・ジョンと申します", &["スミス・ジョン"], Var::Plain),
    ("鈴木様より電話", &["鈴木"], Var::Plain),
    ("佐藤さんの件", &["佐藤"], Var::Plain),
    ("タナカさんから相談", &["タナカ"], Var::Plain),
    (
        "高橋花子様（タカハシハナコ）",
        &["高橋花子", "タカハシハナコ"],
        Var::Plain,
    ),
    ("中村さんに回答", &["中村"], Var::Plain),
    ("阿部様", &["阿部"], Var::Plain),
    ("服部くんの母です", &["服部"], Var::Plain),
    ("大阪市北区山田様", &["山田"], Var::Plain),
    ("私は伊藤です。国保の件で", &["伊藤"], Var::Plain),
    ("こちらは渡辺です", &["渡辺"], Var::Plain),
    ("小林です。転入の手続き", &["小林"], Var::Plain),
    ("氏名：加藤一郎", &["加藤一郎"], Var::Plain),
    ("名前は吉田花子です", &["吉田花子"], Var::Plain),
    ("フリガナ ヨシダ ハナコ", &["ヨシダ ハナコ"], Var::Plain),
    ("Taro Yamadaと申します", &["Taro Yamada"], Var::Width),
    ("My name is John Smith.", &["John Smith"], Var::Width),
    ("Name: Hanako Suzuki", &["Hanako Suzuki"], Var::Width),
    ("Mr. Smith called", &["Smith"], Var::Width),
    ("Smithさんから", &["Smith"], Var::Width),
    ("YAMADA TAROと申します", &["YAMADA TARO"], Var::Width),
    ("田中先生の紹介", &["田中"], Var::Plain),
    ("ジョンソン様宛て", &["ジョンソン"], Var::Plain),
    // Dates of birth.
    ("昭和50年1月1日生まれ", &["昭和50年1月1日"], Var::All),
    ("S50.1.1生", &["S50.1.1"], Var::Width),
    ("s50.1.1生", &["s50.1.1"], Var::Width),
    ("生年月日は1975/01/01", &["1975/01/01"], Var::Width),
    ("1975/01/01生まれ", &["1975/01/01"], Var::Width),
    ("1975年1月1日生まれの男性", &["1975年1月1日"], Var::All),
    ("平成元年5月3日生まれ", &["平成元年5月3日"], Var::All),
    ("生年月日：昭和50年1月1日", &["昭和50年1月1日"], Var::All),
    ("誕生日は1月1日", &["1月1日"], Var::All),
    ("H12.3.4生", &["H12.3.4"], Var::Width),
    (
        "昭和五十年一月一日生まれ",
        &["昭和五十年一月一日"],
        Var::Plain,
    ),
    ("DOB 1975-01-01", &["1975-01-01"], Var::Width),
    ("1980年生まれです", &["1980年"], Var::All),
    (
        "平成3年12月25日に生まれた子",
        &["平成3年12月25日"],
        Var::All,
    ),
    // 基礎年金番号, 保険証 記号・番号, other labelled numbers.
    ("基礎年金番号1234-567890", &["1234-567890"], Var::All),
    ("年金番号は 1234567890", &["1234567890"], Var::All),
    ("1234-567890の年金", &["1234-567890"], Var::All),
    ("保険証の記号12 番号345", &["12 番号345"], Var::Plain),
    ("記号：1234 番号：56", &["1234"], Var::All),
    ("被保険者番号12345678", &["12345678"], Var::All),
    ("記号・番号 12・345", &["12・345"], Var::Plain),
    ("口座番号1234567", &["1234567"], Var::All),
    ("受給者番号 9876543", &["9876543"], Var::All),
    // Card numbers, whole.
    (
        "カード番号4111-1111-1111-1111",
        &["4111-1111-1111-1111"],
        Var::All,
    ),
    (
        "4111 1111 1111 1111で支払い",
        &["4111 1111 1111 1111"],
        Var::All,
    ),
    ("4111111111111111", &["4111111111111111"], Var::All),
    ("3782 822463 10005", &["3782 822463 10005"], Var::All),
    (
        "クレジットカード番号は 5500000000000004",
        &["5500000000000004"],
        Var::All,
    ),
    (
        "カード番号：4111.1111.1111.1111",
        &["4111.1111.1111.1111"],
        Var::All,
    ),
];

/// Text that must come out unchanged.
const SURVIVE: &[&str] = &[
    "国民健康保険の保険料を知りたい",
    "手数料は3,000円です",
    "手数料は３，０００円です",
    "4月1日から受付",
    "４月１日から受付",
    "令和6年度の児童手当",
    "令和６年度の児童手当",
    "第12条第3項による",
    "第１２条第３項による",
    "全120ページの冊子",
    "受付時間は9:00〜17:00",
    "受付時間は９：００～１７：００",
    "2026年4月1日から",
    "平成30年度から変わりました",
    "第3子の保育料",
    "粗大ごみは何曜日？",
    "3番窓口へお越しください",
    "1番近い窓口はどこですか",
    "一番近い窓口はどこですか",
    "1-3月の申請",
    "4-6月分の保険料",
    "0-2歳児の保育料",
    "18歳未満の子ども",
    "65歳以上の方",
    "100万円以下",
    "1,234,567円",
    "2024年4月1日生活保護の申請",
    "ご主人様の扶養に入る",
    "お客様へのお知らせ",
    "皆さんの意見",
    "申請様式はどこ",
    "同様の手続き",
    "氏名変更の手続き",
    "名前は変更できますか",
    "お子さんの予防接種",
    "ヘルパーさんの派遣",
    "相談者さんからの質問",
    "市長さんへの手紙",
    "大家さんとのトラブル",
    "先生に相談",
    "私は学生です",
    "私は年金受給者です",
    "私は大阪市民です",
    "マイナンバーカードの申請方法",
    "マイナンバーカードの交付は令和6年",
    "電話番号を変更したい",
    "番号札を取ってお待ちください",
    "保険証の記号と番号はどこに書いてありますか",
    "記号の意味",
    "生年月日の訂正",
    "4月1日生まれの子の入学",
    "昭和の日は休みですか",
    "平成元年度の資料",
    "1.5倍になります",
    "ISO 9001",
    "12月31日まで",
    "午前8時30分から",
    "2024/04/01から申請受付",
    "10/1から",
    "所得が200万円を超える",
    "A4サイズ",
    "第2期分",
    "3人目の子ども",
    "定員30名",
    "国保は40歳から",
    "人口1234567人",
    "マンションの管理組合",
    "市営住宅の家賃",
    "市営住宅3年目",
    "バス停から5分",
    "ワクチン接種",
    "忍たま乱太郎の施設などはオープンしないのですか",
    "塚口さんさんタウンの再開発",
    "猫ちゃんの届け出",
    "ワンちゃんは保健所に届け出がいる",
    "今の市長の名前は何ですか？",
    "背に赤色の帯状の模様がある",
    "多様な学びの機会",
    "5名さま以上のグループ",
    "これを法定免除といいます",
    "平成23年4月2日～平成24年4月1日生まれの幼児",
    "2501-5000151円",
    "離職理由コード21・22・23・31・32・33",
    "■申し込みは？。不要です。",
    "医療費控除と同様、申告が必要",
    "さまざまな業務",
    "ふるさと納税の返礼品",
    "12345件の申請",
    "年収300万円",
    "東京都新宿区",
    "大阪府大阪市北区中之島",
    "",
];

/// Every 4-digit window of the value's digits, to find a part of it left behind (a card's
/// last four, a phone number's local part).
fn digit_windows(value: &str) -> Vec<String> {
    let folded = Folded::new(value).text;
    let d: Vec<char> = folded.chars().filter(char::is_ascii_digit).collect();
    d.windows(4).map(|w| w.iter().collect()).collect()
}

/// Expands the personal table into `(input, values)` cases.
fn personal_cases() -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for &(text, values, var) in PERSONAL {
        let v = |f: &dyn Fn(&str) -> String| (f(text), values.iter().map(|s| f(s)).collect());
        out.push(v(&|s| s.to_string()));
        if matches!(var, Var::All | Var::Width) && text.chars().any(|c| c.is_ascii_graphic()) {
            out.push(v(&fw));
        }
        if matches!(var, Var::All) {
            out.push(v(&kd));
        }
    }
    out
}

/// Why a case failed, if it did.
fn leak(input: &str, values: &[String]) -> Option<String> {
    let out = redact(input);
    let folded_out = Folded::new(&out).text;
    for v in values {
        if out.contains(v.as_str()) {
            return Some(format!("{input:?} -> {out:?}: {v:?} kept"));
        }
        if let Some(w) = digit_windows(v)
            .into_iter()
            .find(|w| folded_out.contains(w))
        {
            return Some(format!("{input:?} -> {out:?}: digits {w} of {v:?} kept"));
        }
    }
    if !TOKENS.iter().any(|t| out.contains(t)) {
        return Some(format!("{input:?} -> {out:?}: no token"));
    }
    None
}

fn survive_cases() -> Vec<String> {
    let mut out: Vec<String> = SURVIVE.iter().map(|s| s.to_string()).collect();
    out.extend(
        SURVIVE
            .iter()
            .filter(|s| s.chars().any(|c| c.is_ascii_graphic()))
            .map(|s| fw(s)),
    );
    out
}

#[test]
fn personal_table_has_at_least_150_forms_and_every_value_goes() {
    let cases = personal_cases();
    assert!(cases.len() >= 150, "only {} forms", cases.len());
    let leaks: Vec<String> = cases.iter().filter_map(|(i, v)| leak(i, v)).collect();
    assert!(
        leaks.is_empty(),
        "{} of {} leak:\n{}",
        leaks.len(),
        cases.len(),
        leaks.join("\n")
    );
}

#[test]
fn survive_table_is_unchanged() {
    let changed: Vec<String> = survive_cases()
        .iter()
        .filter_map(|s| {
            let out = redact(s);
            (out != *s).then(|| format!("{s:?} -> {out:?}"))
        })
        .collect();
    assert!(changed.is_empty(), "changed:\n{}", changed.join("\n"));
}

#[test]
fn tokens_and_context_are_kept_in_place() {
    let cases = [
        (
            "携帯０９０－１２３４－５６７８に折り返し希望",
            "携帯[電話番号]に折り返し希望",
        ),
        ("FAX 06-6941-0351 へ送付済み", "FAX [電話番号] へ送付済み"),
        ("(06)6941-0351まで", "[電話番号]まで"),
        (
            "連絡先 taro.yamada@example.co.jp まで",
            "連絡先 [メール] まで",
        ),
        (
            "マイナンバー１２３４ ５６７８ ９０１２を伝えた",
            "マイナンバー[個人番号]を伝えた",
        ),
        (
            "〒５３０－０００１　大阪市北区梅田１丁目",
            "[郵便番号]　大阪市北区梅田[番地]",
        ),
        (
            "大阪市北区中之島１丁目３番２０号に住んでいる",
            "大阪市北区中之島[番地]に住んでいる",
        ),
        ("豊中市中桜塚3-1-1 101号室", "豊中市中桜塚[番地]"),
        (
            "鈴木様より電話、0669410351へ折り返し",
            "[氏名]様より電話、[電話番号]へ折り返し",
        ),
        (
            "昭和50年1月1日生まれの山田太郎と申します",
            "[生年月日]生まれの[氏名]と申します",
        ),
        ("カード番号4111-1111-1111-1111", "カード番号[カード番号]"),
        ("高橋花子様（タカハシハナコ）", "[氏名]様（[氏名]）"),
        // The examples of docs/stats.md.
        ("06(6941)0351に折り返し", "[電話番号]に折り返し"),
        ("連絡先 taro(at)example.jp まで", "連絡先 [メール] まで"),
        (
            "マイナンバー１２３４　５６７８　９０１２を伝えた",
            "マイナンバー[個人番号]を伝えた",
        ),
        (
            "〒５３００００１　大阪市北区梅田１丁目",
            "[郵便番号]　大阪市北区梅田[番地]",
        ),
        ("鈴木様より電話", "[氏名]様より電話"),
    ];
    for (input, want) in cases {
        assert_eq!(redact(input), want, "input {input:?}");
    }
}

#[test]
fn redaction_is_idempotent() {
    for (input, _) in personal_cases() {
        let once = redact(&input);
        assert_eq!(redact(&once), once, "input {input:?}");
    }
}

/// Prints recall on the personal table, precision on the survive table and every change made
/// to the 749 localgovFAQ queries (real citizen questions with almost no personal data).
#[test]
#[ignore = "reads ../shared/data/localgovfaq; run with --ignored --nocapture"]
fn report() {
    let cases = personal_cases();
    let leaks: Vec<String> = cases.iter().filter_map(|(i, v)| leak(i, v)).collect();
    println!(
        "recall: {}/{} personal forms redacted ({:.1} %)",
        cases.len() - leaks.len(),
        cases.len(),
        100.0 * (cases.len() - leaks.len()) as f64 / cases.len() as f64
    );
    for l in &leaks {
        println!("  leak {l}");
    }
    let survive = survive_cases();
    let kept = survive.iter().filter(|s| redact(s) == **s).count();
    println!(
        "precision: {kept}/{} ordinary texts unchanged ({:.1} %)",
        survive.len(),
        100.0 * kept as f64 / survive.len() as f64
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/localgovfaq/queries.json");
    let text = std::fs::read_to_string(&path).expect("localgovFAQ queries");
    let queries: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&text).expect("queries.json");
    let mut changed = 0;
    for (id, q) in &queries {
        let out = redact(q);
        if out != *q {
            changed += 1;
            println!("  localgovFAQ {id}: {q}\n               -> {out}");
        }
    }
    println!(
        "localgovFAQ: {changed} of {} queries changed",
        queries.len()
    );
    // The FAQ texts (department-written questions and answers): public phone numbers and
    // office addresses are redacted by policy; every other token is printed to be read.
    let path = path.with_file_name("corpus.json");
    let text = std::fs::read_to_string(&path).expect("localgovFAQ corpus");
    let faq: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&text).expect("corpus.json");
    let mut per_token = std::collections::BTreeMap::<&str, usize>::new();
    let mut changed = 0;
    for (id, doc) in &faq {
        let out = redact(doc);
        if out == *doc {
            continue;
        }
        changed += 1;
        for t in TOKENS {
            let n = out.matches(t).count();
            if n > 0 {
                *per_token.entry(t).or_default() += n;
                if ![PHONE, POSTAL_CODE, STREET_NUMBER].contains(&t) {
                    for (i, _) in out.match_indices(t) {
                        let a = out[..i].char_indices().rev().nth(15).map_or(0, |(b, _)| b);
                        let b = out[i..]
                            .char_indices()
                            .nth(20)
                            .map_or(out.len(), |(b, _)| i + b);
                        println!("  FAQ {id}: …{}…", out[a..b].replace('\n', " "));
                    }
                }
            }
        }
    }
    println!(
        "localgovFAQ FAQ texts: {changed} of {} changed; tokens {per_token:?}",
        faq.len()
    );
}
