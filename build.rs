//! Compiles the vendored IPADIC source (`dictionaries/ipadic/*.tar.xz`, EUC-JP, as shipped by
//! Debian's `mecab-ipadic` 2.7.0-20070801) into lindera's binary format under `OUT_DIR/ipadic`.
//!
//! Nothing is downloaded: the archive is part of the repository. The compiled files are then
//! packed into one zstd-compressed blob, `OUT_DIR/ipadic.bin.zst` (each file as a u64
//! little-endian length and its bytes, in the order of [`FILES`]), which the binary embeds
//! with `include_bytes!` so that a copied `kotae` needs no dictionary beside it; see
//! `src/analysis/dictionary.rs`.

use std::fs;
use std::path::{Path, PathBuf};

const ARCHIVE: &str = "dictionaries/ipadic/mecab-ipadic-2.7.0-20070801.tar.xz";
const METADATA: &str = "dictionaries/ipadic/metadata.json";

/// The files of a compiled lindera dictionary, in the order they are packed into the blob
/// (`src/analysis/dictionary.rs` reads them in this order).
const FILES: [&str; 9] = [
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

/// zstd level of the embedded blob: 46 MB of compiled IPADIC become about a quarter of that;
/// higher levels compress a little more at many times the build time.
const ZSTD_LEVEL: i32 = 12;

fn main() {
    println!("cargo:rerun-if-changed={ARCHIVE}");
    println!("cargo:rerun-if-changed={METADATA}");
    println!("cargo:rerun-if-changed=build.rs");

    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let dict_dir = out.join("ipadic");
    let stamp = dict_dir.join(".kotae-complete");
    let blob = out.join("ipadic.bin.zst");
    let blob_stamp = out.join("ipadic.bin.zst.complete");
    if !stamp.exists() {
        fs::remove_file(&blob_stamp).ok();
        compile(&manifest, &out, &dict_dir, &stamp);
    }
    if !blob_stamp.exists() {
        pack(&dict_dir, &blob);
        fs::write(&blob_stamp, b"ok").expect("write blob stamp");
    }
}

/// Packs the compiled files into one zstd-compressed blob.
fn pack(dict_dir: &Path, blob: &Path) {
    let mut raw = Vec::new();
    for name in FILES {
        let bytes = fs::read(dict_dir.join(name)).expect("read compiled IPADIC file");
        raw.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        raw.extend_from_slice(&bytes);
    }
    let packed = zstd::stream::encode_all(&raw[..], ZSTD_LEVEL).expect("compress IPADIC");
    fs::write(blob, packed).expect("write ipadic.bin.zst");
}

/// Unpacks the vendored source and compiles it into `dict_dir`.
fn compile(manifest: &Path, out: &Path, dict_dir: &Path, stamp: &Path) {
    let src_root = out.join("ipadic-src");
    if src_root.exists() {
        fs::remove_dir_all(&src_root).expect("remove stale ipadic-src");
    }
    fs::create_dir_all(&src_root).expect("create ipadic-src");
    let archive = fs::File::open(manifest.join(ARCHIVE)).expect("open vendored IPADIC archive");
    let decoder = xz2::read::XzDecoder::new(std::io::BufReader::new(archive));
    tar::Archive::new(decoder)
        .unpack(&src_root)
        .expect("unpack vendored IPADIC archive");
    let src_dir = src_root.join("ipadic");

    let metadata_json = fs::read(manifest.join(METADATA)).expect("read ipadic metadata.json");
    let metadata: lindera_dictionary::dictionary::metadata::Metadata =
        serde_json::from_slice(&metadata_json).expect("parse ipadic metadata.json");
    if dict_dir.exists() {
        fs::remove_dir_all(dict_dir).expect("remove stale ipadic");
    }
    lindera_dictionary::builder::DictionaryBuilder::new(metadata)
        .build_dictionary(&src_dir, dict_dir)
        .expect("compile IPADIC");
    fs::remove_dir_all(&src_root).ok();
    fs::write(stamp, b"ok").expect("write stamp");
}
