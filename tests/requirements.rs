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
