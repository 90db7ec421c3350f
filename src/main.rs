//! The `kotae` command: parses arguments and dispatches to the library.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use kotae::config::FileConfig;
use kotae::engine::{Engine, EngineOptions};
use kotae::import::{ImportKind, ImportOptions};
use kotae::search::{RankingParams, SearchRequest};

/// kotae (答え): answer-material search for inquiry centers.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Data directory holding corpus/, index/, dictionaries/ and the database.
    #[arg(long, env = "KOTAE_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Configuration file (TOML); default DATA_DIR/kotae.toml when present.
    #[arg(long, env = "KOTAE_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the HTTP API.
    Serve {
        /// Listen address, HOST:PORT (default 127.0.0.1:7700).
        #[arg(long, env = "KOTAE_ADDR")]
        addr: Option<String>,
        /// Days after which caller contact details on open escalations are deleted.
        #[arg(long, env = "KOTAE_CONTACT_RETENTION_DAYS")]
        contact_retention_days: Option<u32>,
    },
    /// Build or rebuild the index from corpus/.
    Index {
        /// Rebuild from scratch (default: bring the index in line with the corpus).
        #[arg(long)]
        rebuild: bool,
    },
    /// Import FAQ sets (JSON, JSONL, CSV, localgovFAQ JSON) or contact tables (CSV) into
    /// the corpus and index.
    Import {
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// What the files hold.
        #[arg(long, value_enum, default_value = "faq")]
        kind: KindArg,
        /// CSV column mapping, FIELD=HEADER, repeatable (e.g. --map question=質問).
        #[arg(long = "map", value_name = "FIELD=HEADER")]
        map: Vec<String>,
        /// Do not extract 【お問い合わせ】 contact blocks from FAQ answers.
        #[arg(long)]
        no_contacts: bool,
        /// Corpus collection to write (default: imported/FILE-STEM).
        #[arg(long)]
        collection: Option<String>,
        /// The files' text encoding: utf-8, shift_jis (cp932), euc-jp (default: detected;
        /// Excel's 「CSV (コンマ区切り)」 is Shift_JIS).
        #[arg(long)]
        encoding: Option<String>,
    },
    /// Write a corpus collection back to CSV (UTF-8 with BOM, for Excel) or JSONL, in the
    /// importer's shape: `kotae import FILE --collection NAME` updates it in place.
    Export {
        /// The collection (e.g. imported/国保FAQ); omitted: the collections are listed.
        collection: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Output file (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Search from the command line.
    Search {
        /// The query.
        query: String,
        /// Number of hits.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print the JSON response.
        #[arg(long)]
        json: bool,
    },
    /// Crawl websites (--seed URL, or [crawl] sources in the config file) into the corpus,
    /// then update the index.
    Crawl {
        /// Start URL (repeatable); its host is allowed, robots.txt and sitemaps followed.
        #[arg(long = "seed", value_name = "URL")]
        seeds: Vec<String>,
        /// Overrides the per-host delay between requests, in milliseconds.
        #[arg(long)]
        delay_ms: Option<u64>,
        /// Overrides the number of concurrent requests.
        #[arg(long)]
        concurrency: Option<usize>,
        /// Overrides the number of requests per source.
        #[arg(long)]
        max_pages: Option<usize>,
        /// Overrides the recrawl interval in seconds (0 revalidates every known page).
        #[arg(long)]
        recrawl_interval_secs: Option<u64>,
        /// Do not update the index afterwards.
        #[arg(long)]
        no_index: bool,
    },
    /// Copy the data directory (database, corpus, dictionaries, crawl state, configuration)
    /// into DEST, consistently, also while the server runs.
    Backup {
        /// A new or empty directory.
        dest: PathBuf,
    },
    /// Bring a backup back into the data directory (which must be empty unless --force).
    Restore {
        /// A directory written by `kotae backup`.
        src: PathBuf,
        /// Replace the corpus, dictionaries, crawl state, index and database already there.
        #[arg(long)]
        force: bool,
    },
    /// Evaluate retrieval quality on a localgovFAQ-shaped set.
    Eval {
        /// corpus.json ({id: "Question: …\nAnswer: …"}).
        #[arg(long)]
        corpus: PathBuf,
        /// queries.json ({id: text}).
        #[arg(long)]
        queries: PathBuf,
        /// qrels.json ({qid: {docid: grade}}) or TREC qrels.
        #[arg(long)]
        qrels: PathBuf,
        /// Write a TREC run file here.
        #[arg(long)]
        run: Option<PathBuf>,
        /// Metric cut-off.
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// Also evaluate each analysis choice switched off (ablation table).
        #[arg(long)]
        ablation: bool,
        /// Evaluate one half of the queries only: `tune` or `heldout` (a fixed split by a
        /// hash of the query id, see `kotae::eval::half_of`).
        #[arg(long, value_parser = ["tune", "heldout"])]
        half: Option<String>,
        /// queries.json of questions the corpus cannot answer: also report the response-level
        /// `match` (good / partial / none) on them and on the answerable queries.
        #[arg(long)]
        unanswerable: Option<PathBuf>,
        /// Override ranking weights, e.g. `title_morph=1.5,body_bigram=0.2` (fields of
        /// `search::RankingParams`).
        #[arg(long)]
        weights: Option<String>,
        /// Evaluate one configuration per line of this file (`name<TAB>overrides`, the
        /// overrides applied after `--weights`; `#` comments), on one index.
        #[arg(long)]
        variants: Option<PathBuf>,
        /// Simulate learning from answered inquiries: every query of this half (`tune` or
        /// `heldout`) with grade-2 judgments is learned for those materials, then the other
        /// half is evaluated before and after, all and split into queries whose relevant
        /// materials got feedback ("fed") or none ("unfed"). `--run` and `--terse` do not
        /// apply.
        #[arg(long, value_parser = ["tune", "heldout"])]
        feedback_from: Option<String>,
        /// Learned group parameters for `--feedback-from`, e.g. `weight=1,min_coverage=0.3`
        /// (fields of `search::LearnedParams`).
        #[arg(long)]
        learned: Option<String>,
        /// Evaluate the terse shape of every query instead (at most 3 of its nouns, see
        /// `kotae::eval::terse_query`), as operators type.
        #[arg(long)]
        terse: bool,
        /// Write the queries evaluated (after `--half` and `--terse`) to this JSON file
        /// ({id: text}, for the anchors).
        #[arg(long)]
        write_queries: Option<PathBuf>,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ExportFormat {
    Csv,
    Jsonl,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum KindArg {
    Faq,
    Contact,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn bar(len: u64, msg: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(msg.to_string());
    pb
}

fn open_engine(data_dir: &Path) -> anyhow::Result<Engine> {
    let pb = spinner("loading dictionaries, corpus and index");
    let e = Engine::open(&EngineOptions::new(data_dir));
    pb.finish_and_clear();
    match e {
        Err(kotae::error::Error::Index(kotae::index::IndexError::Tantivy(
            tantivy::TantivyError::LockFailure(..),
        ))) => bail!(
            "another kotae process holds the index of {} (a `kotae serve` that does not answer on \
             the address in {}, or another write command): wait for it to finish, or stop it",
            data_dir.display(),
            data_dir.join(kotae::control::SERVE_FILE).display()
        ),
        e => e.with_context(|| format!("cannot open the data directory {}", data_dir.display())),
    }
}

/// Returns the server running on `data_dir`, if any, with a runtime to talk to it.
fn running_server(data_dir: &Path) -> Option<(tokio::runtime::Runtime, kotae::control::Server)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let server = rt.block_on(kotae::control::Server::find(data_dir))?;
    Some((rt, server))
}

/// Asks the running server to bring its index in line with the corpus; prints the result.
fn server_sync(
    rt: &tokio::runtime::Runtime,
    server: &kotae::control::Server,
) -> anyhow::Result<()> {
    let r = rt.block_on(server.post("/api/admin/sync"))?;
    println!(
        "the running server (pid {}, http://{}) indexed the change: {} materials ({} updated, {} removed)",
        server.info.pid, server.info.addr, r["materials"], r["upserted"], r["removed"]
    );
    Ok(())
}

/// Asks the running server for a full rebuild and follows the job to its end.
fn server_rebuild(
    rt: &tokio::runtime::Runtime,
    server: &kotae::control::Server,
) -> anyhow::Result<()> {
    let r = rt.block_on(server.post("/api/admin/reindex"))?;
    let id = r["job_id"].as_str().unwrap_or_default().to_string();
    println!(
        "the running server (pid {}, http://{}) rebuilds the index beside the live one (job {id})",
        server.info.pid, server.info.addr
    );
    let pb = bar(0, "indexing");
    loop {
        let j = rt.block_on(server.get(&format!("/api/jobs/{id}")))?;
        pb.set_length(j["total"].as_u64().unwrap_or(0));
        pb.set_position(j["done"].as_u64().unwrap_or(0));
        match j["status"].as_str() {
            Some("done") => {
                pb.finish_and_clear();
                println!("rebuilt: generation {} is live", j["generation"]);
                return Ok(());
            }
            Some("failed") => {
                pb.finish_and_clear();
                bail!(
                    "the rebuild failed (the old index stays live): {}",
                    j["error"]
                );
            }
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let data_dir = cli.data_dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let file = FileConfig::discover(cli.config.as_deref(), &data_dir)?;
    kotae::telemetry::init_logging(&file.log.clone().unwrap_or_default());
    let data_dir = cli.data_dir.or(file.data_dir.clone()).unwrap_or(data_dir);
    match cli.command {
        Command::Serve {
            addr,
            contact_retention_days,
        } => kotae::http::serve::run(&kotae::http::serve::ServeOptions {
            data_dir,
            addr,
            config: cli.config,
            file,
            contact_retention_days,
        }),
        Command::Index { rebuild } => {
            if let Some((rt, server)) = running_server(&data_dir) {
                return if rebuild {
                    server_rebuild(&rt, &server)
                } else {
                    server_sync(&rt, &server)
                };
            }
            let engine = open_engine(&data_dir)?;
            // An index found new or stale at open was just built from this corpus: not twice.
            if rebuild && engine.rebuilt_at_open() {
                println!(
                    "indexed {} materials from {}",
                    engine.materials().len(),
                    engine.corpus().root().display()
                );
            } else if rebuild {
                let pb = bar(engine.materials().len() as u64, "indexing");
                let n = engine.rebuild(|done, total| {
                    pb.set_length(total as u64);
                    pb.set_position(done as u64);
                })?;
                pb.finish_and_clear();
                println!(
                    "indexed {n} materials from {}",
                    engine.corpus().root().display()
                );
            } else {
                let (up, rm) = engine.sync_from_corpus()?;
                println!(
                    "index in line with the corpus: {} materials ({up} updated, {rm} removed)",
                    engine.materials().len()
                );
            }
            Ok(())
        }
        Command::Import {
            files,
            kind,
            map,
            no_contacts,
            collection,
            encoding,
        } => {
            let encoding = match encoding.as_deref() {
                None => None,
                Some(e) => Some(kotae::import::decode::parse(e).ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown --encoding {e:?}: use {}",
                        kotae::import::decode::NAMES
                    )
                })?),
            };
            let mut opts = ImportOptions {
                encoding,
                kind: match kind {
                    KindArg::Faq => ImportKind::Faq,
                    KindArg::Contact => ImportKind::Contact,
                },
                extract_contacts: !no_contacts,
                ..Default::default()
            };
            for m in map {
                let Some((f, h)) = m.split_once('=') else {
                    bail!("--map expects FIELD=HEADER, got {m:?}");
                };
                opts.columns
                    .insert(f.trim().to_string(), h.trim().to_string());
            }
            // Read and validate every file before touching the corpus.
            let pb = bar(files.len() as u64, "reading");
            let mut batches = Vec::new();
            for f in &files {
                let source = f
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_else(|| f.display().to_string());
                let imported = kotae::import::read_file(f, &source, &opts)?;
                let name = kotae::import::collection_for(f, collection.as_deref());
                batches.push((f.clone(), name, imported));
                pb.inc(1);
            }
            pb.finish_and_clear();
            let server = running_server(&data_dir);
            // Beside a running server the corpus is written here (under the corpus lock)
            // and the server, the index's one writer, indexes it.
            let engine = match &server {
                Some(_) => None,
                None => Some(open_engine(&data_dir)?),
            };
            let corpus = kotae::corpus::Corpus::open(data_dir.join("corpus"))?;
            for (f, name, imported) in batches {
                let n_contacts = imported.contacts.len();
                let blocks = imported.contact_blocks_seen;
                let mut all = imported.materials;
                all.extend(imported.contacts);
                // Records without their own updated_at keep the stored date when unchanged.
                let stored = corpus.read_collection(&name)?;
                kotae::import::keep_dates_of_unchanged(&mut all, imported.imported_at, &stored);
                let pb = spinner(&format!("indexing {}", f.display()));
                let stats = match &engine {
                    Some(e) => e.upsert(&name, all)?,
                    None => corpus.upsert(&name, all)?,
                };
                pb.finish_and_clear();
                println!(
                    "{}: {} added, {} updated, {} unchanged into corpus/{name}.jsonl; {n_contacts} contact records ({blocks} お問い合わせ blocks found, deduplicated)",
                    f.display(),
                    stats.added,
                    stats.updated,
                    stats.unchanged
                );
            }
            if let Some((rt, server)) = &server {
                server_sync(rt, server)?;
            }
            Ok(())
        }
        Command::Export {
            collection,
            format,
            out,
        } => {
            // The corpus alone: no index writer, so an export works beside a running server.
            let corpus = kotae::corpus::Corpus::open(data_dir.join("corpus"))?;
            let names = corpus.collections()?;
            let Some(name) = collection else {
                bail!(
                    "name the collection to export; the corpus has: {}",
                    names.join(", ")
                );
            };
            if !names.contains(&name) {
                bail!(
                    "no collection {name:?} in the corpus; it has: {}",
                    names.join(", ")
                );
            }
            let materials = corpus.read_collection(&name)?;
            let text = match format {
                ExportFormat::Csv => kotae::import::export::to_csv(&materials),
                ExportFormat::Jsonl => kotae::import::export::to_jsonl(&materials),
            }
            .map_err(|e| anyhow::anyhow!("cannot write the export: {e}"))?;
            match out {
                Some(p) => {
                    std::fs::write(&p, text)
                        .with_context(|| format!("cannot write {}", p.display()))?;
                    eprintln!(
                        "{}: {} materials of {name}; edit and run `kotae import {} --collection {name}`",
                        p.display(),
                        materials.len(),
                        p.display()
                    );
                }
                None => print!("{text}"),
            }
            Ok(())
        }
        Command::Search { query, limit, json } => {
            // Read-only: works beside a running server (which holds the index writer).
            let pb = spinner("loading dictionaries, corpus and index");
            let engine =
                Engine::open_read_only(&EngineOptions::new(&data_dir)).with_context(|| {
                    format!("cannot open the data directory {}", data_dir.display())
                })?;
            pb.finish_and_clear();
            let mut req = SearchRequest::new(query);
            req.limit = limit;
            let resp = engine.search(&req)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&resp)?);
            } else {
                use std::io::IsTerminal;
                let bold = std::io::stdout().is_terminal();
                println!("{} hits in {:.2} ms", resp.total, resp.took_ms);
                for (i, h) in resp.hits.iter().enumerate() {
                    for line in kotae::terminal::hit_lines(i + 1, h, bold) {
                        println!("{line}");
                    }
                }
            }
            Ok(())
        }
        Command::Crawl {
            seeds,
            delay_ms,
            concurrency,
            max_pages,
            recrawl_interval_secs,
            no_index,
        } => {
            let mut cfg = match file.crawl.clone() {
                Some(t) => kotae::crawl::CrawlConfig::from_table(t)?,
                None => kotae::crawl::CrawlConfig::default(),
            };
            cfg.add_seeds(seeds);
            if let Some(d) = delay_ms {
                cfg.delay_ms = d;
            }
            if let Some(n) = concurrency {
                cfg.concurrency = n;
            }
            if let Some(n) = max_pages {
                cfg.max_pages = n;
            }
            if let Some(s) = recrawl_interval_secs {
                cfg.recrawl_interval_secs = s;
            }
            crawl(&data_dir, &cfg, !no_index)
        }
        Command::Backup { dest } => {
            let paths = data_paths(&data_dir, cli.config.as_deref(), &file);
            let r = kotae::backup::backup(&paths, &dest)?;
            println!(
                "backed up {} files ({} bytes) from {} into {}",
                r.files,
                r.bytes,
                data_dir.display(),
                dest.display()
            );
            Ok(())
        }
        Command::Restore { src, force } => {
            let paths = data_paths(&data_dir, cli.config.as_deref(), &file);
            let r = kotae::backup::restore(&src, &paths, force)?;
            println!(
                "restored {} files ({} bytes) from {} into {}; the index is rebuilt at the next start",
                r.files,
                r.bytes,
                src.display(),
                data_dir.display()
            );
            Ok(())
        }
        Command::Eval {
            corpus,
            queries,
            qrels,
            run,
            k,
            ablation,
            half,
            unanswerable,
            weights,
            variants,
            feedback_from,
            learned,
            terse,
            write_queries,
        } => {
            let base_spec = weights.unwrap_or_default();
            let w = RankingParams::parse_overrides(&base_spec)?;
            let variants = match variants {
                Some(path) => Some(read_variants(&path, &base_spec)?),
                None => None,
            };
            let opts = EvalOptions {
                run: run.as_deref(),
                k,
                ablation,
                half: half.as_deref(),
                unanswerable: unanswerable.as_deref(),
                variants,
                feedback_from: feedback_from.as_deref(),
                terse,
                write_queries: write_queries.as_deref(),
                learned: kotae::search::LearnedParams::parse_overrides(
                    learned.as_deref().unwrap_or(""),
                )?,
            };
            eval(&corpus, &queries, &qrels, &opts, w)
        }
    }
}

/// The data directory, database and configuration file as `serve` would use them.
fn data_paths(
    data_dir: &Path,
    config: Option<&Path>,
    file: &FileConfig,
) -> kotae::backup::DataPaths {
    let default_config = data_dir.join("kotae.toml");
    kotae::backup::DataPaths {
        data_dir: data_dir.to_path_buf(),
        database: file
            .stats
            .as_ref()
            .and_then(|s| s.database.clone())
            .unwrap_or_else(|| data_dir.join("kotae.db")),
        config: config
            .map(Path::to_path_buf)
            .or_else(|| default_config.is_file().then_some(default_config)),
    }
}

/// The options of `kotae eval` besides its three files.
struct EvalOptions<'a> {
    run: Option<&'a Path>,
    k: usize,
    ablation: bool,
    half: Option<&'a str>,
    unanswerable: Option<&'a Path>,
    variants: Option<Vec<(String, RankingParams)>>,
    feedback_from: Option<&'a str>,
    learned: kotae::search::LearnedParams,
    terse: bool,
    write_queries: Option<&'a Path>,
}

/// Reads `kotae eval --variants`: one `name<TAB>overrides` per line (overrides after
/// `base_spec`), blank lines and `#` comments skipped.
fn read_variants(path: &Path, base_spec: &str) -> anyhow::Result<Vec<(String, RankingParams)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the variants file {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (name, spec) = line.split_once('\t').unwrap_or((line, line));
        let w = RankingParams::parse_overrides(&format!("{base_spec},{spec}"))
            .with_context(|| format!("{}:{}", path.display(), i + 1))?;
        out.push((name.trim().to_string(), w));
    }
    Ok(out)
}

fn eval(
    corpus: &Path,
    queries: &Path,
    qrels: &Path,
    opts: &EvalOptions<'_>,
    base: RankingParams,
) -> anyhow::Result<()> {
    let (run_path, k, ablation) = (opts.run, opts.k, opts.ablation);
    let materials = kotae::eval::load_localgov_corpus(corpus)?;
    let mut queries = kotae::eval::read_queries(queries)?;
    if let Some(from) = opts.feedback_from {
        return eval_feedback(materials, queries, qrels, from, opts, base);
    }
    if let Some(h) = opts.half {
        let want = kotae::eval::Half::parse(h)?;
        queries.retain(|(id, _)| kotae::eval::half_of(id) == want);
    }
    let mut qrels = kotae::eval::read_qrels(qrels)?;
    qrels.retain(|id, _| queries.iter().any(|(q, _)| q == id));
    let analyzer = Arc::new(kotae::analysis::Analyzer::builtin()?);
    if opts.terse {
        for (_, q) in &mut queries {
            *q = kotae::eval::terse_query(&analyzer, q, 3);
        }
    }
    if let Some(p) = opts.write_queries {
        let map: serde_json::Map<String, serde_json::Value> = queries
            .iter()
            .map(|(id, q)| (id.clone(), serde_json::Value::String(q.clone())))
            .collect();
        std::fs::write(p, serde_json::to_string_pretty(&map)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    let pb = spinner(&format!("indexing {} materials", materials.len()));
    let started = std::time::Instant::now();
    let engine = Engine::ephemeral(analyzer, materials)?;
    pb.finish_and_clear();
    eprintln!(
        "indexed {} materials in {:.2} s",
        engine.materials().len(),
        started.elapsed().as_secs_f64()
    );
    let variants: Vec<(String, RankingParams)> = if let Some(v) = &opts.variants {
        v.clone()
    } else if ablation {
        kotae::eval::ablation_variants(base)
            .into_iter()
            .map(|(n, w)| (n.to_string(), w))
            .collect()
    } else {
        vec![("kotae".to_string(), base)]
    };
    println!("| configuration | R@{k} | P@{k} | nDCG@{k} | MRR@{k} |");
    println!("|---|---|---|---|---|");
    for (i, (name, w)) in variants.iter().enumerate() {
        engine.set_ranking_params(*w);
        let (m, run) = kotae::eval::run_queries(&engine, &queries, &qrels, k, 100)?;
        println!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.3} |",
            m.recall, m.precision, m.ndcg, m.mrr
        );
        if i == 0
            && let Some(p) = run_path
        {
            let order: Vec<String> = queries.iter().map(|q| q.0.clone()).collect();
            kotae::eval::write_trec_run(p, &run, &order, "kotae")?;
        }
    }
    if let Some(path) = opts.unanswerable {
        engine.set_ranking_params(base);
        let unanswerable = kotae::eval::read_queries(path)?;
        println!();
        println!("| queries | match good | partial | none |");
        println!("|---|---|---|---|");
        for (name, set) in [("answerable", &queries), ("unanswerable", &unanswerable)] {
            let [g, p, n] = kotae::eval::match_levels(&engine, set)?;
            println!("| {name} ({}) | {g} | {p} | {n} |", set.len());
        }
    }
    eprintln!("{} queries", queries.len());
    Ok(())
}

/// `kotae eval --feedback-from`: learned queries from one half, the other half evaluated
/// before and after (all, fed, unfed), for each variant.
fn eval_feedback(
    materials: Vec<kotae::material::Material>,
    queries: Vec<(String, String)>,
    qrels: &Path,
    from: &str,
    opts: &EvalOptions<'_>,
    base: RankingParams,
) -> anyhow::Result<()> {
    let from = kotae::eval::Half::parse(from)?;
    let qrels = kotae::eval::read_qrels(qrels)?;
    let analyzer = Arc::new(kotae::analysis::Analyzer::builtin()?);
    let engine = Engine::ephemeral(analyzer, materials)?;
    let variants = opts
        .variants
        .clone()
        .unwrap_or_else(|| vec![("kotae".to_string(), base)]);
    let k = opts.k;
    println!(
        "| configuration | queries | R@{k} before → after | nDCG@{k} before → after | MRR@{k} before → after |"
    );
    println!("|---|---|---|---|---|");
    for (name, w) in &variants {
        engine.set_ranking_params(*w);
        let r = kotae::eval::feedback_eval(&engine, &queries, &qrels, from, opts.learned, k)?;
        eprintln!(
            "feedback: {} materials, {} learned queries",
            r.materials, r.learned_queries
        );
        for (part, x) in [("all", r.all), ("fed", r.fed), ("unfed", r.unfed)] {
            let (a, b) = (x.before, x.after);
            println!(
                "| {name} {part} | {} | {:.3} → {:.3} | {:.3} → {:.3} ({:+.3}) | {:.3} → {:.3} |",
                a.queries,
                a.recall,
                b.recall,
                a.ndcg,
                b.ndcg,
                b.ndcg - a.ndcg,
                a.mrr,
                b.mrr
            );
        }
    }
    Ok(())
}

fn crawl(data_dir: &Path, cfg: &kotae::crawl::CrawlConfig, index: bool) -> anyhow::Result<()> {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {pos} responses ({per_sec}) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(200));
    let mut opts = kotae::crawl::RunOptions::new(data_dir);
    opts.progress = pb;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let started = std::time::Instant::now();
    let cancel = opts.cancel.clone();
    let report = rt.block_on(async {
        // Ctrl-C: finish the requests in flight, save the state, stop (the next run resumes).
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("stopping: finishing requests in flight and saving the crawl state");
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        });
        kotae::crawl::run(cfg, &opts).await
    })?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "crawled in {secs:.1} s: {} fetched, {} not modified, {} kept, {} failed, {} robots-disallowed; \
         {} pages indexed, {} materials written ({} faq, {} contact), {} removed ({} pages gone); \
         {} noindex, {} duplicates, {} documents known but not indexed",
        report.fetched,
        report.not_modified,
        report.kept,
        report.failed,
        report.robots_disallowed,
        report.indexed_pages,
        report.materials_written,
        report.faq,
        report.contacts,
        report.removed_materials,
        report.removed_pages,
        report.noindex,
        report.duplicates,
        report.documents
    );
    for (reason, n) in &report.reasons {
        println!("  {reason}: {n}");
    }
    if index && let Some((rt, server)) = running_server(data_dir) {
        return server_sync(&rt, &server);
    }
    if index {
        // The crawl wrote the corpus only; the engine brings the index in line with it.
        let not_indexed = "the corpus is updated but the index is not (run `kotae index` once \
                           no other kotae process holds the index)";
        let engine = open_engine(data_dir).context(not_indexed)?;
        let pb = spinner("updating the index");
        engine.sync_from_corpus().context(not_indexed)?;
        pb.finish_and_clear();
        println!(
            "index in line with the corpus: {} materials",
            engine.materials().len()
        );
    }
    Ok(())
}
