//! JSON-RPC 2.0 as aria2 speaks it: single and batch requests in a POST body or a
//! WebSocket text frame, the GET form (`method`, `id`, base64 `params`, optional
//! `jsoncallback` for JSONP), and responses with `/` escaped as `\/` like aria2's.
//!
//! aria2 requires an `id` (a request without one is invalid, not a notification) and
//! `params`, when present, must be an array.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::fault::Fault;
use crate::http::query_pairs;

/// Deepest nesting accepted in a request (serde_json's own limit is 128).
pub const MAX_DEPTH: usize = 64;

/// One call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Echoed in the response.
    pub id: Value,
    /// `aria2.addUri`, `system.multicall`…
    pub method: String,
    /// Positional parameters.
    pub params: Vec<Value>,
}

/// One element of a request: a call, or why it is not one (with the id to answer
/// with, `null` when it could not be read).
pub type Entry = Result<Call, (Value, Fault)>;

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// One object.
    Single(Entry),
    /// An array of objects, answered with an array in the same order.
    Batch(Vec<Entry>),
}

/// Parses a POST body or WebSocket message. `Err` is a parse error, answered with
/// id `null`.
pub fn parse(body: &[u8]) -> Result<Request, Fault> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Fault::parse_error())?;
    if depth(&value) > MAX_DEPTH {
        return Err(Fault::parse_error());
    }
    Ok(match value {
        Value::Array(items) => Request::Batch(items.into_iter().map(entry).collect()),
        other => Request::Single(entry(other)),
    })
}

fn depth(v: &Value) -> usize {
    // Iterative, so a deep value cannot exhaust the stack here either.
    let mut max = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(o) => stack.extend(o.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    max
}

fn entry(value: Value) -> Entry {
    let Value::Object(mut obj) = value else {
        return Err((Value::Null, Fault::invalid_request()));
    };
    let Some(id) = obj.remove("id") else {
        return Err((Value::Null, Fault::invalid_request()));
    };
    let Some(Value::String(method)) = obj.remove("method") else {
        return Err((id, Fault::invalid_request()));
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(p)) => p,
        Some(_) => return Err((id, Fault::invalid_params())),
    };
    Ok(Call { id, method, params })
}

/// A GET request's query: the request and the JSONP callback, if any.
pub fn parse_query(query: &str) -> Result<(Request, Option<String>), Fault> {
    let mut method = None;
    let mut id = None;
    let mut params = None;
    let mut callback = None;
    for (name, value) in query_pairs(query) {
        match name.as_str() {
            "method" => method = Some(value),
            "id" => id = Some(value),
            "params" => params = Some(value),
            "jsoncallback" => callback = Some(value),
            _ => {}
        }
    }
    if let Some(cb) = &callback {
        // The callback is echoed into JavaScript: only a name may pass.
        let ok = !cb.is_empty()
            && cb.len() <= 128
            && cb
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_$.".contains(&b));
        if !ok {
            return Err(Fault::invalid_request());
        }
    }
    let params = match params {
        Some(p) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(p.trim())
                .map_err(|_| Fault::parse_error())?;
            let v: Value = serde_json::from_slice(&bytes).map_err(|_| Fault::parse_error())?;
            if depth(&v) > MAX_DEPTH {
                return Err(Fault::parse_error());
            }
            Some(v)
        }
        None => None,
    };
    let request = match (method, params) {
        // Without a method, params holds a whole batch.
        (None, Some(Value::Array(batch))) => Request::Batch(batch.into_iter().map(entry).collect()),
        (None, _) => Request::Single(Err((Value::Null, Fault::invalid_request()))),
        (Some(method), params) => {
            let mut obj = Map::new();
            obj.insert("method".into(), Value::String(method));
            if let Some(id) = id {
                obj.insert("id".into(), Value::String(id));
            }
            if let Some(p) = params {
                obj.insert("params".into(), p);
            }
            Request::Single(entry(Value::Object(obj)))
        }
    };
    Ok((request, callback))
}

/// One response object. Takes the result rather than copying it: a `tellWaiting` of
/// 1,000 downloads is a large tree.
pub fn response(id: Value, result: Result<Value, Fault>) -> Value {
    let mut obj = Map::new();
    obj.insert("id".into(), id);
    obj.insert("jsonrpc".into(), "2.0".into());
    match result {
        Ok(v) => {
            obj.insert("result".into(), v);
        }
        Err(f) => {
            let mut e = Map::new();
            e.insert("code".into(), f.code.into());
            e.insert("message".into(), f.message.into());
            obj.insert("error".into(), Value::Object(e));
        }
    }
    Value::Object(obj)
}

/// A notification frame (`aria2.onDownloadStart` and the like) for one gid.
pub fn notification(method: &str, gid: &str) -> String {
    let mut event = Map::new();
    event.insert("gid".into(), gid.into());
    let mut obj = Map::new();
    obj.insert("jsonrpc".into(), "2.0".into());
    obj.insert("method".into(), method.into());
    obj.insert("params".into(), Value::Array(vec![Value::Object(event)]));
    encode(&Value::Object(obj))
}

/// Serialises as aria2 does: compact, `/` written `\/`, in one pass (no second copy
/// of a large answer).
pub fn encode(value: &Value) -> String {
    let mut out = EscapeSlash(Vec::new());
    // Writing to memory cannot fail, and a Value always serialises.
    let _ = serde_json::to_writer(&mut out, value);
    // serde_json writes UTF-8, and the escape adds ASCII only.
    String::from_utf8(out.0).unwrap_or_default()
}

/// Bytes written with every `/` as `\/`. `/` only ever appears inside strings in JSON
/// text, and no byte of a multi-byte UTF-8 sequence is `/`, so this is exact.
struct EscapeSlash(Vec<u8>);

impl std::io::Write for EscapeSlash {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for part in buf.split_inclusive(|&b| b == b'/') {
            match part.split_last() {
                Some((b'/', head)) => {
                    self.0.extend_from_slice(head);
                    self.0.extend_from_slice(b"\\/");
                }
                _ => self.0.extend_from_slice(part),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Wraps a JSON text for JSONP.
pub fn jsonp(callback: &str, json: &str) -> String {
    format!("{callback}({json})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_batch_and_invalid_entries() {
        let r = parse(
            br#"{"jsonrpc":"2.0","id":"q","method":"aria2.getVersion","params":["token:x"]}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            Request::Single(Ok(Call {
                id: json!("q"),
                method: "aria2.getVersion".into(),
                params: vec![json!("token:x")]
            }))
        );
        let r =
            parse(br#"[{"id":1,"method":"m"},5,{"method":"m"},{"id":2,"method":"m","params":{}}]"#)
                .unwrap();
        let Request::Batch(items) = r else {
            panic!("not a batch")
        };
        assert!(items[0].is_ok());
        assert_eq!(items[1], Err((Value::Null, Fault::invalid_request())));
        assert_eq!(items[2], Err((Value::Null, Fault::invalid_request())));
        assert_eq!(items[3], Err((json!(2), Fault::invalid_params())));
        assert_eq!(parse(b"{"), Err(Fault::parse_error()));
    }

    #[test]
    fn deep_nesting_is_a_parse_error() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(parse(deep.as_bytes()), Err(Fault::parse_error()));
    }

    #[test]
    fn get_form_with_jsonp() {
        // params = ["token:s"]
        let (r, cb) =
            parse_query("method=aria2.tellActive&id=7&params=WyJ0b2tlbjpzIl0%3D&jsoncallback=cb")
                .unwrap();
        assert_eq!(cb.as_deref(), Some("cb"));
        assert_eq!(
            r,
            Request::Single(Ok(Call {
                id: json!("7"),
                method: "aria2.tellActive".into(),
                params: vec![json!("token:s")]
            }))
        );
        assert_eq!(
            parse_query("method=m&id=1&jsoncallback=alert(1)").unwrap_err(),
            Fault::invalid_request()
        );
        // A batch: params = [{"id":1,"method":"m"}]
        let (r, _) = parse_query("params=W3siaWQiOjEsIm1ldGhvZCI6Im0ifV0=").unwrap();
        assert!(matches!(r, Request::Batch(b) if b.len() == 1));
    }

    #[test]
    fn responses_look_like_aria2s() {
        let ok = encode(&response(json!("a"), Ok(json!("http://x/"))));
        assert_eq!(ok, r#"{"id":"a","jsonrpc":"2.0","result":"http:\/\/x\/"}"#);
        // Multi-byte characters beside slashes pass through whole.
        assert_eq!(encode(&json!("/é/€/")), r#""\/é\/€\/""#);
        let err = encode(&response(json!(1), Err(Fault::unauthorized())));
        assert_eq!(
            err,
            r#"{"error":{"code":1,"message":"Unauthorized"},"id":1,"jsonrpc":"2.0"}"#
        );
        assert_eq!(
            notification("aria2.onDownloadStart", "2089b05ecca3d829"),
            r#"{"jsonrpc":"2.0","method":"aria2.onDownloadStart","params":[{"gid":"2089b05ecca3d829"}]}"#
        );
    }
}
