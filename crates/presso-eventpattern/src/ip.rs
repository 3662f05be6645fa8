//! IP addresses and CIDR blocks, for `cidr` conditions and for exact matches on address literals.
//!
//! EventBridge compares addresses as numbers, not as text: a pattern `"2001:db8::1"` matches the event
//! value `"2001:0db8:0:0:0:0:0:1"`. An IPv4-mapped IPv6 address counts as the IPv4 address it carries.
//! The lower end of a CIDR block is the address as written, not the address with its host bits cleared
//! (`10.0.0.9/24` covers `10.0.0.9` to `10.0.0.255`), which is how EventBridge reads it too.

use std::net::IpAddr;

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IpRange {
    V4(u32, u32),
    V6(u128, u128),
}

/// An address reduced to its family and numeric value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ip {
    V4(u32),
    V6(u128),
}

impl IpRange {
    pub(crate) fn contains(&self, ip: Ip) -> bool {
        match (*self, ip) {
            (IpRange::V4(low, high), Ip::V4(a)) => low <= a && a <= high,
            (IpRange::V6(low, high), Ip::V6(a)) => low <= a && a <= high,
            _ => false,
        }
    }
}

/// Whether text has the shape of an address literal: four dotted digit groups, or hex digits and colons
/// with at least one colon. Only such text is ever parsed as an address.
fn looks_like_ip(text: &str) -> bool {
    let v4 = {
        let mut groups = 0;
        let all_digits = text.split('.').all(|g| {
            groups += 1;
            !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit())
        });
        all_digits && groups == 4
    };
    let v6 = text.contains(':') && text.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
    v4 || v6
}

/// Parses an address literal as found in an event value. Text that is not an address gives `None`.
pub(crate) fn parse_ip(text: &str) -> Option<Ip> {
    // A cheap shape check first: most strings in events are not addresses, and the shape check
    // rejects them without running the full parser.
    if text.len() > 45 || !looks_like_ip(text) {
        return None;
    }
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => Some(Ip::V4(u32::from(a))),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => Some(Ip::V4(u32::from(v4))),
            None => Some(Ip::V6(u128::from(a))),
        },
    }
}

/// Parses the operand of a `cidr` condition, with EventBridge's messages for malformed blocks.
pub(crate) fn parse_cidr(text: &str) -> Result<IpRange, String> {
    // EventBridge splits on '/' and ignores trailing empty pieces, so "10.0.0.0/" has one piece.
    let mut pieces: Vec<&str> = text.split('/').collect();
    while pieces.len() > 1 && pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    let [address, bits] = pieces[..] else {
        return Err("Malformed CIDR, one '/' required".to_owned());
    };
    let bits: i32 = bits
        .parse()
        .map_err(|_| "Malformed CIDR, mask bits must be an integer".to_owned())?;
    if bits < 0 {
        return Err("Malformed CIDR, mask bits must not be negative".to_owned());
    }
    if !looks_like_ip(address) {
        return Err(format!("Nonstandard IP address: {address}"));
    }
    let ip = parse_ip(address).ok_or_else(|| format!("Invalid IP address: {address}"))?;
    match ip {
        Ip::V4(base) => {
            if bits > 31 {
                return Err("IPv4 mask bits must be < 32".to_owned());
            }
            let host = u32::MAX >> bits;
            Ok(IpRange::V4(base, base | host))
        }
        Ip::V6(base) => {
            if bits > 127 {
                return Err("IPv6 mask bits must be < 128".to_owned());
            }
            let host = u128::MAX >> bits;
            Ok(IpRange::V6(base, base | host))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slash_24_covers_the_last_octet() {
        let range = parse_cidr("10.0.0.0/24").expect("valid block");
        assert!(range.contains(parse_ip("10.0.0.0").expect("ip")));
        assert!(range.contains(parse_ip("10.0.0.255").expect("ip")));
        assert!(!range.contains(parse_ip("10.0.1.0").expect("ip")));
    }

    #[test]
    fn hostnames_and_words_are_not_addresses() {
        assert_eq!(parse_ip("example.com"), None);
        assert_eq!(parse_ip("cafe"), None);
        assert_eq!(parse_ip("1.2.3"), None);
    }

    #[test]
    fn ipv6_text_forms_compare_by_value() {
        assert_eq!(parse_ip("2001:db8::1"), parse_ip("2001:0db8:0:0:0:0:0:1"));
        assert_eq!(parse_ip("::ffff:a00:1"), parse_ip("10.0.0.1"));
    }
}
