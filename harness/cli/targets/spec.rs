//! Target specifications in nmap syntax: addresses, CIDR blocks, octet
//! ranges, IPv6 networks and hostnames, plus `-iL` list files and
//! `--exclude` lists.
//!
//! Parsing ([`parse_spec`]) is pure and synchronous. Expansion ([`expand`])
//! resolves hostnames, checks the address limit by *counting* (never by
//! materialising), then lists the hosts, removes exclusions, sorts and
//! de-duplicates.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use ipnet::{Ipv4Net, Ipv6Net};

use jcstar_model::error::{InputError, Origin};

/// Default for [`ExpandOptions::max_addresses`]: a /16.
pub const DEFAULT_MAX_ADDRESSES: usize = 65_536;

/// The most addresses jcstar expands even with `allow_large` (a /8), so a
/// typo like `::/0` cannot exhaust memory.
pub const ABSOLUTE_MAX_ADDRESSES: usize = 1 << 24;

/// Longest hostname accepted (RFC 1035, without a trailing dot).
const MAX_HOSTNAME_LEN: usize = 253;

/// Longest hostname label accepted (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// The characters that mark a spec as an IPv4 pattern rather than a hostname.
const IPV4_PATTERN_CHARS: &str = "0123456789.-,*";

/// One target spec string and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecSource {
    /// The spec as the user wrote it, e.g. `10.0.0.1-20` or `cam.lab/30`.
    pub text: String,
    /// Where the user wrote it.
    pub origin: Origin,
}

impl SpecSource {
    /// A spec `text` found at `origin`.
    pub fn new(text: impl Into<String>, origin: Origin) -> Self {
        SpecSource {
            text: text.into(),
            origin,
        }
    }

    /// A spec given directly on the command line.
    pub fn command_line(text: impl Into<String>) -> Self {
        Self::new(text, Origin::command_line())
    }

    /// An input error about this spec: `"<text>": <message>` at its origin.
    fn error(&self, message: impl std::fmt::Display) -> InputError {
        InputError::new(
            self.origin.clone(),
            format!("\"{}\": {message}", self.text.trim()),
        )
    }
}

/// Limits on expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpandOptions {
    /// Most addresses the specs may name without `allow_large`
    /// (default [`DEFAULT_MAX_ADDRESSES`]).
    pub max_addresses: usize,
    /// Lift `max_addresses` (the user passed `--allow-large`). Expansion is
    /// still capped at [`ABSOLUTE_MAX_ADDRESSES`].
    pub allow_large: bool,
}

impl Default for ExpandOptions {
    fn default() -> Self {
        ExpandOptions {
            max_addresses: DEFAULT_MAX_ADDRESSES,
            allow_large: false,
        }
    }
}

/// A host to scan: the address and, if the user gave a hostname, that name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetHost {
    /// The address to probe.
    pub address: IpAddr,
    /// The hostname the user wrote, when this address is what it resolved to.
    pub hostname: Option<String>,
}

/// The set of values one IPv4 octet may take, as a 256-bit bitmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OctetSet([u64; 4]);

impl OctetSet {
    /// The empty set.
    pub fn empty() -> Self {
        OctetSet([0; 4])
    }

    /// Every value 0-255.
    pub fn full() -> Self {
        OctetSet([u64::MAX; 4])
    }

    /// The single value `value`.
    pub fn single(value: u8) -> Self {
        Self::range(value, value)
    }

    /// The values `low..=high` (empty when `low > high`).
    pub fn range(low: u8, high: u8) -> Self {
        let mut set = Self::empty();
        for value in low..=high {
            set.insert(value);
        }
        set
    }

    /// Adds `value` to the set.
    pub fn insert(&mut self, value: u8) {
        self.0[usize::from(value >> 6)] |= 1 << (value & 63);
    }

    /// Adds every value of `other` to the set.
    pub fn union_with(&mut self, other: &OctetSet) {
        for (word, other_word) in self.0.iter_mut().zip(other.0) {
            *word |= other_word;
        }
    }

    /// Whether `value` is in the set.
    pub fn contains(&self, value: u8) -> bool {
        self.0[usize::from(value >> 6)] & (1 << (value & 63)) != 0
    }

    /// How many values the set holds (0-256).
    pub fn len(&self) -> u32 {
        self.0.iter().map(|word| word.count_ones()).sum()
    }

    /// Whether the set holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values in ascending order.
    pub fn iter(self) -> impl Iterator<Item = u8> {
        (0..=u8::MAX).filter(move |&value| self.contains(value))
    }
}

/// An IPv4 pattern: one [`OctetSet`] per octet; the addresses are their
/// cartesian product. Covers single addresses, CIDR blocks and nmap octet
/// ranges/lists alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Pattern {
    /// The allowed values of each octet, most significant first.
    pub octets: [OctetSet; 4],
}

impl Ipv4Pattern {
    /// The pattern naming exactly `address`.
    pub fn single(address: Ipv4Addr) -> Self {
        Ipv4Pattern {
            octets: address.octets().map(OctetSet::single),
        }
    }

    /// The pattern naming every address of `net`, network and broadcast
    /// addresses included (as nmap does).
    pub fn from_net(net: Ipv4Net) -> Self {
        let network = net.network().octets();
        let prefix = u32::from(net.prefix_len());
        let mut octets = [OctetSet::empty(); 4];
        for (index, octet) in octets.iter_mut().enumerate() {
            let fixed_bits = prefix.saturating_sub(8 * index as u32).min(8);
            let host_mask = (0xFFu32 >> fixed_bits) as u8;
            let low = network[index] & !host_mask;
            *octet = OctetSet::range(low, low | host_mask);
        }
        Ipv4Pattern { octets }
    }

    /// How many addresses the pattern names, computed without listing them.
    pub fn count(&self) -> u64 {
        self.octets.iter().map(|set| u64::from(set.len())).product()
    }

    /// Whether the pattern names `address`.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        self.octets
            .iter()
            .zip(address.octets())
            .all(|(set, value)| set.contains(value))
    }

    /// The single address this pattern names, if it names exactly one.
    pub fn as_single(&self) -> Option<Ipv4Addr> {
        (self.count() == 1).then(|| self.iter().next()).flatten()
    }

    /// The addresses in ascending order, produced lazily.
    pub fn iter(&self) -> impl Iterator<Item = Ipv4Addr> {
        let [first, second, third, fourth] = self.octets;
        first.iter().flat_map(move |a| {
            second.iter().flat_map(move |b| {
                third
                    .iter()
                    .flat_map(move |c| fourth.iter().map(move |d| Ipv4Addr::new(a, b, c, d)))
            })
        })
    }
}

/// A set of literal addresses: what a spec names once hostnames are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressSet {
    /// IPv4 addresses matching a pattern.
    V4(Ipv4Pattern),
    /// Every address of an IPv6 network.
    V6(Ipv6Net),
}

impl AddressSet {
    /// How many addresses the set holds, saturating at `u128::MAX` (`::/0`).
    pub fn count(&self) -> u128 {
        match self {
            AddressSet::V4(pattern) => u128::from(pattern.count()),
            AddressSet::V6(net) => ipv6_net_size(net),
        }
    }

    /// Whether `address` is in the set.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self, address) {
            (AddressSet::V4(pattern), IpAddr::V4(v4)) => pattern.contains(v4),
            (AddressSet::V6(net), IpAddr::V6(v6)) => net.contains(&v6),
            _ => false,
        }
    }

    /// The addresses in ascending order, produced lazily. Check
    /// [`count`](Self::count) before collecting: a large IPv6 network never ends
    /// in practice.
    pub fn iter(&self) -> Box<dyn Iterator<Item = IpAddr> + Send + '_> {
        match self {
            AddressSet::V4(pattern) => Box::new(pattern.iter().map(IpAddr::V4)),
            AddressSet::V6(net) => {
                let first = u128::from(net.network());
                let last = u128::from(net.broadcast());
                Box::new((first..=last).map(|bits| IpAddr::V6(Ipv6Addr::from(bits))))
            }
        }
    }

    /// The set for `address` widened to `/prefix` (host bits cleared), or an
    /// error message when the prefix is too long for the address family.
    fn from_address_prefix(address: IpAddr, prefix: u8) -> Result<Self, String> {
        match address {
            IpAddr::V4(v4) => Ipv4Net::new(v4, prefix)
                .map(|net| AddressSet::V4(Ipv4Pattern::from_net(net.trunc())))
                .map_err(|_| "IPv4 prefix length must be 0-32".to_string()),
            IpAddr::V6(v6) => Ipv6Net::new(v6, prefix)
                .map(|net| AddressSet::V6(net.trunc()))
                .map_err(|_| "IPv6 prefix length must be 0-128".to_string()),
        }
    }
}

/// How many addresses `net` holds, saturating at `u128::MAX` for `::/0`.
fn ipv6_net_size(net: &Ipv6Net) -> u128 {
    match net.prefix_len() {
        0 => u128::MAX,
        prefix => 1u128 << (128 - u32::from(prefix)),
    }
}

/// A spec after syntax checking, before any DNS lookup.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ParsedSpec {
    /// IPv4 address, CIDR block, or octet ranges/lists (`10.0.1-3.*`).
    Ipv4Pattern(Ipv4Pattern),
    /// IPv6 address (as a /128) or network.
    Ipv6Net(Ipv6Net),
    /// A hostname to resolve, optionally widened to a network with `/prefix`.
    Hostname {
        /// The name as written, without any trailing dot.
        name: String,
        /// The `/prefix` after the name, if any (0-128; checked against the
        /// address family once resolved).
        prefix: Option<u8>,
    },
}

impl ParsedSpec {
    /// The literal addresses this spec names, or `None` for a hostname.
    pub fn address_set(&self) -> Option<AddressSet> {
        match self {
            ParsedSpec::Ipv4Pattern(pattern) => Some(AddressSet::V4(*pattern)),
            ParsedSpec::Ipv6Net(net) => Some(AddressSet::V6(*net)),
            ParsedSpec::Hostname { .. } => None,
        }
    }

    /// How many addresses the spec names, counted without listing them
    /// (saturating at `u128::MAX`). A bare hostname counts as 1; a hostname
    /// with a prefix is `None` because its size depends on the address family
    /// it resolves to.
    pub fn address_count(&self) -> Option<u128> {
        match self {
            ParsedSpec::Hostname { prefix: None, .. } => Some(1),
            ParsedSpec::Hostname {
                prefix: Some(_), ..
            } => None,
            literal => literal.address_set().map(|set| set.count()),
        }
    }
}

/// Parses one spec in nmap syntax, without DNS.
///
/// Accepted: `192.168.1.5`; `10.0.0.0/24` (network and broadcast included);
/// octet ranges and lists `10.0.0.1-20`, `10.0.1-3.7`, `10.0.0.1,3,5-7`,
/// `10.0.0.-`, `10.0.0.*`; IPv6 `::1`, `2001:db8::/120`, `[::1]`,
/// `[2001:db8::]/120`; hostnames `cam.lab`, optionally `cam.lab/30`.
pub fn parse_spec(src: &SpecSource) -> Result<ParsedSpec, InputError> {
    let text = src.text.trim();
    if text.is_empty() {
        return Err(InputError::new(
            src.origin.clone(),
            "empty target spec; give an address, range, CIDR block or hostname",
        ));
    }
    let (address, prefix) = split_prefix(text).map_err(|message| src.error(message))?;
    if let Some(inside) = address.strip_prefix('[') {
        let inside = inside.strip_suffix(']').unwrap_or(inside);
        return parse_ipv6(inside, prefix).map_err(|message| src.error(message));
    }
    if address.contains(':') {
        return parse_ipv6(address, prefix).map_err(|message| src.error(message));
    }
    if address.chars().all(|c| IPV4_PATTERN_CHARS.contains(c)) {
        return parse_ipv4(address, prefix).map_err(|message| src.error(message));
    }
    parse_hostname(address, prefix).map_err(|message| src.error(message))
}

/// Splits `text` into its address part and optional `/prefix`, checking that
/// the prefix is a number (its range is checked per address family later).
fn split_prefix(text: &str) -> Result<(&str, Option<u8>), String> {
    let (address, prefix_text) = if let Some(rest) = text.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return Err("'[' has no matching ']'; write IPv6 addresses like [::1]".into());
        };
        let (inside, after) = text.split_at(close + 2);
        match after {
            "" => (inside, None),
            _ => match after.strip_prefix('/') {
                Some(prefix) => (inside, Some(prefix)),
                None => {
                    return Err(format!(
                        "unexpected \"{after}\" after ']'; only a /prefix may follow"
                    ))
                }
            },
        }
    } else {
        match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        }
    };
    if address.is_empty() {
        return Err("missing address before '/'; write it like 10.0.0.0/24".into());
    }
    let prefix = prefix_text.map(parse_prefix_number).transpose()?;
    Ok((address, prefix))
}

/// Parses the digits after `/` as a prefix length of at most 128.
fn parse_prefix_number(text: &str) -> Result<u8, String> {
    if text.is_empty() {
        return Err("missing prefix length after '/'; write it like 10.0.0.0/24".into());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "prefix length \"{text}\" is not a number; write it like 10.0.0.0/24"
        ));
    }
    match text.parse::<u8>() {
        Ok(prefix) if prefix <= 128 => Ok(prefix),
        _ => Err(format!("prefix length {text} is out of range 0-128")),
    }
}

/// Parses an IPv6 address (brackets already removed) with optional prefix.
fn parse_ipv6(text: &str, prefix: Option<u8>) -> Result<ParsedSpec, String> {
    if let Some((_, zone)) = text.split_once('%') {
        return Err(format!(
            "IPv6 zone index \"%{zone}\" is not supported; give the address without it"
        ));
    }
    let address: Ipv6Addr = text.parse().map_err(|_| {
        format!(
            "\"{text}\" is not a valid IPv6 address; write it like fe80::1 or 2001:db8::/64 \
             (IPv6 octet ranges are not supported)"
        )
    })?;
    let net = Ipv6Net::new(address, prefix.unwrap_or(128))
        .map_err(|_| "IPv6 prefix length must be 0-128".to_string())?;
    Ok(ParsedSpec::Ipv6Net(net.trunc()))
}

/// Parses an IPv4 address, CIDR block or octet-range pattern.
fn parse_ipv4(text: &str, prefix: Option<u8>) -> Result<ParsedSpec, String> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        return Err(format!(
            "an IPv4 address needs 4 dot-separated octets, found {}; write it like 192.168.1.5",
            parts.len()
        ));
    }
    let mut octets = [OctetSet::empty(); 4];
    for (index, (octet, part)) in octets.iter_mut().zip(parts).enumerate() {
        *octet = parse_octet_list(part, index + 1)?;
    }
    let pattern = Ipv4Pattern { octets };
    let Some(prefix) = prefix else {
        return Ok(ParsedSpec::Ipv4Pattern(pattern));
    };
    let Some(address) = pattern.as_single() else {
        return Err("a /prefix cannot be combined with octet ranges or lists; \
             use either 10.0.0.0/24 or 10.0.0.0-255"
            .into());
    };
    let net =
        Ipv4Net::new(address, prefix).map_err(|_| "IPv4 prefix length must be 0-32".to_string())?;
    Ok(ParsedSpec::Ipv4Pattern(Ipv4Pattern::from_net(net.trunc())))
}

/// Parses one octet's comma-separated list of values and ranges.
/// `position` is 1-based, for messages.
fn parse_octet_list(text: &str, position: usize) -> Result<OctetSet, String> {
    if text.is_empty() {
        return Err(format!(
            "octet {position} is empty; give a number 0-255, a range like 1-20, or *"
        ));
    }
    let mut set = OctetSet::empty();
    for item in text.split(',') {
        set.union_with(&parse_octet_item(item, position)?);
    }
    Ok(set)
}

/// Parses one item of an octet list: `N`, `N-M`, `N-`, `-M`, `-` or `*`.
fn parse_octet_item(item: &str, position: usize) -> Result<OctetSet, String> {
    if item.is_empty() {
        return Err(format!(
            "octet {position} has an empty entry in its comma-separated list; remove the extra comma"
        ));
    }
    if item == "*" {
        return Ok(OctetSet::full());
    }
    let Some((start, end)) = item.split_once('-') else {
        return parse_octet_value(item).map(OctetSet::single);
    };
    let low = if start.is_empty() {
        0
    } else {
        parse_octet_value(start)?
    };
    let high = if end.is_empty() {
        u8::MAX
    } else {
        parse_octet_value(end)?
    };
    if low > high {
        return Err(format!(
            "range start {low} is above its end {high}; write the smaller number first"
        ));
    }
    Ok(OctetSet::range(low, high))
}

/// Parses a decimal octet value 0-255.
fn parse_octet_value(text: &str) -> Result<u8, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "\"{text}\" is not an octet; give a number 0-255, a range like 1-20, or *"
        ));
    }
    text.parse::<u8>()
        .map_err(|_| format!("octet {text} is out of range 0-255"))
}

/// Checks hostname syntax (letters, digits, `-`, `_`, dot-separated labels).
fn parse_hostname(text: &str, prefix: Option<u8>) -> Result<ParsedSpec, String> {
    let name = text.strip_suffix('.').unwrap_or(text);
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "invalid character '{}' in hostname; hostnames may contain only letters, digits, \
             '-', '_' and '.'",
            bad.escape_default()
        ));
    }
    if name.len() > MAX_HOSTNAME_LEN {
        return Err(format!(
            "hostname is {} characters long, above the limit of {MAX_HOSTNAME_LEN}",
            name.len()
        ));
    }
    for label in name.split('.') {
        check_hostname_label(label)?;
    }
    Ok(ParsedSpec::Hostname {
        name: name.to_string(),
        prefix,
    })
}

/// Checks one dot-separated label of a hostname.
fn check_hostname_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("hostname has an empty label (two dots in a row, or a leading dot)".into());
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(format!(
            "hostname label \"{label}\" is longer than {MAX_LABEL_LEN} characters"
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(format!(
            "hostname label \"{label}\" must not start or end with '-'"
        ));
    }
    Ok(())
}

/// Largest target list file read (16 MiB).
pub const MAX_LIST_BYTES: u64 = 16 << 20;

/// How long one hostname lookup may take.
const LOOKUP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads an `-iL`-style list file: specs separated by whitespace/newlines,
/// `#` starts a comment to end of line; each spec's origin is file+line.
/// A file with no specs yields an empty list ([`expand`] then reports that no
/// targets were given).
pub fn read_list_file(path: &Path) -> Result<Vec<SpecSource>, InputError> {
    let text = jcstar_model::error::read_capped(path, MAX_LIST_BYTES).map_err(|err| {
        InputError::new(
            Origin::file(path),
            format!("cannot read target list: {err}; check the path and permissions"),
        )
    })?;
    Ok(parse_list_text(&text, path))
}

/// Splits list-file `text` (read from `path`) into specs with line origins.
fn parse_list_text(text: &str, path: &Path) -> Vec<SpecSource> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut specs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let content = line.split_once('#').map_or(line, |(before, _)| before);
        for token in content.split_whitespace() {
            specs.push(SpecSource::new(token, Origin::file_line(path, index + 1)));
        }
    }
    specs
}

/// Splits an nmap `--exclude a,b c` argument into specs, on commas and
/// whitespace.
///
/// Because commas are also nmap's octet-list separator, a piece is joined back
/// onto the previous IPv4 pattern when it cannot stand alone: when it has no
/// dots (`10.0.0.1,3,5-7` is one spec), or when the previous piece has fewer
/// than four octets (`10.0.1,2.5` is one spec). An empty piece (`a,,b`) is kept
/// as an empty spec so that parsing reports it.
pub fn split_comma_list(text: &str, origin: Origin) -> Vec<SpecSource> {
    let mut specs: Vec<SpecSource> = Vec::new();
    for comma_piece in text.split(',') {
        let words: Vec<&str> = comma_piece.split_whitespace().collect();
        let Some((first, rest)) = words.split_first() else {
            specs.push(SpecSource::new("", origin.clone()));
            continue;
        };
        match specs.last_mut() {
            Some(previous) if continues_octet_list(&previous.text, first) => {
                previous.text.push(',');
                previous.text.push_str(first);
            }
            _ => specs.push(SpecSource::new(*first, origin.clone())),
        }
        specs.extend(
            rest.iter()
                .map(|word| SpecSource::new(*word, origin.clone())),
        );
    }
    specs
}

/// Whether `piece`, found after a comma, continues the IPv4 pattern `previous`.
fn continues_octet_list(previous: &str, piece: &str) -> bool {
    let is_pattern = |s: &str| !s.is_empty() && s.chars().all(|c| IPV4_PATTERN_CHARS.contains(c));
    if !is_pattern(previous) || !is_pattern(piece) {
        return false;
    }
    !piece.contains('.') || previous.matches('.').count() < 3
}

/// What a spec names once any hostname in it is resolved.
#[derive(Debug)]
struct ResolvedSpec<'a> {
    /// The addresses named.
    set: AddressSet,
    /// The hostname and the address it resolved to, for hostname specs.
    named: Option<(String, IpAddr)>,
    /// The spec, for error messages.
    source: &'a SpecSource,
}

/// Something that turns a hostname into addresses (the system resolver, or a
/// fake in tests).
trait Resolver {
    /// All addresses of `name`, or a message saying why there are none.
    fn resolve(&self, name: &str) -> impl Future<Output = Result<Vec<IpAddr>, String>> + Send;
}

/// Resolves names with the operating system (`getaddrinfo`) via tokio.
struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, name: &str) -> impl Future<Output = Result<Vec<IpAddr>, String>> + Send {
        let name = name.to_string();
        async move {
            let lookup = tokio::net::lookup_host((name.as_str(), 0));
            let addresses = tokio::time::timeout(LOOKUP_DEADLINE, lookup)
                .await
                .map_err(|_| {
                    format!(
                        "no answer from the resolver within {} s",
                        LOOKUP_DEADLINE.as_secs()
                    )
                })?
                .map_err(|err| err.to_string())?;
            Ok(addresses.map(|socket| socket.ip()).collect())
        }
    }
}

/// Expands specs minus exclusions into a sorted, de-duplicated host list.
///
/// Hostnames are resolved with the system resolver (one lookup per distinct
/// name, in order); the first IPv4 address is taken, or the first IPv6 one if
/// there is no IPv4 address or the spec's prefix is above 32 (so it can only
/// be IPv6). With `name/prefix`, the whole network around that address is
/// scanned and only the resolved address carries the hostname.
///
/// The limit applies to the sum of the addresses each spec names, *before*
/// exclusion and de-duplication; it is checked by counting, so `10.0.0.0/8` is
/// refused without listing it. Above `opts.max_addresses` (unless
/// `opts.allow_large`), or above [`ABSOLUTE_MAX_ADDRESSES`] in any case, the
/// result is an error. When several specs name the same address, one entry is
/// kept, carrying the first hostname given for it. No specs, or every address
/// excluded, is an error too.
pub async fn expand(
    specs: &[SpecSource],
    exclusions: &[SpecSource],
    opts: &ExpandOptions,
) -> Result<Vec<TargetHost>, InputError> {
    expand_with(specs, exclusions, opts, &SystemResolver).await
}

/// [`expand`] with a chosen resolver.
async fn expand_with<R: Resolver>(
    specs: &[SpecSource],
    exclusions: &[SpecSource],
    opts: &ExpandOptions,
    resolver: &R,
) -> Result<Vec<TargetHost>, InputError> {
    if specs.is_empty() {
        return Err(InputError::arg(
            "no targets given; name at least one address, range, CIDR block or hostname",
        ));
    }
    let targets = parse_all(specs)?;
    let excluded = parse_all(exclusions)?;
    let mut cache = HashMap::new();
    let targets = resolve_all(targets, resolver, &mut cache).await?;
    let excluded = resolve_all(excluded, resolver, &mut cache).await?;
    check_limit(&targets, opts)?;
    let hosts = list_hosts(&targets, &excluded);
    if hosts.is_empty() {
        let origin = exclusions
            .first()
            .map_or_else(Origin::command_line, |spec| spec.origin.clone());
        return Err(InputError::new(
            origin,
            "every target address is excluded, leaving nothing to scan; \
             narrow the exclusions or widen the targets",
        ));
    }
    Ok(hosts)
}

/// Parses every spec, stopping at the first error.
fn parse_all(specs: &[SpecSource]) -> Result<Vec<(ParsedSpec, &SpecSource)>, InputError> {
    specs
        .iter()
        .map(|spec| parse_spec(spec).map(|parsed| (parsed, spec)))
        .collect()
}

/// Resolves every hostname spec, reusing lookups cached in `cache`.
async fn resolve_all<'a, R: Resolver>(
    parsed: Vec<(ParsedSpec, &'a SpecSource)>,
    resolver: &R,
    cache: &mut HashMap<String, Vec<IpAddr>>,
) -> Result<Vec<ResolvedSpec<'a>>, InputError> {
    let mut resolved = Vec::with_capacity(parsed.len());
    for (spec, source) in parsed {
        let entry = match spec {
            ParsedSpec::Ipv4Pattern(pattern) => ResolvedSpec {
                set: AddressSet::V4(pattern),
                named: None,
                source,
            },
            ParsedSpec::Ipv6Net(net) => ResolvedSpec {
                set: AddressSet::V6(net),
                named: None,
                source,
            },
            ParsedSpec::Hostname { name, prefix } => {
                let addresses = lookup_cached(&name, source, resolver, cache).await?;
                resolve_hostname(name, prefix, addresses, source)?
            }
        };
        resolved.push(entry);
    }
    Ok(resolved)
}

/// The addresses of `name`, from `cache` or the resolver; an error if none.
async fn lookup_cached<'c, R: Resolver>(
    name: &str,
    source: &SpecSource,
    resolver: &R,
    cache: &'c mut HashMap<String, Vec<IpAddr>>,
) -> Result<&'c [IpAddr], InputError> {
    let key = name.to_ascii_lowercase();
    if !cache.contains_key(&key) {
        let addresses = resolver.resolve(name).await.map_err(|reason| {
            InputError::new(
                source.origin.clone(),
                format!("cannot resolve \"{name}\": {reason}; check the name or use an address"),
            )
        })?;
        cache.insert(key.clone(), addresses);
    }
    let addresses = cache.get(&key).map_or(&[][..], Vec::as_slice);
    if addresses.is_empty() {
        return Err(InputError::new(
            source.origin.clone(),
            format!(
                "cannot resolve \"{name}\": the name has no addresses; check the name or use an address"
            ),
        ));
    }
    Ok(addresses)
}

/// Picks the address of a resolved hostname and applies its prefix.
fn resolve_hostname<'a>(
    name: String,
    prefix: Option<u8>,
    addresses: &[IpAddr],
    source: &'a SpecSource,
) -> Result<ResolvedSpec<'a>, InputError> {
    let needs_v6 = prefix.is_some_and(|p| p > 32);
    let address = if needs_v6 {
        addresses.iter().copied().find(IpAddr::is_ipv6)
    } else {
        addresses
            .iter()
            .copied()
            .find(IpAddr::is_ipv4)
            .or_else(|| addresses.first().copied())
    };
    let Some(address) = address else {
        return Err(source.error(format!(
            "a prefix above 32 needs an IPv6 address, but \"{name}\" has none; use a prefix of 0-32"
        )));
    };
    let set =
        AddressSet::from_address_prefix(address, prefix.unwrap_or(128).min(max_prefix(address)))
            .map_err(|message| source.error(message))?;
    Ok(ResolvedSpec {
        set,
        named: Some((name, address)),
        source,
    })
}

/// The host-route prefix length of `address`'s family.
fn max_prefix(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// Refuses expansions above the configured or absolute limit.
fn check_limit(targets: &[ResolvedSpec<'_>], opts: &ExpandOptions) -> Result<(), InputError> {
    let limit = if opts.allow_large {
        ABSOLUTE_MAX_ADDRESSES
    } else {
        opts.max_addresses.min(ABSOLUTE_MAX_ADDRESSES)
    } as u128;
    let total = targets
        .iter()
        .fold(0u128, |sum, spec| sum.saturating_add(spec.set.count()));
    if total <= limit {
        return Ok(());
    }
    let mut running = 0u128;
    let culprit = targets.iter().find(|spec| {
        running = running.saturating_add(spec.set.count());
        running > limit
    });
    let Some(culprit) = culprit else {
        return Ok(());
    };
    Err(culprit.source.error(limit_message(
        culprit.set.count(),
        total,
        limit,
        opts.allow_large,
    )))
}

/// Explains a limit refusal: how many addresses, the limit, and the fix.
fn limit_message(spec_count: u128, total: u128, limit: u128, allow_large: bool) -> String {
    let amount = if spec_count > limit {
        format!("expands to {} addresses", describe_count(spec_count))
    } else {
        format!(
            "brings the targets to {} addresses in total",
            describe_count(total)
        )
    };
    if allow_large {
        format!(
            "{amount}, above the absolute maximum of {limit} even with --allow-large; \
             split the scan into smaller ranges"
        )
    } else {
        format!(
            "{amount}, above the limit of {limit}; give a narrower range, \
             or pass --allow-large to scan up to {ABSOLUTE_MAX_ADDRESSES} addresses"
        )
    }
}

/// A count for messages; `u128::MAX` stands for 2^128 (`::/0`).
fn describe_count(count: u128) -> String {
    if count == u128::MAX {
        "2^128".to_string()
    } else {
        count.to_string()
    }
}

/// Lists every target address not excluded, sorted by address, keeping one
/// entry per address (with the first hostname given for it).
fn list_hosts(targets: &[ResolvedSpec<'_>], excluded: &[ResolvedSpec<'_>]) -> Vec<TargetHost> {
    let is_excluded = |address: IpAddr| excluded.iter().any(|spec| spec.set.contains(address));
    let mut hosts = Vec::new();
    for spec in targets {
        for address in spec.set.iter().filter(|&a| !is_excluded(a)) {
            let hostname = spec
                .named
                .as_ref()
                .filter(|(_, named)| *named == address)
                .map(|(name, _)| name.clone());
            hosts.push(TargetHost { address, hostname });
        }
    }
    hosts.sort_by_key(|host| host.address);
    hosts.dedup_by(|later, kept| {
        let same = later.address == kept.address;
        if same && kept.hostname.is_none() {
            kept.hostname = later.hostname.take();
        }
        same
    });
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    fn from_file(text: &str) -> SpecSource {
        SpecSource::new(text, Origin::file_line(Path::new("targets.txt"), 3))
    }

    fn parse_ok(text: &str) -> ParsedSpec {
        match parse_spec(&SpecSource::command_line(text)) {
            Ok(parsed) => parsed,
            Err(err) => panic!("{text:?} should parse, got: {err}"),
        }
    }

    /// Parses `text` as if from targets.txt line 3 and returns the error text,
    /// checking that it names the origin and the spec.
    fn parse_err(text: &str) -> String {
        let message = match parse_spec(&from_file(text)) {
            Ok(parsed) => panic!("{text:?} should be refused, got {parsed:?}"),
            Err(err) => err.to_string(),
        };
        assert!(message.starts_with("targets.txt:3: "), "{message}");
        assert!(
            message.contains(&format!("\"{}\"", text.trim())),
            "{message}"
        );
        message
    }

    fn v4_list(text: &str) -> Vec<Ipv4Addr> {
        match parse_ok(text) {
            ParsedSpec::Ipv4Pattern(pattern) => pattern.iter().collect(),
            other => panic!("{text:?} should be an IPv4 pattern, got {other:?}"),
        }
    }

    fn v4(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn count(text: &str) -> u128 {
        parse_ok(text).address_count().unwrap()
    }

    // ---- IPv4 syntax ----

    #[test]
    fn single_ipv4_address() {
        assert_eq!(v4_list("192.168.1.5"), vec![v4("192.168.1.5")]);
        assert_eq!(v4_list("  192.168.1.5\t"), vec![v4("192.168.1.5")]);
    }

    #[test]
    fn cidr_24_includes_network_and_broadcast() {
        let addresses = v4_list("10.0.0.0/24");
        assert_eq!(addresses.len(), 256);
        assert_eq!(addresses.first(), Some(&v4("10.0.0.0")));
        assert_eq!(addresses.last(), Some(&v4("10.0.0.255")));
        assert!(addresses.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn cidr_32_is_one_address() {
        assert_eq!(v4_list("10.1.2.3/32"), vec![v4("10.1.2.3")]);
    }

    #[test]
    fn cidr_not_on_octet_boundary() {
        let addresses = v4_list("10.0.16.0/20");
        assert_eq!(addresses.len(), 4096);
        assert_eq!(addresses.first(), Some(&v4("10.0.16.0")));
        assert_eq!(addresses.last(), Some(&v4("10.0.31.255")));
        assert_eq!(v4_list("192.168.1.4/30").len(), 4);
        assert_eq!(count("172.16.0.0/12"), 1 << 20);
    }

    #[test]
    fn cidr_host_bits_are_cleared() {
        assert_eq!(parse_ok("10.0.0.77/24"), parse_ok("10.0.0.0/24"));
    }

    #[test]
    fn cidr_0_is_counted_not_listed() {
        assert_eq!(count("0.0.0.0/0"), 1 << 32);
        assert_eq!(count("10.0.0.0/8"), 1 << 24);
    }

    #[test]
    fn octet_range() {
        let addresses = v4_list("10.0.0.1-20");
        assert_eq!(addresses.len(), 20);
        assert_eq!(addresses[0], v4("10.0.0.1"));
        assert_eq!(addresses[19], v4("10.0.0.20"));
    }

    #[test]
    fn range_in_inner_octet() {
        assert_eq!(
            v4_list("10.0.1-3.7"),
            vec![v4("10.0.1.7"), v4("10.0.2.7"), v4("10.0.3.7")]
        );
    }

    #[test]
    fn octet_list_with_range() {
        let expected: Vec<Ipv4Addr> = [1, 3, 5, 6, 7]
            .iter()
            .map(|&d| Ipv4Addr::new(10, 0, 0, d))
            .collect();
        assert_eq!(v4_list("10.0.0.1,3,5-7"), expected);
        assert_eq!(v4_list("10.0.0.7,5-7,1,3,3"), expected);
    }

    #[test]
    fn whole_octet_wildcards() {
        assert_eq!(v4_list("10.0.0.-").len(), 256);
        assert_eq!(v4_list("10.0.0.*").len(), 256);
        assert_eq!(parse_ok("10.0.0.*"), parse_ok("10.0.0.0/24"));
        assert_eq!(count("10.*.*.*"), 1 << 24);
    }

    #[test]
    fn open_ended_octet_ranges() {
        assert_eq!(v4_list("10.0.0.250-").len(), 6);
        assert_eq!(v4_list("10.0.0.-5").len(), 6);
        assert_eq!(v4_list("10.0.0.-5")[0], v4("10.0.0.0"));
    }

    #[test]
    fn combined_ranges_multiply() {
        assert_eq!(count("10.0.1-2.1,2"), 4);
        assert_eq!(
            v4_list("10.0.1-2.1,2"),
            vec![
                v4("10.0.1.1"),
                v4("10.0.1.2"),
                v4("10.0.2.1"),
                v4("10.0.2.2")
            ]
        );
    }

    // ---- IPv6 syntax ----

    fn v6_net(text: &str) -> Ipv6Net {
        match parse_ok(text) {
            ParsedSpec::Ipv6Net(net) => net,
            other => panic!("{text:?} should be IPv6, got {other:?}"),
        }
    }

    #[test]
    fn ipv6_single_addresses() {
        assert_eq!(v6_net("::1"), "::1/128".parse().unwrap());
        assert_eq!(v6_net("fe80::1"), "fe80::1/128".parse().unwrap());
        assert_eq!(count("fe80::1"), 1);
    }

    #[test]
    fn ipv6_bracketed() {
        assert_eq!(v6_net("[::1]"), "::1/128".parse().unwrap());
        assert_eq!(
            v6_net("[2001:db8::]/126"),
            "2001:db8::/126".parse().unwrap()
        );
    }

    #[test]
    fn ipv6_network() {
        assert_eq!(count("2001:db8::/120"), 256);
        let set = parse_ok("2001:db8::/120").address_set().unwrap();
        let addresses: Vec<IpAddr> = set.iter().collect();
        assert_eq!(addresses.len(), 256);
        assert_eq!(addresses[0], ip("2001:db8::"));
        assert_eq!(addresses[255], ip("2001:db8::ff"));
    }

    #[test]
    fn ipv6_host_bits_cleared_and_huge_counts_saturate() {
        assert_eq!(
            v6_net("2001:db8::99/120"),
            "2001:db8::/120".parse().unwrap()
        );
        assert_eq!(count("::/0"), u128::MAX);
        assert_eq!(count("2001:db8::/64"), 1 << 64);
    }

    #[test]
    fn ipv4_mapped_ipv6_is_ipv6() {
        assert_eq!(count("::ffff:10.0.0.1"), 1);
    }

    // ---- hostnames ----

    #[test]
    fn hostnames() {
        assert_eq!(
            parse_ok("localhost"),
            ParsedSpec::Hostname {
                name: "localhost".into(),
                prefix: None
            }
        );
        assert_eq!(
            parse_ok("cam.lab/30"),
            ParsedSpec::Hostname {
                name: "cam.lab".into(),
                prefix: Some(30)
            }
        );
        assert_eq!(
            parse_ok("cam-1_a.lab."),
            ParsedSpec::Hostname {
                name: "cam-1_a.lab".into(),
                prefix: None
            }
        );
        assert_eq!(parse_ok("cam.lab").address_count(), Some(1));
        assert_eq!(parse_ok("cam.lab/24").address_count(), None);
    }

    // ---- bad input ----

    #[test]
    fn octet_out_of_range() {
        let message = parse_err("10.0.0.300");
        assert_eq!(
            message,
            "targets.txt:3: \"10.0.0.300\": octet 300 is out of range 0-255"
        );
        assert!(parse_err("10.0.0.99999999999999999999999").contains("out of range 0-255"));
        assert!(parse_err("256.0.0.1").contains("octet 256"));
        assert!(parse_err("10.0.0.1-256").contains("octet 256"));
    }

    #[test]
    fn prefix_too_long() {
        assert!(parse_err("10.0.0.0/33").contains("IPv4 prefix length must be 0-32"));
        assert!(parse_err("::1/129").contains("prefix length 129 is out of range 0-128"));
        assert!(parse_err("10.0.0.0/999999").contains("out of range"));
        assert!(parse_err("cam.lab/200").contains("200"));
    }

    #[test]
    fn bad_prefix_syntax() {
        assert!(parse_err("10.0.0.0/").contains("missing prefix length"));
        assert!(parse_err("10.0.0.0/ab").contains("\"ab\" is not a number"));
        assert!(parse_err("10.0.0.0/24/8").contains("\"24/8\""));
        assert!(parse_err("/24").contains("missing address"));
        assert!(parse_err("10.0.0.0/+8").contains("\"+8\""));
    }

    #[test]
    fn reversed_range() {
        let message = parse_err("10.0.0.20-5");
        assert!(
            message.contains("range start 20 is above its end 5"),
            "{message}"
        );
    }

    #[test]
    fn empty_spec() {
        for text in ["", "   ", "\t"] {
            let err = parse_spec(&from_file(text)).unwrap_err();
            assert_eq!(err.origin, Origin::file_line(Path::new("targets.txt"), 3));
            assert!(err.message.contains("empty target spec"), "{err}");
        }
    }

    #[test]
    fn wrong_number_of_octets() {
        assert!(parse_err("10.0.0").contains("4 dot-separated octets, found 3"));
        assert!(parse_err("10.0.0.1.5").contains("found 5"));
        assert!(parse_err("12345").contains("found 1"));
    }

    #[test]
    fn empty_octets_and_list_entries() {
        assert!(parse_err("10..0.1").contains("octet 2 is empty"));
        assert!(parse_err("10.0.0.").contains("octet 4 is empty"));
        assert!(parse_err("10.0.0.1,,3").contains("empty entry"));
        assert!(parse_err("10.0.0.1,").contains("empty entry"));
    }

    #[test]
    fn malformed_octet_ranges() {
        assert!(parse_err("10.0.0.1-2-3").contains("\"2-3\" is not an octet"));
        assert!(parse_err("10.0.0.**").contains("\"**\" is not an octet"));
        assert!(parse_err("10.0.0.1*").contains("\"1*\""));
    }

    #[test]
    fn prefix_with_octet_ranges() {
        assert!(parse_err("10.0.0.1-5/24").contains("cannot be combined with octet ranges"));
    }

    #[test]
    fn bad_ipv6() {
        assert!(parse_err("fe80::zz").contains("not a valid IPv6 address"));
        assert!(parse_err("2001:db8::1-5").contains("not a valid IPv6 address"));
        assert!(parse_err("fe80::1%eth0").contains("zone index \"%eth0\""));
        assert!(parse_err("[::1").contains("no matching ']'"));
        assert!(parse_err("[::1]x").contains("unexpected \"x\""));
        assert!(parse_err("[10.0.0.1]").contains("not a valid IPv6 address"));
        assert!(parse_err("[]").contains("not a valid IPv6 address"));
    }

    #[test]
    fn bad_hostname_characters() {
        let message = parse_err("cam!lab");
        assert!(message.contains("invalid character '!'"), "{message}");
        assert!(parse_err("cäm.lab").contains("invalid character"));
        assert!(parse_err("cam lab").contains("invalid character ' '"));
        assert!(parse_err("http://cam.lab").contains("\"http://cam.lab\""));
    }

    #[test]
    fn bad_hostname_labels() {
        assert!(parse_err("cam..lab").contains("empty label"));
        assert!(parse_err(".cam.lab").contains("empty label"));
        assert!(parse_err("-cam.lab").contains("must not start or end with '-'"));
        assert!(parse_err(&format!("{}.lab", "a".repeat(64))).contains("longer than 63"));
        let long = vec!["abcdefghij"; 30].join(".");
        assert!(parse_err(&long).contains("above the limit of 253"));
    }

    /// A tiny deterministic generator for the no-panic test.
    fn next_random(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *state >> 33
    }

    #[test]
    fn never_panics_on_arbitrary_input() {
        let alphabet: Vec<char> = "0123456789.-,*/:[]%ab _#\u{e9}\u{feff}\n".chars().collect();
        let mut state = 42;
        for _ in 0..20_000 {
            let len = next_random(&mut state) % 16;
            let text: String = (0..len)
                .map(|_| alphabet[next_random(&mut state) as usize % alphabet.len()])
                .collect();
            for spec in split_comma_list(&text, Origin::command_line()) {
                if let Ok(parsed) = parse_spec(&spec) {
                    if parsed.address_count().is_some_and(|n| n <= 1024) {
                        if let Some(set) = parsed.address_set() {
                            assert_eq!(set.iter().count() as u128, set.count());
                        }
                    }
                }
            }
        }
        for text in [
            "[", "]", "[]/", "/", "//", "[::1]/", "\u{0}", "::::", "-", "*", ",", ".",
        ] {
            let _ = parse_spec(&SpecSource::command_line(text));
        }
    }

    // ---- list files and comma lists ----

    #[test]
    fn list_file_specs_comments_and_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.txt");
        let text = "\u{feff}# lab devices\n10.0.0.1 10.0.0.2\r\n\n  cam.lab   # the camera\n\t2001:db8::/126#v6\n#10.9.9.9\n";
        std::fs::write(&path, text).unwrap();
        let specs = read_list_file(&path).unwrap();
        let found: Vec<(&str, Option<usize>)> = specs
            .iter()
            .map(|s| (s.text.as_str(), s.origin.line))
            .collect();
        assert_eq!(
            found,
            vec![
                ("10.0.0.1", Some(2)),
                ("10.0.0.2", Some(2)),
                ("cam.lab", Some(4)),
                ("2001:db8::/126", Some(5)),
            ]
        );
        assert_eq!(specs[0].origin.file, Some(path.display().to_string()));
    }

    #[test]
    fn list_file_error_origin_is_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.txt");
        std::fs::write(&path, "10.0.0.1\n# note\n10.0.0.300\n").unwrap();
        let specs = read_list_file(&path).unwrap();
        let err = parse_spec(&specs[1]).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}:3: \"10.0.0.300\": octet 300 is out of range 0-255",
                path.display()
            )
        );
    }

    #[test]
    fn list_file_empty_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.txt");
        std::fs::write(&path, "# nothing\n\n").unwrap();
        assert!(read_list_file(&path).unwrap().is_empty());
        let missing = dir.path().join("missing.txt");
        let err = read_list_file(&missing).unwrap_err().to_string();
        assert!(err.starts_with(&missing.display().to_string()), "{err}");
        assert!(err.contains("cannot read target list"), "{err}");
    }

    fn split(text: &str) -> Vec<String> {
        split_comma_list(text, Origin::command_line())
            .into_iter()
            .map(|spec| spec.text)
            .collect()
    }

    #[test]
    fn comma_list_splitting() {
        assert_eq!(split("10.0.0.1,10.0.0.2"), ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(
            split("10.0.0.1, cam.lab ::1"),
            ["10.0.0.1", "cam.lab", "::1"]
        );
        assert_eq!(
            split("10.0.0.0/24,cam.lab/30"),
            ["10.0.0.0/24", "cam.lab/30"]
        );
        assert_eq!(split("2001:db8::1,fe80::1"), ["2001:db8::1", "fe80::1"]);
    }

    #[test]
    fn comma_list_keeps_octet_lists_together() {
        assert_eq!(split("10.0.0.1,3,5-7"), ["10.0.0.1,3,5-7"]);
        assert_eq!(split("10.0.1,2.5,10.0.0.9"), ["10.0.1,2.5", "10.0.0.9"]);
        assert_eq!(split("cam.lab,10.0.0.1,3"), ["cam.lab", "10.0.0.1,3"]);
    }

    #[test]
    fn comma_list_empty_pieces_become_empty_specs() {
        assert_eq!(split("a,,b"), ["a", "", "b"]);
        assert_eq!(split(""), [""]);
        let origin = Origin::command_line();
        let specs = split_comma_list("10.0.0.1,", origin.clone());
        assert!(specs.iter().all(|spec| spec.origin == origin));
        assert!(parse_spec(&specs[1]).is_err());
    }

    // ---- expansion ----

    /// A resolver answering from a fixed table, counting lookups.
    struct FakeResolver {
        table: HashMap<&'static str, Vec<IpAddr>>,
        lookups: AtomicUsize,
    }

    impl FakeResolver {
        fn new(entries: &[(&'static str, &[&str])]) -> Self {
            let table = entries
                .iter()
                .map(|(name, addresses)| (*name, addresses.iter().map(|a| ip(a)).collect()))
                .collect();
            FakeResolver {
                table,
                lookups: AtomicUsize::new(0),
            }
        }
    }

    impl Resolver for FakeResolver {
        fn resolve(&self, name: &str) -> impl Future<Output = Result<Vec<IpAddr>, String>> + Send {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            let answer = self
                .table
                .get(name)
                .cloned()
                .ok_or_else(|| "Name or service not known".to_string());
            std::future::ready(answer)
        }
    }

    fn cli(texts: &[&str]) -> Vec<SpecSource> {
        texts.iter().map(|t| SpecSource::command_line(*t)).collect()
    }

    async fn expand_fake(
        specs: &[SpecSource],
        exclusions: &[SpecSource],
        resolver: &FakeResolver,
    ) -> Result<Vec<TargetHost>, InputError> {
        expand_with(specs, exclusions, &ExpandOptions::default(), resolver).await
    }

    fn addresses(hosts: &[TargetHost]) -> Vec<IpAddr> {
        hosts.iter().map(|h| h.address).collect()
    }

    fn host(address: &str, name: Option<&str>) -> TargetHost {
        TargetHost {
            address: ip(address),
            hostname: name.map(str::to_string),
        }
    }

    #[tokio::test]
    async fn expand_sorts_and_deduplicates() {
        let specs = cli(&["10.0.0.3", "::1", "10.0.0.1-3", "10.0.0.2", "[::1]"]);
        let hosts = expand(&specs, &[], &ExpandOptions::default())
            .await
            .unwrap();
        assert_eq!(
            addresses(&hosts),
            vec![ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3"), ip("::1")]
        );
        assert!(hosts.iter().all(|h| h.hostname.is_none()));
    }

    #[tokio::test]
    async fn expand_resolves_localhost() {
        let hosts = expand(&cli(&["localhost"]), &[], &ExpandOptions::default())
            .await
            .unwrap();
        assert_eq!(hosts.len(), 1);
        assert!(hosts[0].address.is_loopback(), "{hosts:?}");
        assert_eq!(hosts[0].hostname.as_deref(), Some("localhost"));
    }

    #[tokio::test]
    async fn expand_future_is_send() {
        fn assert_send<T: Send>(value: T) -> T {
            value
        }
        let specs = cli(&["127.0.0.1"]);
        let hosts = assert_send(expand(&specs, &[], &ExpandOptions::default()))
            .await
            .unwrap();
        assert_eq!(hosts, vec![host("127.0.0.1", None)]);
    }

    #[tokio::test]
    async fn hostname_prefers_ipv4() {
        let resolver =
            FakeResolver::new(&[("cam.lab", &["fd00::7", "192.168.1.7", "192.168.1.8"])]);
        let hosts = expand_fake(&cli(&["cam.lab"]), &[], &resolver)
            .await
            .unwrap();
        assert_eq!(hosts, vec![host("192.168.1.7", Some("cam.lab"))]);
    }

    #[tokio::test]
    async fn hostname_with_only_ipv6() {
        let resolver = FakeResolver::new(&[("cam6.lab", &["fd00::7", "fd00::8"])]);
        let hosts = expand_fake(&cli(&["cam6.lab"]), &[], &resolver)
            .await
            .unwrap();
        assert_eq!(hosts, vec![host("fd00::7", Some("cam6.lab"))]);
    }

    #[tokio::test]
    async fn hostname_with_v6_only_prefix_takes_ipv6() {
        let resolver = FakeResolver::new(&[("cam.lab", &["192.168.1.7", "fd00::7"])]);
        let hosts = expand_fake(&cli(&["cam.lab/126"]), &[], &resolver)
            .await
            .unwrap();
        assert_eq!(
            hosts,
            vec![
                host("fd00::4", None),
                host("fd00::5", None),
                host("fd00::6", None),
                host("fd00::7", Some("cam.lab")),
            ]
        );
        let v4_only = FakeResolver::new(&[("cam.lab", &["192.168.1.7"])]);
        let err = expand_fake(&cli(&["cam.lab/126"]), &[], &v4_only)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"cam.lab/126\""), "{err}");
        assert!(
            err.contains("prefix above 32 needs an IPv6 address"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn hostname_with_prefix_scans_its_network() {
        let resolver = FakeResolver::new(&[("cam.lab", &["192.168.1.6"])]);
        let hosts = expand_fake(&cli(&["cam.lab/30"]), &[], &resolver)
            .await
            .unwrap();
        assert_eq!(
            hosts,
            vec![
                host("192.168.1.4", None),
                host("192.168.1.5", None),
                host("192.168.1.6", Some("cam.lab")),
                host("192.168.1.7", None),
            ]
        );
    }

    #[tokio::test]
    async fn localhost_with_prefix() {
        let hosts = expand(&cli(&["localhost/30"]), &[], &ExpandOptions::default())
            .await
            .unwrap();
        assert_eq!(hosts.len(), 4, "{hosts:?}");
        assert_eq!(
            hosts.iter().filter(|h| h.hostname.is_some()).count(),
            1,
            "{hosts:?}"
        );
    }

    #[tokio::test]
    async fn unresolvable_hostname() {
        let resolver = FakeResolver::new(&[]);
        let err = expand_fake(&[from_file("nosuch.lab")], &[], &resolver)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "targets.txt:3: cannot resolve \"nosuch.lab\": Name or service not known; \
             check the name or use an address"
        );
    }

    #[tokio::test]
    async fn hostname_without_addresses() {
        let resolver = FakeResolver::new(&[("empty.lab", &[])]);
        let err = expand_fake(&[from_file("empty.lab")], &[], &resolver)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("targets.txt:3: cannot resolve \"empty.lab\""),
            "{err}"
        );
    }

    #[tokio::test]
    async fn each_name_is_looked_up_once() {
        let resolver = FakeResolver::new(&[("cam.lab", &["192.168.1.7"])]);
        let specs = cli(&["cam.lab", "cam.lab/31"]);
        let exclusions = cli(&["cam.lab"]);
        let err = expand_fake(&specs, &exclusions, &resolver).await;
        assert!(err.is_ok());
        assert_eq!(resolver.lookups.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn literal_and_hostname_for_same_address_keep_the_name() {
        let resolver = FakeResolver::new(&[("cam.lab", &["10.0.0.2"])]);
        let hosts = expand_fake(&cli(&["10.0.0.1-3", "cam.lab"]), &[], &resolver)
            .await
            .unwrap();
        assert_eq!(
            hosts,
            vec![
                host("10.0.0.1", None),
                host("10.0.0.2", Some("cam.lab")),
                host("10.0.0.3", None),
            ]
        );
    }

    #[tokio::test]
    async fn bad_spec_fails_before_any_lookup() {
        let resolver = FakeResolver::new(&[("cam.lab", &["10.0.0.2"])]);
        let err = expand_fake(
            &[SpecSource::command_line("cam.lab"), from_file("10.0.0.300")],
            &[],
            &resolver,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().starts_with("targets.txt:3:"), "{err}");
        assert_eq!(resolver.lookups.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn no_specs_is_an_error() {
        let err = expand(&[], &[], &ExpandOptions::default())
            .await
            .unwrap_err();
        assert!(err.message.contains("no targets given"), "{err}");
    }

    // ---- exclusions ----

    #[tokio::test]
    async fn exclusions_remove_matching_addresses() {
        let specs = cli(&["10.0.0.0/28", "2001:db8::/126"]);
        let exclusions = split_comma_list(
            "10.0.0.0,15, 10.0.0.4-7 2001:db8::2",
            Origin::command_line(),
        );
        let hosts = expand(&specs, &exclusions, &ExpandOptions::default())
            .await
            .unwrap();
        let expected: Vec<IpAddr> = [1, 2, 3, 8, 9, 10, 11, 12, 13, 14]
            .iter()
            .map(|&d| IpAddr::V4(Ipv4Addr::new(10, 0, 0, d)))
            .chain(["2001:db8::", "2001:db8::1", "2001:db8::3"].map(ip))
            .collect();
        assert_eq!(addresses(&hosts), expected);
    }

    #[tokio::test]
    async fn exclusion_by_cidr_and_hostname() {
        let resolver = FakeResolver::new(&[("router.lab", &["10.0.1.1"])]);
        let specs = cli(&["10.0.0-1.1-2"]);
        let exclusions = cli(&["10.0.0.0/24", "router.lab"]);
        let hosts = expand_fake(&specs, &exclusions, &resolver).await.unwrap();
        assert_eq!(hosts, vec![host("10.0.1.2", None)]);
    }

    #[tokio::test]
    async fn excluding_everything_is_an_error() {
        let specs = cli(&["10.0.0.1-3"]);
        let exclusions = vec![from_file("10.0.0.0/24")];
        let err = expand(&specs, &exclusions, &ExpandOptions::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("targets.txt:3:"), "{err}");
        assert!(err.contains("every target address is excluded"), "{err}");
    }

    #[tokio::test]
    async fn bad_exclusion_is_reported() {
        let err = expand(
            &cli(&["10.0.0.1"]),
            &[from_file("10.0.0.20-5")],
            &ExpandOptions::default(),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("targets.txt:3: \"10.0.0.20-5\": range start 20"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn huge_exclusions_are_not_listed() {
        let hosts = expand(
            &cli(&["10.0.0.1", "::1"]),
            &cli(&["::/0"]),
            &ExpandOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(addresses(&hosts), vec![ip("10.0.0.1")]);
    }

    // ---- limits ----

    #[tokio::test]
    async fn slash_8_is_refused_quickly() {
        let started = Instant::now();
        let err = expand(&[from_file("10.0.0.0/8")], &[], &ExpandOptions::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(err.starts_with("targets.txt:3: \"10.0.0.0/8\""), "{err}");
        assert!(err.contains("16777216 addresses"), "{err}");
        assert!(err.contains("limit of 65536"), "{err}");
        assert!(err.contains("--allow-large"), "{err}");
        assert!(err.contains("narrower range"), "{err}");
    }

    #[tokio::test]
    async fn whole_address_spaces_are_refused_without_listing() {
        // Listing either would exhaust memory, so success here proves counting.
        let opts = ExpandOptions::default();
        let err = expand(&cli(&["0.0.0.0/0"]), &[], &opts).await.unwrap_err();
        assert!(err.message.contains("4294967296 addresses"), "{err}");
        let err = expand(&cli(&["::/0"]), &[], &opts).await.unwrap_err();
        assert!(err.message.contains("2^128 addresses"), "{err}");
        let err = expand(&cli(&["10.*.*.*"]), &[], &opts).await.unwrap_err();
        assert!(err.message.contains("16777216"), "{err}");
    }

    #[tokio::test]
    async fn limit_applies_to_the_total_before_exclusion() {
        let specs = vec![
            SpecSource::command_line("10.0.0.0/16"),
            from_file("10.1.0.1"),
        ];
        let exclusions = cli(&["10.0.0.0/24"]);
        let err = expand(&specs, &exclusions, &ExpandOptions::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("targets.txt:3: \"10.1.0.1\""), "{err}");
        assert!(err.contains("65537 addresses in total"), "{err}");
        assert!(err.contains("limit of 65536"), "{err}");
        let exactly = expand(&cli(&["10.0.0.0/16"]), &[], &ExpandOptions::default())
            .await
            .unwrap();
        assert_eq!(exactly.len(), 65_536);
    }

    #[tokio::test]
    async fn custom_limit() {
        let opts = ExpandOptions {
            max_addresses: 10,
            allow_large: false,
        };
        let err = expand(&cli(&["10.0.0.1-11"]), &[], &opts)
            .await
            .unwrap_err();
        assert!(
            err.message.contains("11 addresses, above the limit of 10"),
            "{err}"
        );
        assert_eq!(
            expand(&cli(&["10.0.0.1-10"]), &[], &opts)
                .await
                .unwrap()
                .len(),
            10
        );
    }

    #[tokio::test]
    async fn allow_large_lifts_the_limit() {
        let opts = ExpandOptions {
            allow_large: true,
            ..ExpandOptions::default()
        };
        let hosts = expand(&cli(&["10.0.0.0/15"]), &[], &opts).await.unwrap();
        assert_eq!(hosts.len(), 131_072);
        assert_eq!(hosts.last().map(|h| h.address), Some(ip("10.1.255.255")));
    }

    #[tokio::test]
    async fn allow_large_still_has_an_absolute_maximum() {
        let opts = ExpandOptions {
            allow_large: true,
            ..ExpandOptions::default()
        };
        for text in ["0.0.0.0/0", "2001:db8::/64", "::/0"] {
            let err = expand(&cli(&[text]), &[], &opts).await.unwrap_err();
            assert!(
                err.message.contains("absolute maximum of 16777216"),
                "{err}"
            );
            assert!(err.message.contains("split the scan"), "{err}");
        }
    }

    #[tokio::test]
    async fn hostname_prefix_counts_toward_limit() {
        let resolver = FakeResolver::new(&[("cam.lab", &["10.0.0.1"])]);
        let err = expand_fake(&[from_file("cam.lab/8")], &[], &resolver)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("targets.txt:3: \"cam.lab/8\""), "{err}");
        assert!(err.contains("16777216 addresses"), "{err}");
    }
}
