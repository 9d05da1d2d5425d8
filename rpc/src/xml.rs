//! XML-RPC as aria2 speaks it at `/rpc`: a `<methodCall>` becomes the same
//! [`Call`] a JSON-RPC request does, and results and faults are
//! written back as `<methodResponse>`.
//!
//! Values map onto JSON values: `int`/`i4` → number, `boolean` → bool, `string` (or
//! bare text) → string, `base64` → its base64 text as a string (the form JSON-RPC
//! carries `addTorrent` payloads in, so one parser serves both), `struct` → object,
//! `array` → array, `double` → number, `dateTime.iso8601` → string. A DTD is refused
//! (roxmltree's default), nesting is bounded by [`MAX_DEPTH`], and the node count by
//! [`MAX_NODES`].

use serde_json::{Map, Number, Value};

use crate::fault::Fault;
use crate::json::Call;

/// Deepest value nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most XML nodes in one call.
pub const MAX_NODES: u32 = 1 << 20;

/// Parses a `<methodCall>` body. The call's id is `null` (XML-RPC has none).
pub fn parse(body: &[u8]) -> Result<Call, Fault> {
    let text = std::str::from_utf8(body).map_err(|_| Fault::parse_error())?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..Default::default()
    };
    let doc =
        roxmltree::Document::parse_with_options(text, options).map_err(|_| Fault::parse_error())?;
    let root = doc.root_element();
    if root.tag_name().name() != "methodCall" {
        return Err(Fault::invalid_request());
    }
    let method = child(root, "methodName")
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string())
        .ok_or_else(Fault::invalid_request)?;
    let mut params = Vec::new();
    if let Some(ps) = child(root, "params") {
        for p in elements(ps).filter(|n| n.has_tag_name("param")) {
            let v = child(p, "value").ok_or_else(Fault::invalid_request)?;
            params.push(value(v, 1)?);
        }
    }
    Ok(Call {
        id: Value::Null,
        method,
        params,
    })
}

fn elements<'a, 'i>(n: roxmltree::Node<'a, 'i>) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    n.children().filter(roxmltree::Node::is_element)
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    elements(n).find(|c| c.has_tag_name(name))
}

fn all_text(n: roxmltree::Node) -> String {
    n.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

/// A `<value>` element.
fn value(v: roxmltree::Node, depth: usize) -> Result<Value, Fault> {
    if depth > MAX_DEPTH {
        return Err(Fault::parse_error());
    }
    let bad = Fault::invalid_request;
    let Some(typed) = elements(v).next() else {
        return Ok(Value::String(all_text(v)));
    };
    let text = || all_text(typed);
    Ok(match typed.tag_name().name() {
        "string" | "dateTime.iso8601" => Value::String(text()),
        "base64" => Value::String(text().split_ascii_whitespace().collect()),
        "int" | "i4" | "i8" => {
            Value::Number(text().trim().parse::<i64>().map_err(|_| bad())?.into())
        }
        "boolean" => match text().trim() {
            "1" => Value::Bool(true),
            "0" => Value::Bool(false),
            _ => return Err(bad()),
        },
        "double" => {
            let f: f64 = text().trim().parse().map_err(|_| bad())?;
            Value::Number(Number::from_f64(f).ok_or_else(bad)?)
        }
        "nil" => Value::Null,
        "array" => {
            let data = child(typed, "data").ok_or_else(bad)?;
            let mut items = Vec::new();
            for item in elements(data).filter(|n| n.has_tag_name("value")) {
                items.push(value(item, depth + 1)?);
            }
            Value::Array(items)
        }
        "struct" => {
            let mut obj = Map::new();
            for m in elements(typed).filter(|n| n.has_tag_name("member")) {
                let name = child(m, "name").ok_or_else(bad)?;
                let v = child(m, "value").ok_or_else(bad)?;
                obj.insert(all_text(name), value(v, depth + 1)?);
            }
            Value::Object(obj)
        }
        _ => return Err(bad()),
    })
}

/// A `<methodResponse>` for a result or a fault.
pub fn response(result: &Result<Value, Fault>) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<methodResponse>");
    match result {
        Ok(v) => {
            out.push_str("<params><param>");
            write_value(&mut out, v);
            out.push_str("</param></params>");
        }
        Err(f) => {
            let mut obj = Map::new();
            obj.insert("faultCode".into(), f.code.into());
            obj.insert("faultString".into(), f.message.clone().into());
            out.push_str("<fault>");
            write_value(&mut out, &Value::Object(obj));
            out.push_str("</fault>");
        }
    }
    out.push_str("</methodResponse>");
    out
}

fn write_value(out: &mut String, v: &Value) {
    out.push_str("<value>");
    match v {
        Value::Null => out.push_str("<nil/>"),
        Value::Bool(b) => out.push_str(if *b {
            "<boolean>1</boolean>"
        } else {
            "<boolean>0</boolean>"
        }),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            out.push_str(&format!("<int>{n}</int>"));
        }
        Value::Number(n) => out.push_str(&format!("<double>{n}</double>")),
        Value::String(s) => {
            out.push_str("<string>");
            escape(out, s);
            out.push_str("</string>");
        }
        Value::Array(items) => {
            out.push_str("<array><data>");
            for item in items {
                write_value(out, item);
            }
            out.push_str("</data></array>");
        }
        Value::Object(obj) => {
            out.push_str("<struct>");
            for (k, v) in obj {
                out.push_str("<member><name>");
                escape(out, k);
                out.push_str("</name>");
                write_value(out, v);
                out.push_str("</member>");
            }
            out.push_str("</struct>");
        }
    }
    out.push_str("</value>");
}

fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_call_with_every_type() {
        let body = br#"<?xml version="1.0"?>
<methodCall><methodName>aria2.addUri</methodName><params>
<param><value>token:s</value></param>
<param><value><array><data><value><string>http://a/&amp;b</string></value></data></array></value></param>
<param><value><struct><member><name>split</name><value><string>2</string></value></member></struct></value></param>
<param><value><int>3</int></value></param>
<param><value><base64>aGVs
bG8=</base64></value></param>
<param><value><boolean>1</boolean></value></param>
</params></methodCall>"#;
        let call = parse(body).unwrap();
        assert_eq!(call.method, "aria2.addUri");
        assert_eq!(
            call.params,
            vec![
                json!("token:s"),
                json!(["http://a/&b"]),
                json!({"split": "2"}),
                json!(3),
                json!("aGVsbG8="),
                json!(true)
            ]
        );
    }

    #[test]
    fn bad_calls() {
        assert_eq!(parse(b"<x/>"), Err(Fault::invalid_request()));
        assert_eq!(parse(b"<methodCall>"), Err(Fault::parse_error()));
        let dtd = br#"<!DOCTYPE m [<!ENTITY a "b">]><methodCall><methodName>&a;</methodName></methodCall>"#;
        assert_eq!(parse(dtd), Err(Fault::parse_error()));
        let int = b"<methodCall><methodName>m</methodName><params><param><value><int>x</int></value></param></params></methodCall>";
        assert_eq!(parse(int), Err(Fault::invalid_request()));
        let deep = format!(
            "<methodCall><methodName>m</methodName><params><param>{}{}</param></params></methodCall>",
            "<value><array><data>".repeat(80),
            "</data></array></value>".repeat(80)
        );
        assert_eq!(parse(deep.as_bytes()), Err(Fault::parse_error()));
    }

    #[test]
    fn responses_round_trip_through_the_parser_shape() {
        let r = response(&Ok(json!({"gid": "a<b", "n": ["1"]})));
        assert_eq!(
            r,
            "<?xml version=\"1.0\"?>\n<methodResponse><params><param><value><struct><member><name>gid</name><value><string>a&lt;b</string></value></member><member><name>n</name><value><array><data><value><string>1</string></value></data></array></value></member></struct></value></param></params></methodResponse>"
        );
        let f = response(&Err(Fault::unauthorized()));
        assert!(f.contains("<name>faultCode</name><value><int>1</int></value>"));
        assert!(f.contains("<string>Unauthorized</string>"));
    }
}
