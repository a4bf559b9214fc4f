//! NAT-PMP (RFC 6886) external-address requests and their answers; a PCP server (RFC 6887,
//! version 2) answers a NAT-PMP request with its own version number and a result code, which
//! shows the service too. Read-only: jcstar never asks for a mapping.

/// The NAT-PMP request for the gateway's external address: version 0, opcode 0.
pub const EXTERNAL_ADDRESS_REQUEST: [u8; 2] = [0, 0];

/// What a NAT-PMP or PCP server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A NAT-PMP external-address answer.
    NatPmp {
        /// The result code (0 is success).
        result: u16,
        /// The gateway's external IPv4 address, on success.
        external: Option<std::net::Ipv4Addr>,
    },
    /// A PCP server's answer (version 2), refusing the NAT-PMP version.
    Pcp {
        /// The PCP result code.
        result: u8,
    },
}

/// Parses the answer to [`EXTERNAL_ADDRESS_REQUEST`]; `None` when `data` is not one.
pub fn parse_answer(data: &[u8]) -> Option<Answer> {
    match data {
        [0, 128, r0, r1, rest @ ..] => {
            let result = u16::from_be_bytes([*r0, *r1]);
            let external = match rest {
                [_, _, _, _, a, b, c, d, ..] if result == 0 => {
                    Some(std::net::Ipv4Addr::new(*a, *b, *c, *d))
                }
                _ => None,
            };
            Some(Answer::NatPmp { result, external })
        }
        // PCP response header (RFC 6887 section 7.2): version 2, R bit set, result code.
        [2, opcode, _, result, ..] if opcode & 0x80 != 0 => Some(Answer::Pcp { result: *result }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn answers_parse() {
        let ok = [0, 128, 0, 0, 0, 0, 0, 9, 203, 0, 113, 7];
        assert_eq!(
            parse_answer(&ok),
            Some(Answer::NatPmp {
                result: 0,
                external: Some(std::net::Ipv4Addr::new(203, 0, 113, 7))
            })
        );
        assert_eq!(
            parse_answer(&[0, 128, 0, 3]),
            Some(Answer::NatPmp {
                result: 3,
                external: None
            })
        );
        assert_eq!(
            parse_answer(&[2, 0x80, 0, 1]),
            Some(Answer::Pcp { result: 1 })
        );
        assert_eq!(parse_answer(&[0, 0]), None);
        assert_eq!(parse_answer(&[]), None);
    }

    proptest! {
        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_answer(&data);
        }
    }
}
