//! `announce_peer` tokens (BEP 5): a `get_peers` response carries a token bound to the
//! querying address, and only an announce from that address with that token is stored.
//!
//! Invariants:
//! - a token is the first [`TOKEN_LEN`] bytes of SHA-1(secret ‖ IP address), so it proves
//!   the announcer received our response at that address, and reveals nothing of the
//!   secret;
//! - the secret changes every [`ROTATION`]; a token from the current or the previous
//!   secret is accepted, so every token stays valid for at least one full period.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

/// How often the secret changes.
pub const ROTATION: Duration = Duration::from_secs(5 * 60);
/// Bytes in a token we hand out.
pub const TOKEN_LEN: usize = 8;

/// The current and previous secrets.
#[derive(Clone, Debug)]
pub struct Tokens {
    current: [u8; 20],
    previous: [u8; 20],
    next_rotation: Instant,
}

impl Tokens {
    /// Secrets from `random` (both start equal: there was no earlier period).
    pub fn new(random: [u8; 20], now: Instant) -> Self {
        Tokens {
            current: random,
            previous: random,
            next_rotation: now + ROTATION,
        }
    }

    /// When [`rotate`](Self::rotate) is next due.
    pub fn next_rotation(&self) -> Instant {
        self.next_rotation
    }

    /// Starts a new period with secret `random` if one is due at `now`.
    pub fn rotate(&mut self, now: Instant, random: [u8; 20]) -> bool {
        if now < self.next_rotation {
            return false;
        }
        self.previous = self.current;
        self.current = random;
        self.next_rotation = now + ROTATION;
        true
    }

    fn token_with(secret: &[u8; 20], ip: &IpAddr) -> [u8; TOKEN_LEN] {
        let mut h = Sha1::new();
        h.update(secret);
        match ip {
            IpAddr::V4(v4) => h.update(v4.octets()),
            IpAddr::V6(v6) => h.update(v6.octets()),
        }
        let digest: [u8; 20] = h.finalize().into();
        digest[..TOKEN_LEN].try_into().expect("20 > 8")
    }

    /// The token for a node at `ip`.
    pub fn token(&self, ip: &IpAddr) -> [u8; TOKEN_LEN] {
        Self::token_with(&self.current, ip)
    }

    /// Whether `token` was handed to `ip` in this period or the one before.
    pub fn is_valid(&self, token: &[u8], ip: &IpAddr) -> bool {
        token == Self::token_with(&self.current, ip)
            || token == Self::token_with(&self.previous, ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_survives_one_rotation_and_not_two() {
        let t0 = Instant::now();
        let ip: IpAddr = "203.0.113.5".parse().unwrap();
        let mut tokens = Tokens::new([1; 20], t0);
        let token = tokens.token(&ip);
        assert!(tokens.is_valid(&token, &ip));
        assert!(!tokens.is_valid(&token, &"203.0.113.6".parse().unwrap()));
        assert!(!tokens.rotate(t0 + ROTATION / 2, [2; 20]));
        assert!(tokens.rotate(t0 + ROTATION, [2; 20]));
        assert!(
            tokens.is_valid(&token, &ip),
            "previous secret still accepted"
        );
        assert!(tokens.rotate(t0 + ROTATION * 2, [3; 20]));
        assert!(
            !tokens.is_valid(&token, &ip),
            "two rotations later it expired"
        );
    }
}
