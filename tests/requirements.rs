//! `jcstar requirements` says which parts of each criterion are IPA's and which are jcstar's
//! reading, and never calls an unconfirmed one official.

mod common;

use common::{jcstar, transcript};

#[test]
fn unconfirmed_criteria_are_marked_and_nothing_claims_to_be_official() {
    let output = jcstar(&["requirements"]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.to_lowercase().contains("official"), "{text}");
    for id in ["S1.1-09", "S1.1-14", "S1.1-15"] {
        let block: String = text
            .split("\n\n")
            .find(|b| b.starts_with(id))
            .unwrap_or_else(|| panic!("{id} listed: {text}"))
            .to_string();
        assert!(
            block.contains("NOT confirmed from IPA's documents"),
            "{block}"
        );
    }
    let first = text
        .split("\n\n")
        .find(|b| b.starts_with("S1.1-01"))
        .expect("S1.1-01");
    assert!(
        first.contains("meaning confirmed from public material"),
        "{first}"
    );
    assert!(first.contains("jcstar's paraphrase"), "{first}");
    // An unconfirmed evaluation type is marked as such.
    let s10 = text
        .split("\n\n")
        .find(|b| b.starts_with("S1.1-10"))
        .expect("S1.1-10");
    assert!(s10.contains("document? (not confirmed)"), "{s10}");
}

#[test]
fn requirements_in_japanese_show_the_profile_texts_and_japanese_labels() {
    let output = jcstar(&["requirements", "--lang", "ja"]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("JC-STAR ★1(STAR-1)基本要件"), "{text}");
    let first = text
        .split("\n\n")
        .find(|b| b.starts_with("S1.1-01"))
        .expect("S1.1-01");
    assert!(first.contains("IP 経由のアクセスには認証が必要"), "{first}");
    assert!(first.contains("評価方法:"), "{first}");
    assert!(first.contains("証跡の項目:"), "{first}");
    assert!(!first.contains("evaluation:"), "{first}");
    let s14 = text
        .split("\n\n")
        .find(|b| b.starts_with("S1.1-14"))
        .expect("S1.1-14");
    assert!(s14.contains("IPA の文書で未確認"), "{s14}");

    let json = jcstar(&["requirements", "--lang", "ja", "--json"]);
    assert_eq!(json.status.code(), Some(0), "{}", transcript(&json));
    let criteria: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(criteria[0]["id"], "S1.1-01");
    assert_eq!(criteria[0]["title"], "IP 経由のアクセスには認証が必要");

    let english = jcstar(&["requirements", "--lang", "en"]);
    assert_eq!(english.stdout, jcstar(&["requirements"]).stdout);
    let bad = jcstar(&["requirements", "--lang", "fr"]);
    assert_eq!(bad.status.code(), Some(2), "{}", transcript(&bad));
}
