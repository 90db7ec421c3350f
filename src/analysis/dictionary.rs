//! Dictionary loading: the system dictionary (IPADIC compiled by `build.rs` from the vendored
//! source) and the operator-editable user dictionary (`dictionaries/user_dict.csv`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use lindera::dictionary::{Dictionary, UserDictionary, load_fs_dictionary};
use lindera_dictionary::builder::DictionaryBuilder;

use super::AnalysisError;

/// The user dictionary shipped with kotae (public-administration terms), used when the data
/// directory has no `dictionaries/user_dict.csv`.
pub const BUILTIN_USER_DICT: &str = include_str!("../../dictionaries/user_dict.csv");

/// A loaded system dictionary plus an optional user dictionary.
pub struct Loaded {
    /// IPADIC.
    pub system: Dictionary,
    /// The user dictionary, if it had any valid entry.
    pub user: Option<UserDictionary>,
}

/// The compiled IPADIC, packed and zstd-compressed by `build.rs` (each file as a u64
/// little-endian length and its bytes, in the order of [`EMBEDDED_FILES`]). Embedding it makes
/// the binary self-contained: a `kotae` copied to a server needs no dictionary beside it.
static EMBEDDED_IPADIC: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ipadic.bin.zst"));

/// The files of the packed blob, in order (the same list as `FILES` in `build.rs`).
const EMBEDDED_FILES: [&str; 9] = [
    "metadata.json",
    "char_def.bin",
    "matrix.mtx",
    "dict.trie",
    "dict.valsidx",
    "dict.vals",
    "dict.wordsidx",
    "dict.words",
    "unk.bin",
];

/// Where the system dictionary comes from (see [`ipadic_source`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpadicSource {
    /// A compiled dictionary directory on disk (memory-mapped).
    Dir(PathBuf),
    /// The copy embedded in the binary (decompressed into memory once per process).
    Embedded,
}

/// Returns where IPADIC is loaded from: `$KOTAE_IPADIC_DIR` if set and not empty; else an `ipadic/`
/// directory beside the executable (an install that keeps the dictionary on disk, so that it
/// is memory-mapped and shared between processes instead of held in each one); else the copy
/// embedded in the binary.
pub fn ipadic_source() -> IpadicSource {
    if let Some(dir) = std::env::var_os("KOTAE_IPADIC_DIR").filter(|d| !d.is_empty()) {
        return IpadicSource::Dir(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|p| p.join("ipadic")))
        .filter(|dir| dir.join("metadata.json").is_file())
    {
        return IpadicSource::Dir(dir);
    }
    IpadicSource::Embedded
}

/// Writes the embedded IPADIC as a compiled dictionary directory `dir` (the layout
/// `KOTAE_IPADIC_DIR` and an `ipadic/` beside the binary expect).
///
/// # Errors
/// [`AnalysisError::Dictionary`] when the blob is corrupt or `dir` cannot be written.
pub fn export_embedded(dir: &Path) -> Result<(), AnalysisError> {
    let err = |message: String| AnalysisError::Dictionary {
        path: dir.display().to_string(),
        message,
    };
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    for (name, bytes) in unpack_embedded().map_err(err)? {
        std::fs::write(dir.join(name), bytes).map_err(|e| err(format!("{name}: {e}")))?;
    }
    Ok(())
}

/// Decompresses the embedded blob into its files.
fn unpack_embedded() -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let raw = zstd::stream::decode_all(EMBEDDED_IPADIC).map_err(|e| e.to_string())?;
    let mut files = Vec::with_capacity(EMBEDDED_FILES.len());
    let mut rest = &raw[..];
    for name in EMBEDDED_FILES {
        let (len, tail) = rest
            .split_first_chunk::<8>()
            .ok_or_else(|| format!("embedded IPADIC is truncated before {name}"))?;
        let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|e| e.to_string())?;
        if tail.len() < len {
            return Err(format!("embedded IPADIC is truncated in {name}"));
        }
        let (bytes, tail) = tail.split_at(len);
        files.push((name, bytes.to_vec()));
        rest = tail;
    }
    Ok(files)
}

/// Builds the dictionary from the embedded blob.
fn load_embedded() -> Result<Dictionary, String> {
    use lindera_dictionary::dictionary::{
        character_definition::CharacterDefinition, connection_cost_matrix::ConnectionCostMatrix,
        metadata::Metadata, prefix_dictionary::PrefixDictionary,
        unknown_dictionary::UnknownDictionary,
    };
    let mut files = unpack_embedded()?.into_iter().map(|(_, b)| b);
    let mut next = || files.next().unwrap_or_default();
    let e = |e: lindera_dictionary::error::LinderaError| e.to_string();
    let metadata = Metadata::load(&next()).map_err(e)?;
    metadata.validate_format_version().map_err(e)?;
    let character_definition = CharacterDefinition::load(&next()).map_err(e)?;
    let connection_cost_matrix = ConnectionCostMatrix::load(next()).map_err(e)?;
    let (trie, vals_idx, vals, words_idx, words) = (next(), next(), next(), next(), next());
    let prefix_dictionary =
        PrefixDictionary::load(trie, vals_idx, vals, words_idx, words).map_err(e)?;
    let unknown_dictionary = UnknownDictionary::load(&next()).map_err(e)?;
    Ok(Dictionary {
        prefix_dictionary: Arc::new(prefix_dictionary),
        connection_cost_matrix: Arc::new(connection_cost_matrix),
        character_definition: Arc::new(character_definition),
        unknown_dictionary: Arc::new(unknown_dictionary),
        metadata: Arc::new(metadata),
    })
}

/// The embedded dictionary, decompressed once per process (a `Dictionary` clone shares it).
static EMBEDDED: OnceLock<Result<Dictionary, String>> = OnceLock::new();

fn load_system() -> Result<Dictionary, AnalysisError> {
    match ipadic_source() {
        IpadicSource::Dir(dir) => load_fs_dictionary(&dir).map_err(|e| AnalysisError::Dictionary {
            path: dir.display().to_string(),
            message: e.to_string(),
        }),
        IpadicSource::Embedded => EMBEDDED
            .get_or_init(load_embedded)
            .clone()
            .map_err(|message| AnalysisError::Dictionary {
                path: "(embedded)".to_string(),
                message,
            }),
    }
}

/// Loads IPADIC and `dict_dir/user_dict.csv` (the built-in one when absent).
///
/// # Errors
/// [`AnalysisError`] when IPADIC cannot be loaded; invalid user-dictionary lines are skipped
/// with a warning.
pub fn load(dict_dir: &Path) -> Result<Loaded, AnalysisError> {
    let path = dict_dir.join("user_dict.csv");
    let csv = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), error = %e, "cannot read user dictionary, using the built-in one");
            }
            BUILTIN_USER_DICT.to_string()
        }
    };
    let system = load_system()?;
    let user = build_user(&system, &csv)?;
    Ok(Loaded { system, user })
}

/// Loads IPADIC and the built-in user dictionary.
///
/// # Errors
/// As [`load`].
pub fn load_builtin() -> Result<Loaded, AnalysisError> {
    let system = load_system()?;
    let user = build_user(&system, BUILTIN_USER_DICT)?;
    Ok(Loaded { system, user })
}

/// Checks the user-dictionary CSV (`surface,part_of_speech,reading`, one entry a line, `#`
/// comments allowed) and returns the valid lines; each invalid line is reported with its
/// 1-based number and reason.
pub fn validate_user_dict(csv: &str) -> (Vec<String>, Vec<(usize, String)>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in csv.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let reason = if fields.len() != 3 {
            Some(format!("expected 3 fields, found {}", fields.len()))
        } else if fields.iter().any(|f| f.is_empty()) {
            Some("empty field".to_string())
        } else if fields[0]
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            Some("surface contains whitespace".to_string())
        } else if fields[0].len() > 256 {
            Some("surface longer than 256 bytes".to_string())
        } else if !seen.insert(fields[0].to_string()) {
            Some(format!("duplicate surface {:?}", fields[0]))
        } else {
            None
        };
        match reason {
            Some(r) => bad.push((i + 1, r)),
            None => ok.push(fields.join(",")),
        }
    }
    (ok, bad)
}

/// IPADIC context id of `名詞,一般` (from its `left-id.def`/`right-id.def`).
const NOUN_GENERAL_CONTEXT_ID: u16 = 1285;

/// Word cost given to user-dictionary entries. lindera's simple format gives every entry a
/// large negative cost, which makes a path through two user words (マイナンバー + カード)
/// cheaper than the longer entry (マイナンバーカード). A cost of 0 is below every IPADIC
/// noun alternative for the same span yet adds up with the number of words, so the longest
/// entry wins.
const USER_WORD_COST: i32 = 0;

/// Turns a simple row `surface,pos,reading` into IPADIC's 13-field row (名詞,一般 context,
/// [`USER_WORD_COST`]), keeping the given part of speech as the second category.
fn detailed_row(simple: &str) -> String {
    let mut f = simple.split(',');
    let surface = f.next().unwrap_or("");
    let _pos = f.next().unwrap_or("");
    let reading = f.next().unwrap_or("*");
    let id = NOUN_GENERAL_CONTEXT_ID;
    format!("{surface},{id},{id},{USER_WORD_COST},名詞,一般,*,*,*,*,{surface},{reading},{reading}")
}

fn build_user(system: &Dictionary, csv: &str) -> Result<Option<UserDictionary>, AnalysisError> {
    let (lines, bad) = validate_user_dict(csv);
    for (line, reason) in &bad {
        tracing::warn!(line, reason = %reason, "skipping user dictionary entry");
    }
    if lines.is_empty() {
        return Ok(None);
    }
    let mut metadata = (*system.metadata).clone();
    metadata.encoding = "UTF-8".to_string();
    let mut content = String::new();
    for line in &lines {
        content.push_str(&detailed_row(line));
        content.push('\n');
    }
    DictionaryBuilder::new(metadata)
        .build_user_dict_from_reader(content.as_bytes())
        .map(Some)
        .map_err(|e| AnalysisError::UserDictionary(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_reports_bad_lines_with_numbers() {
        let csv = "# comment\nマイナンバー,カスタム名詞,マイナンバー\nbad line\n,カスタム名詞,ア\nマイナンバー,カスタム名詞,マイナンバー\n";
        let (ok, bad) = validate_user_dict(csv);
        assert_eq!(
            ok,
            vec!["マイナンバー,カスタム名詞,マイナンバー".to_string()]
        );
        let lines: Vec<usize> = bad.iter().map(|b| b.0).collect();
        assert_eq!(lines, vec![3, 4, 5]);
    }

    #[test]
    fn builtin_user_dict_is_valid_and_large_enough() {
        let (ok, bad) = validate_user_dict(BUILTIN_USER_DICT);
        assert!(bad.is_empty(), "{bad:?}");
        assert!(ok.len() >= 150, "{}", ok.len());
    }
}
