//! Identifiers shaped like AWS's: pool ids, client ids, codes, sessions, opaque tokens.
//!
//! Deterministic ids (for pools and clients declared in a template) are digests of their names,
//! so a restart, or a second machine, loading the same template gets the same ids.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use sha2::{Digest, Sha256};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn from_digest(seed: &str, alphabet: &[u8], len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut counter = 0u32;
    while out.len() < len {
        let mut h = Sha256::new();
        h.update(seed.as_bytes());
        h.update(counter.to_be_bytes());
        for b in h.finalize() {
            if out.len() == len {
                break;
            }
            out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
        }
        counter += 1;
    }
    out
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

/// A pool id like AWS's (`us-east-1_AbC123xyz`) derived from the region and the pool name.
pub fn derive_pool_id(region: &str, pool_name: &str) -> String {
    format!(
        "{region}_{}",
        from_digest(&format!("pool\n{region}\n{pool_name}"), ALNUM, 9)
    )
}

/// A client id like AWS's (26 lowercase letters and digits) derived from the pool and the name.
pub fn derive_client_id(pool_id: &str, client_name: &str) -> String {
    from_digest(
        &format!("client\n{pool_id}\n{client_name}"),
        LOWER_ALNUM,
        26,
    )
}

pub(crate) fn random_pool_id(region: &str) -> String {
    format!("{region}_{}", random_from(ALNUM, 9))
}

pub(crate) fn random_client_id() -> String {
    random_from(LOWER_ALNUM, 26)
}

/// A numeric code of `digits` digits (AWS sends 6 to 8).
pub(crate) fn numeric_code(digits: usize) -> String {
    random_from(b"0123456789", digits)
}

/// An opaque, unguessable token (sessions, refresh tokens).
pub(crate) fn opaque(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(buf.as_mut_slice());
    URL_SAFE_NO_PAD.encode(buf)
}

pub(crate) fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The region a pool id carries before its underscore.
pub(crate) fn region_of(pool_id: &str) -> &str {
    pool_id.split_once('_').map_or("us-east-1", |(r, _)| r)
}

pub(crate) fn is_pool_id(s: &str) -> bool {
    match s.split_once('_') {
        Some((region, rest)) => {
            !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !rest.is_empty()
                && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_shaped_like_aws() {
        let pool = derive_pool_id("us-east-1", "ServerlesspressoUserPool");
        assert_eq!(
            pool,
            derive_pool_id("us-east-1", "ServerlesspressoUserPool")
        );
        assert!(pool.starts_with("us-east-1_"));
        assert_eq!(pool.len(), "us-east-1_".len() + 9);
        assert!(is_pool_id(&pool));
        let client = derive_client_id(&pool, "web");
        assert_eq!(client.len(), 26);
        assert!(
            client
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_ne!(client, derive_client_id(&pool, "robot"));
    }

    #[test]
    fn codes_have_the_requested_number_of_digits() {
        let code = numeric_code(6);
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
    }
}
