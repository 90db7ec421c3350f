//! Retrieval evaluation: Recall@k, Precision@k, nDCG@k (gain = grade) and MRR@k over graded
//! judgments, and TREC run files.
//!
//! Definitions (as in `shared/tools/anchors/ir_eval.py` and trec_eval): a document is
//! relevant when its grade is ≥ 1; Recall@k = |relevant ∩ top k| / |relevant|;
//! Precision@k = |relevant ∩ top k| / k; DCG@k = Σ grade_i / log2(i + 1) over ranks
//! i = 1..k (Järvelin & Kekäläinen, "Cumulated gain-based evaluation of IR techniques",
//! TOIS 2002, with linear gain); nDCG@k = DCG@k / ideal DCG@k from all judged documents;
//! MRR@k = mean of 1 / rank of the first relevant document in the top k (0 if none).
//! Queries without relevant documents are skipped; queries with no results score 0.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::search::RankingParams;

/// Graded judgments: query id → document id → grade.
pub type Qrels = HashMap<String, HashMap<String, u32>>;

/// A run: query id → ranked document ids with scores, best first.
pub type Run = HashMap<String, Vec<(String, f32)>>;

/// Mean metrics over the evaluated queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Metrics {
    /// Mean Recall@k.
    pub recall: f64,
    /// Mean Precision@k.
    pub precision: f64,
    /// Mean nDCG@k with linear gain.
    pub ndcg: f64,
    /// Mean reciprocal rank @k.
    pub mrr: f64,
    /// Number of queries evaluated.
    pub queries: usize,
}

/// Evaluates `run` against `qrels` at cut-off `k`.
pub fn evaluate(run: &Run, qrels: &Qrels, k: usize) -> Metrics {
    let mut m = Metrics::default();
    let mut qids: Vec<&String> = qrels.keys().collect();
    qids.sort();
    for qid in qids {
        let judged = &qrels[qid];
        let n_rel = judged.values().filter(|&&g| g >= 1).count();
        if n_rel == 0 {
            continue;
        }
        m.queries += 1;
        let empty = Vec::new();
        let ranked = run.get(qid).unwrap_or(&empty);
        let top: Vec<&str> = ranked.iter().take(k).map(|(d, _)| d.as_str()).collect();
        let grade = |d: &str| judged.get(d).copied().unwrap_or(0);
        let hits = top.iter().filter(|d| grade(d) >= 1).count();
        m.recall += hits as f64 / n_rel as f64;
        m.precision += hits as f64 / k as f64;
        let dcg: f64 = top
            .iter()
            .enumerate()
            .map(|(i, d)| grade(d) as f64 / ((i + 2) as f64).log2())
            .sum();
        let mut ideal: Vec<u32> = judged.values().copied().collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let idcg: f64 = ideal
            .iter()
            .take(k)
            .enumerate()
            .map(|(i, &g)| g as f64 / ((i + 2) as f64).log2())
            .sum();
        if idcg > 0.0 {
            m.ndcg += dcg / idcg;
        }
        if let Some(pos) = top.iter().position(|d| grade(d) >= 1) {
            m.mrr += 1.0 / (pos + 1) as f64;
        }
    }
    if m.queries > 0 {
        let n = m.queries as f64;
        m.recall /= n;
        m.precision /= n;
        m.ndcg /= n;
        m.mrr /= n;
    }
    m
}

/// One of the two fixed halves of a query set: weights are chosen on [`Half::Tune`] and
/// reported on [`Half::Heldout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// The half weights are tuned on.
    Tune,
    /// The half that plays no part in any choice.
    Heldout,
}

impl Half {
    /// Parses `tune` or `heldout`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for another name.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "tune" => Ok(Self::Tune),
            "heldout" => Ok(Self::Heldout),
            _ => Err(Error::Invalid(format!(
                "half must be `tune` or `heldout`, got {s:?}"
            ))),
        }
    }
}

/// Returns the half query `id` belongs to: the low bit of the 64-bit FNV-1a hash of the id
/// (Fowler, Noll & Vo), so the split is fixed, independent of the set's order and size, and
/// about even (localgovFAQ: 374 tune / 375 held-out).
pub fn half_of(id: &str) -> Half {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    if h & 1 == 0 {
        Half::Tune
    } else {
        Half::Heldout
    }
}

/// Reads a JSON object file `{id: text}` (localgovFAQ `queries.json` shape).
///
/// # Errors
/// [`Error::Invalid`] when the file is not such an object.
pub fn read_queries(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        context: format!("cannot read {}", path.display()),
        source: e,
    })?;
    let map: HashMap<String, String> = serde_json::from_str(&text)
        .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
    let mut v: Vec<(String, String)> = map.into_iter().collect();
    v.sort_by_key(|a| natural(&a.0));
    Ok(v)
}

fn natural(s: &str) -> (u64, String) {
    (s.parse().unwrap_or(u64::MAX), s.to_string())
}

/// Reads qrels: JSON `{qid: {docid: grade}}` or TREC `qid 0 docid grade` lines.
///
/// # Errors
/// [`Error::Invalid`] for other content.
pub fn read_qrels(path: &Path) -> Result<Qrels> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        context: format!("cannot read {}", path.display()),
        source: e,
    })?;
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(&text)
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())));
    }
    let mut q: Qrels = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        if f.len() != 4 {
            return Err(Error::Invalid(format!(
                "{} line {}: expected `qid 0 docid grade`",
                path.display(),
                i + 1
            )));
        }
        let g: u32 = f[3]
            .parse()
            .map_err(|_| Error::Invalid(format!("{} line {}: bad grade", path.display(), i + 1)))?;
        q.entry(f[0].to_string())
            .or_default()
            .insert(f[2].to_string(), g);
    }
    Ok(q)
}

/// Writes `run` as a TREC run file (`qid Q0 docid rank score tag`), queries in `order`.
///
/// # Errors
/// I/O errors.
pub fn write_trec_run(path: &Path, run: &Run, order: &[String], tag: &str) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::Io {
        context: format!("cannot create {}", path.display()),
        source: e,
    })?;
    let mut w = std::io::BufWriter::new(file);
    for qid in order {
        for (rank, (doc, score)) in run.get(qid).into_iter().flatten().enumerate() {
            writeln!(w, "{qid} Q0 {doc} {} {score:.6} {tag}", rank + 1).map_err(|e| Error::Io {
                context: format!("cannot write {}", path.display()),
                source: e,
            })?;
        }
    }
    w.flush().map_err(|e| Error::Io {
        context: format!("cannot write {}", path.display()),
        source: e,
    })?;
    Ok(())
}

/// Sorts hits as trec_eval does (score descending, ties by document id descending), so that
/// the metrics computed here equal those of `ir_eval.py` on the written run file.
pub fn trec_order(hits: &mut [(String, f32)]) {
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
}

/// Runs every query through `engine` (top `depth` ids, mapped to `source_id`s, in trec_eval
/// order) and evaluates at `k`.
///
/// # Errors
/// Engine errors.
pub fn run_queries(
    engine: &crate::engine::Engine,
    queries: &[(String, String)],
    qrels: &Qrels,
    k: usize,
    depth: usize,
) -> Result<(Metrics, Run)> {
    let materials = engine.materials();
    let mut run = Run::new();
    for (qid, text) in queries {
        let mut hits: Vec<(String, f32)> = engine
            .rank_ids(text, depth)?
            .into_iter()
            .filter_map(|r| materials.get(&r.id).map(|m| (m.source_id.clone(), r.score)))
            .collect();
        trec_order(&mut hits);
        run.insert(qid.clone(), hits);
    }
    Ok((evaluate(&run, qrels, k), run))
}

/// Counts the response-level match levels `[good, partial, none]` of `queries` (see
/// [`crate::search::quality::MatchLevel`]): on answerable queries `none` should be rare, on
/// unanswerable ones common.
///
/// # Errors
/// As [`crate::engine::Engine::search`].
pub fn match_levels(
    engine: &crate::engine::Engine,
    queries: &[(String, String)],
) -> Result<[usize; 3]> {
    use crate::search::quality::MatchLevel;
    let mut n = [0usize; 3];
    for (_, q) in queries {
        let r = engine.search(&crate::search::SearchRequest::new(q.clone()))?;
        n[match r.match_level {
            MatchLevel::Good => 0,
            MatchLevel::Partial => 1,
            MatchLevel::None => 2,
        }] += 1;
    }
    Ok(n)
}

/// Loads a localgovFAQ `corpus.json` into FAQ materials (source `localgovfaq`).
///
/// # Errors
/// As [`crate::import::read_file`].
pub fn load_localgov_corpus(path: &Path) -> Result<Vec<crate::material::Material>> {
    let opts = crate::import::ImportOptions {
        updated_at: chrono::DateTime::parse_from_rfc3339("2019-01-01T00:00:00+09:00").ok(),
        ..Default::default()
    };
    Ok(crate::import::read_file(path, "localgovfaq", &opts)?.materials)
}

/// The variants of the ablation table: these parameters, then each analysis choice
/// switched off (`kotae eval --ablation`; the README's table).
///
/// The parts issue 13 added to the ranking (readings, abbreviations, the colloquial list)
/// are each switched off alone, and each switched on alone over kotae before issue 13.
pub fn ablation_variants(base: RankingParams) -> Vec<(&'static str, RankingParams)> {
    let d = base;
    let before = RankingParams {
        reading_kana_weight: 0.0,
        reading_weight: 0.0,
        abbrev_weight: 0.0,
        colloquial_weight: 0.0,
        ..d
    };
    vec![
        ("kotae", d),
        (
            "morph only",
            RankingParams {
                use_bigram: false,
                unigram_group_weight: 0.0,
                use_synonyms: false,
                reading_kana_weight: 0.0,
                abbrev_weight: 0.0,
                colloquial_weight: 0.0,
                ..d
            },
        ),
        (
            "bigram only",
            RankingParams {
                use_morph: false,
                unigram_group_weight: 0.0,
                use_synonyms: false,
                reading_kana_weight: 0.0,
                abbrev_weight: 0.0,
                colloquial_weight: 0.0,
                ..d
            },
        ),
        (
            "morph + bigram (no ideograph unigrams)",
            RankingParams {
                unigram_group_weight: 0.0,
                ..d
            },
        ),
        (
            "no synonyms",
            RankingParams {
                use_synonyms: false,
                ..d
            },
        ),
        (
            "no readings",
            RankingParams {
                reading_kana_weight: 0.0,
                reading_weight: 0.0,
                ..d
            },
        ),
        (
            "no abbreviations",
            RankingParams {
                abbrev_weight: 0.0,
                ..d
            },
        ),
        (
            "no colloquial list",
            RankingParams {
                colloquial_weight: 0.0,
                ..d
            },
        ),
        ("kotae before issue 13 (none of the three)", before),
        (
            "before + readings only",
            RankingParams {
                reading_kana_weight: d.reading_kana_weight,
                reading_weight: d.reading_weight,
                ..before
            },
        ),
        (
            "before + abbreviations only",
            RankingParams {
                abbrev_weight: d.abbrev_weight,
                ..before
            },
        ),
        (
            "before + colloquial list only",
            RankingParams {
                colloquial_weight: d.colloquial_weight,
                ..before
            },
        ),
        (
            "no title weighting",
            RankingParams {
                title_morph: d.body_morph,
                title_bigram: d.body_bigram,
                title_unigram: d.body_unigram,
                ..d
            },
        ),
    ]
}

/// The terse ("keyword") shape of a query, the way operators type while a caller speaks:
/// the surface forms of its nouns (IPADIC; a compound's parts left out, adjacent nouns
/// joined into one word, repeats once), at most
/// `max_words`, the longest kept (longer words are the more specific), in the query's order
/// and joined by spaces. A query without nouns is kept as it is.
pub fn terse_query(analyzer: &crate::analysis::Analyzer, q: &str, max_words: usize) -> String {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for t in analyzer.morph_tokens(q) {
        if !t.noun || t.end > q.len() || t.start >= t.end {
            continue;
        }
        // A compound's parts lie inside the compound's span: keep the widest.
        if spans.iter().any(|&(s, e)| s <= t.start && t.end <= e) {
            continue;
        }
        spans.retain(|&(s, e)| !(t.start <= s && e <= t.end));
        spans.push((t.start, t.end));
    }
    // Adjacent nouns are one compound word (国民 健康保険証 → 国民健康保険証); a word
    // repeated counts once.
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if last.1 == s => last.1 = e,
            _ => merged.push((s, e)),
        }
    }
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for x in merged {
        if !spans.iter().any(|&(s, e)| q[s..e] == q[x.0..x.1]) {
            spans.push(x);
        }
    }
    let mut by_len: Vec<(usize, usize)> = spans.clone();
    by_len.sort_by_key(|&(s, e)| (std::cmp::Reverse(q[s..e].chars().count()), s));
    by_len.truncate(max_words);
    spans.retain(|x| by_len.contains(x));
    spans.sort_unstable();
    let words: Vec<&str> = spans.iter().map(|&(s, e)| &q[s..e]).collect();
    if words.is_empty() {
        q.to_string()
    } else {
        words.join(" ")
    }
}

/// Learning from answered inquiries, simulated offline (`kotae eval --feedback-from`; the
/// HTTP measurement is `benches/feedback/run.sh`): every query of `feedback` with judged
/// grade-2 materials becomes one learned query (weight 1) of each of those materials, as an
/// answered inquiry with that search's `query_id` would make it. Returns the learned
/// documents (material ids via `material_of_source`, localgovFAQ id → material id) and the
/// fed materials' source ids.
pub fn feedback_docs(
    feedback: &[(String, String)],
    qrels: &Qrels,
    material_of_source: &HashMap<String, String>,
) -> (
    Vec<crate::search::learned::LearnedDoc>,
    std::collections::HashSet<String>,
) {
    let mut by_material: std::collections::BTreeMap<String, Vec<(String, f32)>> =
        std::collections::BTreeMap::new();
    let mut fed = std::collections::HashSet::new();
    for (qid, text) in feedback {
        let Some(judged) = qrels.get(qid) else {
            continue;
        };
        let mut grade2: Vec<&String> = judged
            .iter()
            .filter(|&(d, &g)| g == 2 && material_of_source.contains_key(d))
            .map(|(d, _)| d)
            .collect();
        grade2.sort();
        for d in grade2 {
            fed.insert(d.clone());
            by_material
                .entry(material_of_source[d].clone())
                .or_default()
                .push((text.clone(), 1.0));
        }
    }
    let docs = by_material
        .into_iter()
        .map(
            |(material_id, queries)| crate::search::learned::LearnedDoc {
                material_id,
                queries,
            },
        )
        .collect();
    (docs, fed)
}

/// Splits `qrels` into the queries some of whose relevant (grade ≥ 1) documents are in
/// `fed` and those none of whose are ("unfed": the answers that never got feedback).
pub fn split_fed(qrels: &Qrels, fed: &std::collections::HashSet<String>) -> (Qrels, Qrels) {
    let (mut a, mut b) = (Qrels::new(), Qrels::new());
    for (q, judged) in qrels {
        if judged.iter().any(|(d, &g)| g >= 1 && fed.contains(d)) {
            a.insert(q.clone(), judged.clone());
        } else {
            b.insert(q.clone(), judged.clone());
        }
    }
    (a, b)
}

/// Before/after metrics of one part of the evaluated half (see [`feedback_eval`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct BeforeAfter {
    /// Without the learned queries.
    pub before: Metrics,
    /// With them.
    pub after: Metrics,
}

/// [`feedback_eval`]'s result for the evaluated half: all its queries, those some of whose
/// relevant answers got feedback ("fed") and those none of whose did ("unfed").
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct FeedbackReport {
    /// Every query of the evaluated half.
    pub all: BeforeAfter,
    /// The fed queries.
    pub fed: BeforeAfter,
    /// The unfed queries.
    pub unfed: BeforeAfter,
    /// Materials with learned queries.
    pub materials: usize,
    /// Learned queries.
    pub learned_queries: usize,
}

/// Learning from answered inquiries on `engine` (a corpus with localgovFAQ source ids),
/// simulated offline: the queries of half `from` teach their grade-2 answers
/// ([`feedback_docs`], learned group `params`), the other half is evaluated at `k` before
/// and after. The engine's learned index is left empty.
///
/// # Errors
/// Engine errors.
pub fn feedback_eval(
    engine: &crate::engine::Engine,
    queries: &[(String, String)],
    qrels: &Qrels,
    from: Half,
    params: crate::search::LearnedParams,
    k: usize,
) -> Result<FeedbackReport> {
    let materials = engine.materials();
    let material_of_source: HashMap<String, String> = materials
        .values()
        .map(|m| (m.source_id.clone(), m.id.clone()))
        .collect();
    let (feedback, evaluated): (Vec<_>, Vec<_>) = queries
        .iter()
        .cloned()
        .partition(|(id, _)| half_of(id) == from);
    let (docs, fed) = feedback_docs(&feedback, qrels, &material_of_source);
    let mut judged = qrels.clone();
    judged.retain(|id, _| evaluated.iter().any(|(q, _)| q == id));
    let (fed_q, unfed_q) = split_fed(&judged, &fed);
    let learned = std::sync::Arc::new(crate::search::LearnedIndex::build(
        &engine.analyzer(),
        &docs,
        params,
    ));
    engine.set_learned(std::sync::Arc::new(crate::search::LearnedIndex::empty()));
    let (_, before) = run_queries(engine, &evaluated, &judged, k, 100)?;
    engine.set_learned(learned.clone());
    let after = run_queries(engine, &evaluated, &judged, k, 100);
    engine.set_learned(std::sync::Arc::new(crate::search::LearnedIndex::empty()));
    let (_, after) = after?;
    let part = |q: &Qrels| BeforeAfter {
        before: evaluate(&before, q, k),
        after: evaluate(&after, q, k),
    };
    Ok(FeedbackReport {
        all: part(&judged),
        fed: part(&fed_q),
        unfed: part(&unfed_q),
        materials: learned.materials(),
        learned_queries: learned.queries(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qrels() -> Qrels {
        let mut q = Qrels::new();
        q.insert(
            "1".into(),
            [("a".to_string(), 2), ("b".to_string(), 1)].into(),
        );
        q.insert("2".into(), [("c".to_string(), 1)].into());
        q
    }

    #[test]
    fn terse_queries_keep_the_longest_nouns_in_order() {
        let a = crate::analysis::Analyzer::builtin().unwrap();
        let q = "国民健康保険証を紛失してしまったので、再発行に必要な持ち物を教えて";
        let t = terse_query(&a, q, 3);
        assert_eq!(t.split(' ').count(), 3, "{t}");
        assert!(t.starts_with("国民健康保険証"), "{t}");
        assert_eq!(terse_query(&a, "です", 3), "です");
    }

    #[test]
    fn feedback_learns_grade_two_answers_and_splits_fed_queries() {
        let q = qrels();
        let ids: HashMap<String, String> = ["a", "b", "c"]
            .iter()
            .map(|d| (d.to_string(), format!("m-{d}")))
            .collect();
        let fb = vec![("1".to_string(), "text one".to_string())];
        let (docs, fed) = feedback_docs(&fb, &q, &ids);
        // Only the grade-2 answer "a" is learned.
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].material_id, "m-a");
        assert_eq!(docs[0].queries, vec![("text one".to_string(), 1.0)]);
        let (f, u) = split_fed(&q, &fed);
        assert_eq!(f.keys().collect::<Vec<_>>(), vec!["1"]);
        assert_eq!(u.keys().collect::<Vec<_>>(), vec!["2"]);
    }

    #[test]
    fn perfect_run_scores_one() {
        let mut run = Run::new();
        run.insert("1".into(), vec![("a".into(), 2.0), ("b".into(), 1.0)]);
        run.insert("2".into(), vec![("c".into(), 1.0)]);
        let m = evaluate(&run, &qrels(), 10);
        assert_eq!(m.queries, 2);
        assert!((m.recall - 1.0).abs() < 1e-12);
        assert!((m.ndcg - 1.0).abs() < 1e-12);
        assert!((m.mrr - 1.0).abs() < 1e-12);
        assert!((m.precision - (2.0 / 10.0 + 1.0 / 10.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn hand_computed_values() {
        let mut run = Run::new();
        // q1: b at rank 1, a at rank 3; q2: nothing.
        run.insert(
            "1".into(),
            vec![("b".into(), 3.0), ("x".into(), 2.0), ("a".into(), 1.0)],
        );
        let m = evaluate(&run, &qrels(), 10);
        let dcg = 1.0 / 2f64.log2() + 2.0 / 4f64.log2();
        let idcg = 2.0 / 2f64.log2() + 1.0 / 3f64.log2();
        assert!((m.ndcg - (dcg / idcg) / 2.0).abs() < 1e-12);
        assert!((m.recall - 0.5).abs() < 1e-12);
        assert!((m.mrr - 0.5).abs() < 1e-12);
    }

    #[test]
    fn trec_order_breaks_ties_by_docid_desc() {
        let mut h = vec![
            ("1".to_string(), 1.0),
            ("2".to_string(), 1.0),
            ("0".to_string(), 2.0),
        ];
        trec_order(&mut h);
        let ids: Vec<&str> = h.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(ids, ["0", "2", "1"]);
    }

    #[test]
    fn halves_split_about_evenly_and_stay_fixed() {
        let ids: Vec<String> = (0..749).map(|i| i.to_string()).collect();
        let tune = ids.iter().filter(|i| half_of(i) == Half::Tune).count();
        assert!((300..450).contains(&tune), "{tune}");
        assert_eq!(half_of("0"), half_of("0"));
        assert!(Half::parse("other").is_err());
    }

    #[test]
    fn ablation_switches_one_choice_off_per_row() {
        let d = RankingParams::default();
        let v = ablation_variants(d);
        assert_eq!(v[0], ("kotae", d));
        assert_eq!(v.len(), 13);
        for (name, p) in &v[1..] {
            assert_ne!(*p, d, "{name}");
        }
        // Each "only" row differs from "before" in its own part alone.
        let before = v
            .iter()
            .find(|x| x.0.starts_with("kotae before"))
            .unwrap()
            .1;
        for (name, p) in v
            .iter()
            .filter(|x| x.0.ends_with("only") && x.0.starts_with("before"))
        {
            assert_ne!(*p, before, "{name}");
            let off = RankingParams {
                reading_kana_weight: 0.0,
                reading_weight: 0.0,
                abbrev_weight: 0.0,
                colloquial_weight: 0.0,
                ..*p
            };
            assert_eq!(off, before, "{name}");
        }
    }
}
