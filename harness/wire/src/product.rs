//! Product tokens in banners and headers (`Server`, `X-Powered-By`, SSDP `SERVER`).

use jcstar_model::bounded;

/// Product tokens of an HTTP (`Server`, `X-Powered-By`) or SSDP (`SERVER`) header:
/// `Apache/2.4.57 (Debian) OpenSSL/3.0.11` → (`Apache`, `2.4.57`), (`OpenSSL`, `3.0.11`).
/// Comments in parentheses are skipped, and so is `UPnP/1.0`, which names the protocol, not a
/// component (`Linux/5.10 UPnP/1.0 miniupnpd/2.3.3` → `Linux`, `miniupnpd`).
pub fn product_tokens(value: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cleaned = String::new();
    for c in value.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => cleaned.push(c),
            _ => {}
        }
    }
    for token in cleaned
        .split([' ', ',', ';'])
        .filter(|t| !t.is_empty())
        .take(8)
    {
        let (name, version) = match token.split_once('/') {
            Some((name, version)) if !version.is_empty() => (name, Some(bounded(version))),
            Some((name, _)) => (name, None),
            None => (token, None),
        };
        if name.chars().any(|c| c.is_ascii_alphabetic()) && !name.eq_ignore_ascii_case("UPnP") {
            out.push((bounded(name), version));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_name_products_and_versions() {
        assert_eq!(
            product_tokens("Apache/2.4.57 (Debian) OpenSSL/3.0.11"),
            [
                ("Apache".to_string(), Some("2.4.57".to_string())),
                ("OpenSSL".to_string(), Some("3.0.11".to_string()))
            ]
        );
        assert_eq!(
            product_tokens("GoAhead-Webs"),
            [("GoAhead-Webs".into(), None)]
        );
        assert!(product_tokens("(((").is_empty());
        assert_eq!(
            product_tokens("Linux/5.10 UPnP/1.0 miniupnpd/2.3.3"),
            [
                ("Linux".to_string(), Some("5.10".to_string())),
                ("miniupnpd".to_string(), Some("2.3.3".to_string()))
            ]
        );
    }

    proptest! {
        /// Any header value gives at most 8 bounded tokens without panicking.
        #[test]
        fn arbitrary_values_give_bounded_tokens(value in "\\PC{0,2000}") {
            let tokens = product_tokens(&value);
            prop_assert!(tokens.len() <= 8);
            for (name, version) in tokens {
                prop_assert!(name.chars().count() <= jcstar_model::EVIDENCE_MAX_CHARS + 1);
                prop_assert!(version.is_none_or(|v| v.chars().count() <= jcstar_model::EVIDENCE_MAX_CHARS + 1));
            }
        }
    }
}
