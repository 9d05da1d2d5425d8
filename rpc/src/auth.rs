//! `--rpc-secret`: the `token:SECRET` first parameter aria2 clients send; and
//! `--rpc-user`/`--rpc-passwd`, aria2's deprecated HTTP Basic authentication.
//!
//! The comparison runs over SHA-1 digests of both sides with no early exit, so its
//! time says nothing about how much of a guess was right, nor about the secret's
//! length. A call is checked before it is parsed any further: an unauthorized call
//! has no effect.

use base64::Engine as _;
use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::fault::Fault;

/// The methods a client may call without the token (aria2 exempts these two).
pub const NO_TOKEN: &[&str] = &["system.listMethods", "system.listNotifications"];

/// A configured secret.
#[derive(Clone)]
pub struct Secret {
    digest: [u8; 20],
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

fn sha1(bytes: &[u8]) -> [u8; 20] {
    let mut d = [0u8; 20];
    d.copy_from_slice(&Sha1::digest(bytes));
    d
}

impl Secret {
    /// The secret `--rpc-secret` gave.
    pub fn new(secret: &str) -> Secret {
        Secret {
            digest: sha1(secret.as_bytes()),
        }
    }

    /// Whether `guess` is the secret, in time independent of where they differ.
    pub fn matches(&self, guess: &str) -> bool {
        let g = sha1(guess.as_bytes());
        let diff = self
            .digest
            .iter()
            .zip(g.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        // black_box keeps the optimiser from turning the fold into an early exit.
        std::hint::black_box(diff) == 0
    }
}

/// `--rpc-user`/`--rpc-passwd`: the credentials every HTTP request (the WebSocket
/// upgrade included; a CORS preflight excepted) must carry as `Authorization: Basic`.
#[derive(Clone, Debug)]
pub struct BasicAuth {
    user_pass: Secret,
}

impl BasicAuth {
    /// Credentials `user` and `password`.
    pub fn new(user: &str, password: &str) -> BasicAuth {
        BasicAuth {
            user_pass: Secret::new(&format!("{user}:{password}")),
        }
    }

    /// Whether an `Authorization` header value carries the credentials (compared in
    /// constant time, as the secret is).
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        let Some((scheme, encoded)) = authorization.and_then(|a| a.trim().split_once(' ')) else {
            return false;
        };
        if scheme != "Basic" {
            return false;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        self.user_pass.matches(&String::from_utf8_lossy(&decoded))
    }
}

/// Takes a leading `token:…` parameter off `params` (aria2 strips it even with no
/// secret set) and checks it against `secret`.
pub fn authorize(
    method: &str,
    params: &mut Vec<Value>,
    secret: Option<&Secret>,
) -> Result<(), Fault> {
    let token = match params.first() {
        Some(Value::String(s)) if s.starts_with("token:") => {
            let t = s["token:".len()..].to_string();
            params.remove(0);
            Some(t)
        }
        _ => None,
    };
    if NO_TOKEN.contains(&method) || method == "system.multicall" {
        // multicall's nested calls carry their own tokens.
        return Ok(());
    }
    match (secret, token) {
        (None, _) => Ok(()),
        (Some(s), Some(t)) if s.matches(&t) => Ok(()),
        _ => Err(Fault::unauthorized()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn basic_credentials_must_match_both_parts() {
        let a = BasicAuth::new("alice", "pw");
        // base64("alice:pw") = YWxpY2U6cHc=
        assert!(a.allows(Some("Basic YWxpY2U6cHc=")));
        assert!(!a.allows(Some("Bearer YWxpY2U6cHc=")));
        // base64("alice:px")
        assert!(!a.allows(Some("Basic YWxpY2U6cHg=")));
        assert!(!a.allows(Some("Basic !!!")));
        assert!(!a.allows(Some("Basic")));
        assert!(!a.allows(None));
    }

    #[test]
    fn token_stripped_and_checked() {
        let s = Secret::new("hunter2");
        let mut p = vec![json!("token:hunter2"), json!(["http://x/"])];
        assert_eq!(authorize("aria2.addUri", &mut p, Some(&s)), Ok(()));
        assert_eq!(p, vec![json!(["http://x/"])]);
        let mut p = vec![json!("token:hunter3")];
        assert_eq!(
            authorize("aria2.getVersion", &mut p, Some(&s)),
            Err(Fault::unauthorized())
        );
        let mut p = vec![];
        assert_eq!(
            authorize("aria2.getVersion", &mut p, Some(&s)),
            Err(Fault::unauthorized())
        );
        let mut p = vec![json!("token:anything")];
        assert_eq!(authorize("aria2.getVersion", &mut p, None), Ok(()));
        assert!(p.is_empty());
        let mut p = vec![];
        assert_eq!(authorize("system.listMethods", &mut p, Some(&s)), Ok(()));
        assert!(!s.matches("") && !s.matches("hunter") && s.matches("hunter2"));
    }
}
