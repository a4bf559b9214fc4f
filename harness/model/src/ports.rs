//! TCP port lists in nmap `-p` syntax, and their compact display form.
//!
//! Accepted: `22`, `22,80,443`, `1-1024`, `-` (1-65535, as in `-p-`), `-100`
//! (1-100), `60000-` (60000-65535), whitespace around commas, and nmap
//! protocol qualifiers: `T:` marks the following groups as TCP, `U:` as UDP.
//! jcstar scans TCP only, so `U:` groups are checked for syntax and then
//! ignored (`U:53,T:80` scans TCP port 80); a list with no TCP port left is an
//! error. A qualifier applies until the next one; groups before any qualifier
//! count as TCP. SCTP (`S:`) and IP-protocol (`P:`) qualifiers, service names
//! and port 0 are rejected.

use crate::error::{InputError, Origin};

/// The highest TCP port number.
const MAX_PORT: u16 = u16::MAX;

/// The protocol a port group applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// TCP (`T:`, or no qualifier).
    Tcp,
    /// UDP (`U:`); parsed and ignored.
    Udp,
}

/// Parses nmap `-p` syntax into a sorted, de-duplicated list of TCP ports.
/// See the module documentation for the accepted syntax; `U:` groups are
/// parsed and ignored.
pub fn parse_port_spec(text: &str, origin: Origin) -> Result<Vec<u16>, InputError> {
    let error = |message: String| InputError::new(origin.clone(), message);
    if text.trim().is_empty() {
        return Err(error(format!(
            "port list \"{text}\" is empty; give ports like 22,80,443 or ranges like 1-1024"
        )));
    }
    let mut tcp_ranges = Vec::new();
    let mut protocol = Protocol::Tcp;
    for item in text.split(',') {
        let (qualifier, group) = split_qualifier(item.trim())
            .map_err(|message| error(format!("port list \"{text}\": {message}")))?;
        protocol = qualifier.unwrap_or(protocol);
        let range = parse_port_group(group)
            .map_err(|message| error(format!("port list \"{text}\": {message}")))?;
        if protocol == Protocol::Tcp {
            tcp_ranges.push(range);
        }
    }
    if tcp_ranges.is_empty() {
        return Err(error(format!(
            "port list \"{text}\" names no TCP ports; jcstar scans TCP only and ignores U: \
             (UDP) groups, so add TCP ports, e.g. T:80"
        )));
    }
    Ok(merge_ranges(tcp_ranges))
}

/// Lists the ports of inclusive `ranges`, sorted and without duplicates.
fn merge_ranges(mut ranges: Vec<(u16, u16)>) -> Vec<u16> {
    ranges.sort_unstable();
    let mut ports: Vec<u16> = Vec::new();
    for (low, high) in ranges {
        let start = match ports.last() {
            Some(&last) if last >= high => continue,
            Some(&last) => low.max(last + 1),
            None => low,
        };
        ports.extend(start..=high);
    }
    ports
}

/// Splits an optional `T:`/`U:` qualifier off a group.
fn split_qualifier(item: &str) -> Result<(Option<Protocol>, &str), String> {
    let Some((prefix, rest)) = item.split_once(':') else {
        return Ok((None, item));
    };
    let protocol = match prefix.trim() {
        "T" | "t" => Protocol::Tcp,
        "U" | "u" => Protocol::Udp,
        "S" | "s" | "P" | "p" => {
            return Err(format!(
                "\"{prefix}:\" (SCTP/IP protocol) groups are not supported; \
                 use T: for TCP or no qualifier"
            ))
        }
        _ => {
            return Err(format!(
                "\"{prefix}:\" is not a protocol qualifier; use T: for TCP ports \
                 (U: for UDP, which is ignored)"
            ))
        }
    };
    Ok((Some(protocol), rest.trim()))
}

/// Parses one group: `N`, `N-M`, `-M`, `N-` or `-`, as an inclusive range.
fn parse_port_group(group: &str) -> Result<(u16, u16), String> {
    if group.is_empty() {
        return Err("empty entry; remove the extra comma or put a port after the qualifier".into());
    }
    let Some((start, end)) = group.split_once('-') else {
        let port = parse_port_number(group)?;
        return Ok((port, port));
    };
    let (start, end) = (start.trim(), end.trim());
    let low = if start.is_empty() {
        1
    } else {
        parse_port_number(start)?
    };
    let high = if end.is_empty() {
        MAX_PORT
    } else {
        parse_port_number(end)?
    };
    if low > high {
        return Err(format!(
            "range \"{group}\": start {low} is above its end {high}; write the smaller port first"
        ));
    }
    Ok((low, high))
}

/// Parses a decimal port number 1-65535.
fn parse_port_number(token: &str) -> Result<u16, String> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "\"{token}\" is not a port number; give numbers like 80 or ranges like 1-1024 \
             (service names are not supported)"
        ));
    }
    match token.parse::<u16>() {
        Ok(0) => Err(format!(
            "port \"{token}\" (0) cannot be scanned; ports start at 1"
        )),
        Ok(port) => Ok(port),
        Err(_) => Err(format!("port \"{token}\" is out of range 1-{MAX_PORT}")),
    }
}

/// Formats ports compactly, e.g. `"21-23,80,443"` (for reports). Runs of
/// consecutive ports become ranges; the input is sorted and de-duplicated
/// first, so any order works. An empty list gives an empty string.
pub fn format_port_ranges(ports: &[u16]) -> String {
    let mut sorted = ports.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(u16, u16)> = Vec::new();
    for port in sorted {
        match runs.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(port) => *end = port,
            _ => runs.push((port, port)),
        }
    }
    let parts: Vec<String> = runs
        .into_iter()
        .map(|(start, end)| match start == end {
            true => start.to_string(),
            false => format!("{start}-{end}"),
        })
        .collect();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn ports(text: &str) -> Vec<u16> {
        match parse_port_spec(text, Origin::command_line()) {
            Ok(ports) => ports,
            Err(err) => panic!("{text:?} should parse, got: {err}"),
        }
    }

    /// Parses `text` as if from jcstar.toml line 7 and returns the error text,
    /// checking that it names the origin and `token`.
    fn port_err(text: &str, token: &str) -> String {
        let origin = Origin::file_line(Path::new("jcstar.toml"), 7);
        let message = match parse_port_spec(text, origin) {
            Ok(ports) => panic!("{text:?} should be refused, got {ports:?}"),
            Err(err) => err.to_string(),
        };
        assert!(message.starts_with("jcstar.toml:7: "), "{message}");
        assert!(message.contains(&format!("\"{token}")), "{message}");
        message
    }

    #[test]
    fn single_port() {
        assert_eq!(ports("22"), vec![22]);
        assert_eq!(ports(" 22 "), vec![22]);
    }

    #[test]
    fn port_list() {
        assert_eq!(ports("22,80,443"), vec![22, 80, 443]);
        assert_eq!(ports("443 , 22,\t80"), vec![22, 80, 443]);
    }

    #[test]
    fn sorted_and_deduplicated() {
        assert_eq!(ports("80,22,22,20-25,21"), vec![20, 21, 22, 23, 24, 25, 80]);
        assert_eq!(
            ports("10-12,1-2,11-14,13,2"),
            vec![1, 2, 10, 11, 12, 13, 14]
        );
        assert_eq!(ports("1-65535,80,-"), (1..=65_535).collect::<Vec<u16>>());
    }

    #[test]
    fn ranges() {
        let all = ports("1-1024");
        assert_eq!(all.len(), 1024);
        assert_eq!((all[0], all[1023]), (1, 1024));
        assert_eq!(ports("8000 - 8002"), vec![8000, 8001, 8002]);
        assert_eq!(ports("65535"), vec![65535]);
    }

    #[test]
    fn open_ranges() {
        let all = ports("-");
        assert_eq!(all.len(), 65_535);
        assert_eq!(all.first(), Some(&1));
        assert_eq!(all.last(), Some(&65_535));
        assert_eq!(ports("-100"), (1..=100).collect::<Vec<u16>>());
        assert_eq!(ports("60000-"), (60_000..=65_535).collect::<Vec<u16>>());
    }

    #[test]
    fn tcp_qualifier() {
        assert_eq!(ports("T:22,80"), vec![22, 80]);
        assert_eq!(ports("t:22"), vec![22]);
        assert_eq!(ports("T: 22-23"), vec![22, 23]);
    }

    #[test]
    fn udp_groups_are_ignored_until_the_next_qualifier() {
        assert_eq!(ports("U:53,T:80"), vec![80]);
        assert_eq!(ports("22,U:53,161,T:80,443"), vec![22, 80, 443]);
        assert_eq!(ports("T:21-25,U:53-"), vec![21, 22, 23, 24, 25]);
    }

    #[test]
    fn udp_only_is_an_error() {
        let message = port_err("U:53,161", "U:53,161");
        assert!(message.contains("names no TCP ports"), "{message}");
    }

    #[test]
    fn udp_groups_are_still_checked() {
        let message = port_err("80,U:0", "0");
        assert!(message.contains("cannot be scanned"), "{message}");
    }

    #[test]
    fn port_zero() {
        let message = port_err("0", "0");
        assert!(message.contains("ports start at 1"), "{message}");
        assert!(port_err("0-100", "0").contains("ports start at 1"));
        assert!(port_err("22,00", "00").contains("ports start at 1"));
    }

    #[test]
    fn port_out_of_range() {
        let message = port_err("22,70000", "70000");
        assert!(message.contains("out of range 1-65535"), "{message}");
        assert!(port_err("1-65536", "65536").contains("out of range"));
        assert!(
            port_err("99999999999999999999999", "99999999999999999999999").contains("out of range")
        );
    }

    #[test]
    fn reversed_range() {
        let message = port_err("100-20", "100-20");
        assert!(
            message.contains("start 100 is above its end 20"),
            "{message}"
        );
    }

    #[test]
    fn not_numbers() {
        let message = port_err("22,http", "http");
        assert!(message.contains("not a port number"), "{message}");
        assert!(
            message.contains("service names are not supported"),
            "{message}"
        );
        assert!(port_err("22 80", "22 80").contains("not a port number"));
        assert!(port_err("1-2-3", "2-3").contains("not a port number"));
        assert!(port_err("[1-100]", "[1").contains("not a port number"));
        assert!(port_err("+22", "+22").contains("not a port number"));
        assert!(port_err("-0x10", "0x10").contains("not a port number"));
    }

    #[test]
    fn empty_entries() {
        let message = port_err("", "");
        assert!(message.contains("port list \"\" is empty"), "{message}");
        assert!(port_err("  ", "  ").contains("is empty"));
        assert!(port_err("22,,80", "22,,80").contains("empty entry"));
        assert!(port_err("22,", "22,").contains("empty entry"));
        assert!(port_err("T:", "T:").contains("empty entry"));
    }

    #[test]
    fn unsupported_qualifiers() {
        assert!(port_err("S:22", "S:").contains("not supported"));
        assert!(port_err("P:6", "P:").contains("not supported"));
        assert!(port_err("X:22", "X:").contains("not a protocol qualifier"));
        assert!(port_err("T:U:22", "U:22").contains("not a port number"));
    }

    #[test]
    fn never_panics_on_arbitrary_input() {
        let alphabet: Vec<char> = "0123456789-,:TUSP \u{e9}".chars().collect();
        let mut state: u64 = 7;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let len = (state >> 33) % 12;
            let text: String = (0..len)
                .map(|i| {
                    let mixed = (state >> (i % 32)).wrapping_add(i * 31);
                    alphabet[mixed as usize % alphabet.len()]
                })
                .collect();
            if let Ok(list) = parse_port_spec(&text, Origin::command_line()) {
                assert!(!list.is_empty() && !list.contains(&0));
                if list.len() <= 2_000 {
                    assert_eq!(ports(&format_port_ranges(&list)), list);
                }
            }
        }
    }

    #[test]
    fn format_compact_ranges() {
        assert_eq!(format_port_ranges(&[]), "");
        assert_eq!(format_port_ranges(&[80]), "80");
        assert_eq!(format_port_ranges(&[21, 22, 23, 80, 443]), "21-23,80,443");
        assert_eq!(format_port_ranges(&[80, 81]), "80-81");
        assert_eq!(format_port_ranges(&[65_534, 65_535]), "65534-65535");
        assert_eq!(format_port_ranges(&[0, 65_535]), "0,65535");
    }

    #[test]
    fn format_accepts_unsorted_duplicates() {
        assert_eq!(
            format_port_ranges(&[443, 22, 80, 23, 22, 21]),
            "21-23,80,443"
        );
    }

    #[test]
    fn format_round_trips() {
        for text in ["-", "1-1024", "22,80,443,8000-8100", "1,3,5,65535"] {
            let list = ports(text);
            assert_eq!(ports(&format_port_ranges(&list)), list);
        }
        assert_eq!(format_port_ranges(&ports("-")), "1-65535");
    }
}
