//! Telnet (RFC 854) as a client that refuses every option: a streaming decoder that separates
//! the text a device sends from its command sequences and produces the refusals to send back.
//! It keeps its state between reads, so a sequence split across reads decodes the same.

/// Interpret As Command: starts every command.
pub const IAC: u8 = 255;
/// Refuse an option of the peer.
pub const DONT: u8 = 254;
/// Ask the peer to use an option.
pub const DO: u8 = 253;
/// Refuse to use an option.
pub const WONT: u8 = 252;
/// Offer to use an option.
pub const WILL: u8 = 251;
/// Subnegotiation begins.
pub const SB: u8 = 250;
/// Subnegotiation ends.
pub const SE: u8 = 240;

/// Longest subnegotiation skipped; a longer one is not telnet any jcstar probe needs.
pub const MAX_SUBNEGOTIATION: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Text,
    Command,
    Option(u8),
    Sub,
    SubCommand,
}

/// A streaming telnet decoder.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    state: State,
    sub_len: usize,
}

/// What one chunk decoded to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The text (NUL bytes dropped, `IAC IAC` as one 255 byte).
    pub text: Vec<u8>,
    /// The refusals to send: `IAC WONT x` for `DO x`, `IAC DONT x` for `WILL x`.
    pub replies: Vec<u8>,
}

/// Why decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A subnegotiation ran past [`MAX_SUBNEGOTIATION`] bytes without its end.
    SubnegotiationTooLong,
}

impl Decoder {
    /// A decoder at the start of a connection.
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Decodes the next `bytes` of the stream.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Decoded, DecodeError> {
        let mut out = Decoded::default();
        for &byte in bytes {
            self.state = match (self.state, byte) {
                (State::Text, IAC) => State::Command,
                (State::Text, 0) => State::Text,
                (State::Text, b) => {
                    out.text.push(b);
                    State::Text
                }
                (State::Command, IAC) => {
                    out.text.push(IAC);
                    State::Text
                }
                (State::Command, command @ WILL..=DONT) => State::Option(command),
                (State::Command, SB) => {
                    self.sub_len = 0;
                    State::Sub
                }
                (State::Command, _) => State::Text,
                (State::Option(command), option) => {
                    // Acknowledging a refusal again would loop; refuse only requests.
                    match command {
                        DO => out.replies.extend_from_slice(&[IAC, WONT, option]),
                        WILL => out.replies.extend_from_slice(&[IAC, DONT, option]),
                        _ => {}
                    }
                    State::Text
                }
                (State::Sub | State::SubCommand, _) if self.sub_len >= MAX_SUBNEGOTIATION => {
                    return Err(DecodeError::SubnegotiationTooLong);
                }
                (State::Sub, IAC) => {
                    self.sub_len += 1;
                    State::SubCommand
                }
                (State::Sub, _) => {
                    self.sub_len += 1;
                    State::Sub
                }
                (State::SubCommand, SE) => State::Text,
                (State::SubCommand, _) => {
                    self.sub_len += 1;
                    State::Sub
                }
            };
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn options_are_refused_and_text_kept() {
        let mut d = Decoder::new();
        let out = d
            .feed(&[
                IAC, DO, 24, b'l', IAC, WILL, 1, b'o', 0, IAC, IAC, IAC, DONT, 3,
            ])
            .expect("decodes");
        assert_eq!(out.text, [b'l', b'o', IAC]);
        assert_eq!(out.replies, [IAC, WONT, 24, IAC, DONT, 1]);
    }

    #[test]
    fn subnegotiations_are_skipped_across_reads_and_bounded() {
        let mut d = Decoder::new();
        let first = d.feed(&[b'a', IAC, SB, 24, 1, 2]).expect("decodes");
        let second = d.feed(&[3, IAC, SE, b'b']).expect("decodes");
        assert_eq!((first.text, second.text), (b"a".to_vec(), b"b".to_vec()));
        // A subnegotiation that never ends is an error, never text (nor a login prompt).
        let mut endless = Decoder::new();
        let mut stream = vec![IAC, SB, 24];
        stream.extend(b"login: ".repeat(100));
        assert_eq!(
            endless.feed(&stream),
            Err(DecodeError::SubnegotiationTooLong)
        );
    }

    proptest! {
        #[test]
        fn garbage_never_panics_and_output_is_bounded(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048)
        ) {
            let mut d = Decoder::new();
            if let Ok(out) = d.feed(&bytes) {
                prop_assert!(out.text.len() <= bytes.len());
                prop_assert!(out.replies.len() <= bytes.len());
            }
        }

        #[test]
        fn split_reads_decode_like_one(
            bytes in proptest::collection::vec(any::<u8>(), 0..1024),
            cut in 0usize..1024,
        ) {
            let cut = cut.min(bytes.len());
            let whole = Decoder::new().feed(&bytes);
            let mut d = Decoder::new();
            let split = d.feed(&bytes[..cut]).and_then(|mut a| {
                let b = d.feed(&bytes[cut..])?;
                a.text.extend(b.text);
                a.replies.extend(b.replies);
                Ok(a)
            });
            prop_assert_eq!(whole, split);
        }
    }
}
