//! `kotae search` in a pipe: no HTML in the snippets, a contact's record whole.

use crate::common::repo;

#[test]
fn cli_search_prints_plain_snippets_and_whole_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(repo().join("corpus"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["search", "お問合せセンター 問い合わせ", "--limit", "10"])
        .env("KOTAE_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    // A pipe is no terminal: no tags, no escape codes, no HTML entities.
    for bad in ["<mark>", "</mark>", "\x1b[", "&amp;", "&lt;"] {
        assert!(!text.contains(bad), "{bad:?} in {text}");
    }
    // The contact record, phone number whole, with its group, duties and hours.
    assert!(
        text.contains("    係・グループ: 桜川県お問合せセンター"),
        "{text}"
    );
    assert!(text.contains("    事務分担: "), "{text}");
    assert!(text.contains("    電話: 099-200-1234"), "{text}");
    assert!(text.contains("    受付時間: 毎日 8時～20時"), "{text}");
}
