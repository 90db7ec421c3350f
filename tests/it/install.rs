//! Installs where it is copied: the built `kotae` binary, copied alone into a directory with no
//! `KOTAE_IPADIC_DIR`, loads its embedded IPADIC and searches; an `ipadic/` beside it is used
//! instead when present.

use std::path::Path;
use std::process::Command;

use crate::common;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Runs `bin --data-dir data search 国民健康保険 --json` and returns (success, stdout, stderr).
fn search(bin: &Path, data: &Path) -> (bool, String, String) {
    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(data)
        .args(["search", "国民健康保険", "--json", "--limit", "3"])
        .current_dir(bin.parent().unwrap())
        .env_remove("KOTAE_IPADIC_DIR")
        .env_remove("KOTAE_CONFIG")
        .env_remove("KOTAE_DATA_DIR")
        .env("KOTAE_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn top_ids(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("search --json prints JSON");
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["source_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_copied_binary_searches_with_its_embedded_dictionary_or_one_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let bin = bin_dir.join("kotae");
    std::fs::copy(env!("CARGO_BIN_EXE_kotae"), &bin).unwrap();
    let data = tmp.path().join("data");
    copy_dir(&common::repo().join("corpus"), &data.join("corpus"));

    // Alone: the embedded dictionary.
    let (ok, stdout, stderr) = search(&bin, &data);
    assert!(ok, "the copied binary failed: {stderr}");
    let embedded = top_ids(&stdout);
    assert!(!embedded.is_empty(), "no hits for 国民健康保険: {stdout}");

    // With the embedded dictionary exported beside it: the same answers from the files.
    let dict = bin_dir.join("ipadic");
    kotae::analysis::dictionary::export_embedded(&dict).unwrap();
    let (ok, stdout, stderr) = search(&bin, &data);
    assert!(ok, "the binary with ipadic/ beside it failed: {stderr}");
    assert_eq!(top_ids(&stdout), embedded);

    // That directory is really the one read: a broken one is a clear error, not a panic.
    std::fs::write(dict.join("metadata.json"), b"not json").unwrap();
    let (ok, _, stderr) = search(&bin, &data);
    assert!(!ok, "a broken ipadic/ beside the binary was not read");
    assert!(
        stderr.contains("IPADIC") && stderr.contains(&dict.display().to_string()),
        "unclear error: {stderr}"
    );
}
