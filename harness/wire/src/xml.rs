//! XML from devices (UPnP descriptions, SOAP answers, WS-Discovery matches), parsed by roxmltree
//! only after a nesting check. roxmltree 0.20 recurses once per level of element nesting
//! (RazrFalcon/roxmltree#154): a few hundred nested elements, a datagram's worth, overflow a
//! 2 MiB thread stack and abort the whole process. No device document jcstar reads nests
//! deeper than a dozen levels.

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// Parses `text` without a DTD, with at most `nodes_limit` nodes and [`MAX_DEPTH`] levels of
/// nesting; `None` for anything else.
pub fn parse(text: &str, nodes_limit: u32) -> Option<roxmltree::Document<'_>> {
    if deeper_than(text, MAX_DEPTH) {
        return None;
    }
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit,
    };
    roxmltree::Document::parse_with_options(text, options).ok()
}

/// Whether elements in `text` nest deeper than `limit`, counted as an XML parser nests them:
/// comments, CDATA sections, processing instructions and declarations do not nest, quoted
/// attribute values are skipped, `/>` closes what it opens. Where `text` stops being
/// well-formed a parser stops too, so the count never falls below the parser's depth before
/// that point.
pub fn deeper_than(text: &str, limit: usize) -> bool {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(offset) = find(bytes, at, b"<") {
        let tag = &bytes[offset..];
        let skip_past = |end: &[u8]| find(bytes, offset + 1, end).map(|i| i + end.len());
        let next = if tag.starts_with(b"<!--") {
            skip_past(b"-->")
        } else if tag.starts_with(b"<![CDATA[") {
            skip_past(b"]]>")
        } else if tag.starts_with(b"<?") {
            skip_past(b"?>")
        } else if tag.starts_with(b"<!") {
            skip_past(b">")
        } else if tag.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            skip_past(b">")
        } else {
            match tag_end(bytes, offset + 1) {
                Some((end, self_closing)) => {
                    if !self_closing {
                        depth += 1;
                        if depth > limit {
                            return true;
                        }
                    }
                    Some(end)
                }
                None => None,
            }
        };
        match next {
            Some(next) => at = next,
            None => return false,
        }
    }
    false
}

/// The index after the `>` ending a start tag whose name begins at `from`, skipping quoted
/// attribute values, and whether the tag closes itself.
fn tag_end(bytes: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return Some((i + 1, i > from && bytes[i - 1] == b'/')),
            (None, _) => {}
        }
    }
    None
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nested(depth: usize) -> String {
        format!(
            "<r>{}{}</r>",
            "<x a='>'>".repeat(depth),
            "</x>".repeat(depth)
        )
    }

    #[test]
    fn depth_is_counted_like_a_parser_nests() {
        assert!(!deeper_than(&nested(MAX_DEPTH - 1), MAX_DEPTH));
        assert!(deeper_than(&nested(MAX_DEPTH), MAX_DEPTH));
        let flat = "<r>".to_string() + &"<x/><y></y>".repeat(1000) + "</r>";
        assert!(!deeper_than(&flat, 2));
        // What does not nest: comments, CDATA (even holding tags), PIs, and quoted `/>`.
        let quiet = "<?xml version='1.0'?><!-- <a><b><c> --><r><![CDATA[<a><b>]]><x q=\"/>\"/></r>";
        assert!(!deeper_than(quiet, 2));
        // A close tag inside CDATA must not hide nesting.
        let hidden = "<a><![CDATA[</a></a>]]><b><c></c></b></a>";
        assert!(deeper_than(hidden, 2));
        assert!(parse(&nested(10), 1000).is_some());
        assert!(parse(&nested(100_000), u32::MAX).is_none());
    }

    proptest! {
        /// Whatever the text, a parse that passes the check never nests deeper than the limit
        /// (roxmltree builds the tree it would have overflowed the stack on).
        #[test]
        fn parsed_documents_never_exceed_the_limit(
            parts in proptest::collection::vec(
                prop_oneof![
                    6 => Just("<a>"), 2 => Just("</a>"), 1 => Just("<b/>"), 1 => Just("<!--"),
                    1 => Just("-->"), 1 => Just("<![CDATA["), 1 => Just("]]>"), 1 => Just("<?p"),
                    1 => Just("?>"), 1 => Just("'"), 1 => Just("\""), 1 => Just("<c d='"),
                    1 => Just(">"), 1 => Just("/>"), 1 => Just("x"),
                ],
                0..1500,
            ),
        ) {
            let text = format!("<r>{}</r>", parts.concat());
            if let Some(doc) = parse(&text, 100_000) {
                let deepest = doc
                    .descendants()
                    .filter(|n| n.is_element())
                    .map(|n| n.ancestors().filter(|a| a.is_element()).count())
                    .max()
                    .unwrap_or(0);
                prop_assert!(deepest <= MAX_DEPTH, "{deepest}");
            }
        }
    }
}
