//! Compiles the vendored IPADIC source (`dictionaries/ipadic/*.tar.xz`, EUC-JP, as shipped by
//! Debian's `mecab-ipadic` 2.7.0-20070801) into lindera's binary format under `OUT_DIR/ipadic`.
//!
//! Nothing is downloaded: the archive is part of the repository. The compiled dictionary is
//! loaded at run time with `lindera::dictionary::load_fs_dictionary` (memory-mapped), see
//! `src/analysis/dictionary.rs`.

use std::fs;
use std::path::{Path, PathBuf};

const ARCHIVE: &str = "dictionaries/ipadic/mecab-ipadic-2.7.0-20070801.tar.xz";
const METADATA: &str = "dictionaries/ipadic/metadata.json";

fn main() {
    println!("cargo:rerun-if-changed={ARCHIVE}");
    println!("cargo:rerun-if-changed={METADATA}");
    println!("cargo:rerun-if-changed=build.rs");

    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let dict_dir = out.join("ipadic");
    let stamp = dict_dir.join(".kotae-complete");
    if stamp.exists() {
        return;
    }

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
        fs::remove_dir_all(&dict_dir).expect("remove stale ipadic");
    }
    lindera_dictionary::builder::DictionaryBuilder::new(metadata)
        .build_dictionary(&src_dir, &dict_dir)
        .expect("compile IPADIC");
    fs::remove_dir_all(&src_root).ok();
    fs::write(&stamp, b"ok").expect("write stamp");
    let _ = Path::new(&stamp);
}
