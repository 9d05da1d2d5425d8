//! Arbitrary bytes as an RPC request: first as an HTTP request stream, then as a
//! JSON-RPC body, then as a GET query.
//!
//! Invariants checked besides "never panics":
//! - the HTTP reader gives the same requests (or the same error) from the input whole,
//!   byte by byte and in 7-byte pieces, and never a body over its limit;
//! - every call that parses is authorized and typed, and every answer encodes to JSON
//!   that parses back, with `/` escaped.

use swarmget_rpc::auth::{Secret, authorize};
use swarmget_rpc::http::{Limits, Request, RequestReader};
use swarmget_rpc::json;
use swarmget_rpc::method::Method;
use swarmget_rpc::{Fault, Value};

const SPLIT_CHECK_MAX: usize = 4096;

/// Fuzz body: must never panic on any input.
pub fn run(data: &[u8]) {
    let limits = Limits {
        max_head: 512,
        max_body: 1024,
    };
    let whole = read_all(data, data.len().max(1), limits);
    if data.len() <= SPLIT_CHECK_MAX {
        for piece in [1, 7] {
            assert_eq!(read_all(data, piece, limits), whole, "{piece}-byte pieces");
        }
    }
    for r in &whole.0 {
        assert!(r.body.len() <= limits.max_body);
    }
    answer(json::parse(data));
    if let Ok(text) = std::str::from_utf8(data) {
        answer(json::parse_query(text).map(|(r, _)| r));
    }
}

fn read_all(data: &[u8], piece: usize, limits: Limits) -> (Vec<Request>, Option<String>) {
    let mut reader = RequestReader::new(limits);
    let mut out = Vec::new();
    for chunk in data.chunks(piece) {
        reader.feed(chunk);
        loop {
            match reader.poll() {
                Ok(Some(r)) => out.push(r),
                Ok(None) => break,
                Err(e) => return (out, Some(e.to_string())),
            }
        }
    }
    (out, None)
}

fn answer(request: Result<json::Request, Fault>) {
    let secret = Secret::new("s");
    let one = |entry: json::Entry| -> Value {
        let (id, result) = match entry {
            Ok(mut call) => {
                let result = authorize(&call.method, &mut call.params, Some(&secret))
                    .and_then(|()| Method::parse(&call.method, call.params))
                    .map(|m| Value::String(format!("{m:?}")));
                (call.id, result)
            }
            Err((id, fault)) => (id, Err(fault)),
        };
        json::response(id, result)
    };
    let value = match request {
        Ok(json::Request::Single(entry)) => one(entry),
        Ok(json::Request::Batch(entries)) => Value::Array(entries.into_iter().map(one).collect()),
        Err(f) => json::response(Value::Null, Err(f)),
    };
    let text = json::encode(&value);
    // The encoder's `\/` is standard JSON for `/`.
    let back: Value = serde_json::from_str(&text).expect("our own output parses");
    assert_eq!(back, value);
}
