//! KRPC, the DHT's message format (BEP 5): one bencoded dictionary per UDP datagram, a
//! query (`y` = `q`), a response (`r`) or an error (`e`), matched by transaction id `t`.
//! BEP 32 adds `nodes6` and `want`, BEP 42 the responder's view of our address `ip`,
//! BEP 43 the read-only flag `ro`.
//!
//! Invariants:
//! - [`decode`] reads at most [`MAX_MESSAGE`] bytes and refuses anything longer before
//!   parsing, so every list it returns is bounded by the datagram's size; transaction ids
//!   and tokens are bounded by [`MAX_TRANSACTION_ID`] and [`MAX_TOKEN`], error texts by
//!   [`MAX_ERROR_TEXT`];
//! - decoding never panics, and everything [`Message::encode`] writes decodes to the same
//!   message (the fuzz target `krpc_decode` checks both);
//! - unknown keys are ignored (clients add their own, such as `v`), unknown query methods
//!   decode as [`QueryKind::Unknown`] so that the node can answer with error 204.

use std::net::SocketAddr;

use swarmget_bencode::{Decoder, Encoder, Value};
use thiserror::Error;

use crate::compact::{self, Family, NodeAddr};
use crate::id::NodeId;

/// The longest datagram decoded. Mainline messages fit an Ethernet frame; the rest is room
/// for clients that send a few more values.
pub const MAX_MESSAGE: usize = 2048;
/// The longest transaction id accepted (clients use 2 to 8 bytes).
pub const MAX_TRANSACTION_ID: usize = 32;
/// The longest token accepted (clients use 4 to 20 bytes).
pub const MAX_TOKEN: usize = 64;
/// Error texts longer than this are cut.
pub const MAX_ERROR_TEXT: usize = 256;
/// The longest query method name kept in [`QueryKind::Unknown`].
const MAX_METHOD: usize = 32;

/// KRPC error codes (BEP 5).
pub mod code {
    /// A generic error.
    pub const GENERIC: i64 = 201;
    /// The server failed.
    pub const SERVER: i64 = 202;
    /// A malformed packet, invalid arguments or a bad token.
    pub const PROTOCOL: i64 = 203;
    /// An unknown method.
    pub const METHOD_UNKNOWN: i64 = 204;
}

/// One KRPC message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The transaction id, echoed by the response.
    pub transaction: Vec<u8>,
    /// BEP 43: the sender is read-only and must not be added to routing tables.
    pub read_only: bool,
    /// BEP 42: the address the responder saw the query come from.
    pub ip: Option<SocketAddr>,
    /// What the message says.
    pub body: Body,
}

/// A message's three kinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A query (`y` = `q`).
    Query(Query),
    /// A response (`y` = `r`).
    Response(Response),
    /// An error (`y` = `e`).
    Error {
        /// One of [`code`], or anything the sender chose.
        code: i64,
        /// Its text, cut at [`MAX_ERROR_TEXT`] bytes.
        message: String,
    },
}

/// A query: the sender's id and what it asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The querying node's id.
    pub id: NodeId,
    /// BEP 32's `want`: which families of nodes the sender wants back (none: the family of
    /// the datagram's transport).
    pub want: Want,
    /// The method and its arguments.
    pub kind: QueryKind,
}

/// BEP 32's `want` list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Want {
    /// `n4`: IPv4 nodes.
    pub v4: bool,
    /// `n6`: IPv6 nodes.
    pub v6: bool,
}

/// The four BEP 5 methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryKind {
    /// `ping`.
    Ping,
    /// `find_node`: the nodes closest to `target`.
    FindNode {
        /// The id looked for.
        target: NodeId,
    },
    /// `get_peers`: peers for `info_hash`, or the nodes closest to it, and a token.
    GetPeers {
        /// The torrent.
        info_hash: NodeId,
    },
    /// `announce_peer`: the sender downloads `info_hash`.
    AnnouncePeer {
        /// The torrent.
        info_hash: NodeId,
        /// The port the sender's peer listens on (ignored when `implied_port`).
        port: u16,
        /// Use the datagram's source port instead of `port` (behind NAT).
        implied_port: bool,
        /// The token from the receiver's earlier `get_peers` response.
        token: Vec<u8>,
    },
    /// Any other method, by name (answered with error 204).
    Unknown(String),
}

impl QueryKind {
    /// The method name on the wire.
    pub fn method(&self) -> &str {
        match self {
            QueryKind::Ping => "ping",
            QueryKind::FindNode { .. } => "find_node",
            QueryKind::GetPeers { .. } => "get_peers",
            QueryKind::AnnouncePeer { .. } => "announce_peer",
            QueryKind::Unknown(name) => name,
        }
    }
}

/// A response's arguments; which are present depends on the query answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// The responding node's id.
    pub id: NodeId,
    /// IPv4 nodes (`nodes`).
    pub nodes: Vec<NodeAddr>,
    /// IPv6 nodes (`nodes6`, BEP 32).
    pub nodes6: Vec<NodeAddr>,
    /// Peers (`values`, each a compact peer).
    pub values: Vec<SocketAddr>,
    /// The token for a later `announce_peer` (`get_peers` responses).
    pub token: Option<Vec<u8>>,
}

/// Why a datagram is not a KRPC message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Longer than [`MAX_MESSAGE`].
    #[error("datagram of {0} bytes beyond the longest accepted, {MAX_MESSAGE}")]
    TooLong(usize),
    /// Not one bencoded dictionary.
    #[error("not a bencoded dictionary: {0}")]
    NotBencode(String),
    /// A required key is missing or has the wrong type.
    #[error("`{0}` missing or malformed")]
    Field(&'static str),
    /// `y` is not `q`, `r` or `e`.
    #[error("message type `y` is not q, r or e")]
    UnknownType,
}

impl DecodeError {
    /// The transaction id of a datagram that failed to decode as a query, when it could be
    /// read: the node answers such queries with error 203.
    pub fn query_transaction(data: &[u8]) -> Option<Vec<u8>> {
        if data.len() > MAX_MESSAGE {
            return None;
        }
        let value = decoder().decode(data).ok()?.value;
        (value.get("y")?.as_bytes()? == b"q").then_some(())?;
        let t = value.get("t")?.as_bytes()?;
        (t.len() <= MAX_TRANSACTION_ID).then(|| t.to_vec())
    }
}

fn decoder() -> Decoder {
    // Clients write keys out of order now and then; nothing here needs more than three
    // levels (dict, `a`/`r`, a list such as `values`).
    Decoder::new().lenient(true).max_depth(4)
}

/// Decodes one datagram.
pub fn decode(data: &[u8]) -> Result<Message, DecodeError> {
    if data.len() > MAX_MESSAGE {
        return Err(DecodeError::TooLong(data.len()));
    }
    let value = decoder()
        .decode(data)
        .map_err(|e| DecodeError::NotBencode(e.to_string()))?
        .value;
    if value.as_dict().is_none() {
        return Err(DecodeError::NotBencode("not a dictionary".into()));
    }
    let transaction = bytes(&value, "t")?;
    if transaction.len() > MAX_TRANSACTION_ID {
        return Err(DecodeError::Field("t"));
    }
    let read_only = value.get("ro").and_then(Value::as_int) == Some(1);
    let ip = value
        .get("ip")
        .and_then(Value::as_bytes)
        .and_then(compact::read_peer);
    let body = match value.get("y").and_then(Value::as_bytes) {
        Some(b"q") => Body::Query(decode_query(&value)?),
        Some(b"r") => Body::Response(decode_response(&value)?),
        Some(b"e") => decode_error(&value)?,
        Some(_) => return Err(DecodeError::UnknownType),
        None => return Err(DecodeError::Field("y")),
    };
    Ok(Message {
        transaction: transaction.to_vec(),
        read_only,
        ip,
        body,
    })
}

fn bytes<'a>(dict: &Value<'a>, key: &'static str) -> Result<&'a [u8], DecodeError> {
    dict.get(key)
        .and_then(Value::as_bytes)
        .ok_or(DecodeError::Field(key))
}

fn id(dict: &Value<'_>, key: &'static str) -> Result<NodeId, DecodeError> {
    NodeId::from_slice(bytes(dict, key)?).ok_or(DecodeError::Field(key))
}

fn decode_query(value: &Value<'_>) -> Result<Query, DecodeError> {
    let method = bytes(value, "q")?;
    let args = value
        .get("a")
        .filter(|a| a.as_dict().is_some())
        .ok_or(DecodeError::Field("a"))?;
    let mut want = Want::default();
    if let Some(list) = args.get("want").and_then(Value::as_list) {
        for item in list {
            match item.as_bytes() {
                Some(b"n4") => want.v4 = true,
                Some(b"n6") => want.v6 = true,
                _ => {}
            }
        }
    }
    let kind = match method {
        b"ping" => QueryKind::Ping,
        b"find_node" => QueryKind::FindNode {
            target: id(args, "target")?,
        },
        b"get_peers" => QueryKind::GetPeers {
            info_hash: id(args, "info_hash")?,
        },
        b"announce_peer" => {
            let token = bytes(args, "token")?;
            if token.len() > MAX_TOKEN {
                return Err(DecodeError::Field("token"));
            }
            let implied_port = args.get("implied_port").and_then(Value::as_int) == Some(1);
            let port = args
                .get("port")
                .and_then(Value::as_int)
                .and_then(|p| u16::try_from(p).ok());
            let port = match (port, implied_port) {
                (Some(p), _) => p,
                (None, true) => 0,
                (None, false) => return Err(DecodeError::Field("port")),
            };
            QueryKind::AnnouncePeer {
                info_hash: id(args, "info_hash")?,
                port,
                implied_port,
                token: token.to_vec(),
            }
        }
        other => QueryKind::Unknown(lossy_cut(other, MAX_METHOD)),
    };
    Ok(Query {
        id: id(args, "id")?,
        want,
        kind,
    })
}

fn decode_response(value: &Value<'_>) -> Result<Response, DecodeError> {
    let r = value
        .get("r")
        .filter(|r| r.as_dict().is_some())
        .ok_or(DecodeError::Field("r"))?;
    let nodes_of = |key: &'static str, family: Family| match r.get(key) {
        None => Ok(Vec::new()),
        Some(v) => v
            .as_bytes()
            .and_then(|b| compact::read_nodes(family, b))
            .ok_or(DecodeError::Field(key)),
    };
    let mut values = Vec::new();
    if let Some(v) = r.get("values") {
        let list = v.as_list().ok_or(DecodeError::Field("values"))?;
        for item in list {
            // One odd entry does not spoil the others (some clients pad).
            if let Some(peer) = item.as_bytes().and_then(compact::read_peer) {
                values.push(peer);
            }
        }
    }
    let token = match r.get("token") {
        None => None,
        Some(t) => Some(
            t.as_bytes()
                .filter(|t| t.len() <= MAX_TOKEN)
                .ok_or(DecodeError::Field("token"))?
                .to_vec(),
        ),
    };
    Ok(Response {
        id: id(r, "id")?,
        nodes: nodes_of("nodes", Family::V4)?,
        nodes6: nodes_of("nodes6", Family::V6)?,
        values,
        token,
    })
}

fn decode_error(value: &Value<'_>) -> Result<Body, DecodeError> {
    let list = value
        .get("e")
        .and_then(Value::as_list)
        .ok_or(DecodeError::Field("e"))?;
    let code = list
        .first()
        .and_then(Value::as_int)
        .ok_or(DecodeError::Field("e"))?;
    let text = list.get(1).and_then(Value::as_bytes).unwrap_or_default();
    Ok(Body::Error {
        code,
        message: lossy_cut(text, MAX_ERROR_TEXT),
    })
}

/// `bytes` as text (invalid UTF-8 replaced), cut to at most `max` bytes on a character
/// boundary, so that decoding the text again gives the same text.
fn lossy_cut(bytes: &[u8], max: usize) -> String {
    let mut text = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned();
    let mut cut = text.len().min(max);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

impl Message {
    /// The bencoded datagram.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(256);
        e.value().dict(|d| {
            d.entry(b"t").bytes(&self.transaction);
            if self.read_only {
                d.entry(b"ro").int(1);
            }
            if let Some(ip) = &self.ip {
                let mut compact = Vec::with_capacity(18);
                compact::write_peer(ip, &mut compact);
                d.entry(b"ip").bytes(&compact);
            }
            match &self.body {
                Body::Query(q) => {
                    d.entry(b"y").bytes(b"q");
                    d.entry(b"q").str(q.kind.method());
                    d.entry(b"a").dict(|a| {
                        a.entry(b"id").bytes(q.id.as_bytes());
                        if q.want != Want::default() {
                            a.entry(b"want").list(|l| {
                                if q.want.v4 {
                                    l.item().bytes(b"n4");
                                }
                                if q.want.v6 {
                                    l.item().bytes(b"n6");
                                }
                            });
                        }
                        match &q.kind {
                            QueryKind::Ping | QueryKind::Unknown(_) => {}
                            QueryKind::FindNode { target } => {
                                a.entry(b"target").bytes(target.as_bytes());
                            }
                            QueryKind::GetPeers { info_hash } => {
                                a.entry(b"info_hash").bytes(info_hash.as_bytes());
                            }
                            QueryKind::AnnouncePeer {
                                info_hash,
                                port,
                                implied_port,
                                token,
                            } => {
                                a.entry(b"info_hash").bytes(info_hash.as_bytes());
                                a.entry(b"port").int(i64::from(*port));
                                if *implied_port {
                                    a.entry(b"implied_port").int(1);
                                }
                                a.entry(b"token").bytes(token);
                            }
                        }
                    });
                }
                Body::Response(r) => {
                    d.entry(b"y").bytes(b"r");
                    d.entry(b"r").dict(|a| {
                        a.entry(b"id").bytes(r.id.as_bytes());
                        if !r.nodes.is_empty() {
                            let mut b = Vec::with_capacity(r.nodes.len() * 26);
                            compact::write_nodes(Family::V4, &r.nodes, &mut b);
                            a.entry(b"nodes").bytes(&b);
                        }
                        if !r.nodes6.is_empty() {
                            let mut b = Vec::with_capacity(r.nodes6.len() * 38);
                            compact::write_nodes(Family::V6, &r.nodes6, &mut b);
                            a.entry(b"nodes6").bytes(&b);
                        }
                        if let Some(token) = &r.token {
                            a.entry(b"token").bytes(token);
                        }
                        if !r.values.is_empty() {
                            a.entry(b"values").list(|l| {
                                for peer in &r.values {
                                    let mut b = Vec::with_capacity(18);
                                    compact::write_peer(peer, &mut b);
                                    l.item().bytes(&b);
                                }
                            });
                        }
                    });
                }
                Body::Error { code, message } => {
                    d.entry(b"y").bytes(b"e");
                    d.entry(b"e").list(|l| {
                        l.item().int(*code);
                        l.item().str(message);
                    });
                }
            }
        });
        e.into_bytes()
    }
}

#[cfg(test)]
mod tests;
