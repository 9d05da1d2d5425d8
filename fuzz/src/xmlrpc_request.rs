//! Arbitrary bytes as an XML-RPC `<methodCall>`.
//!
//! Invariants checked besides "never panics":
//! - a call that parses is authorized and typed without panicking;
//! - the response written for its parameters (and for a fault) is XML that parses,
//!   with a `<methodResponse>` root, and reads back as the same values when wrapped
//!   as a call.

use swarmget_rpc::auth::{Secret, authorize};
use swarmget_rpc::method::Method;
use swarmget_rpc::{Fault, Value, xml};

/// Fuzz body: must never panic on any input.
pub fn run(data: &[u8]) {
    let Ok(mut call) = xml::parse(data) else {
        return;
    };
    let params = Value::Array(call.params.clone());
    let secret = Secret::new("s");
    let _ = authorize(&call.method, &mut call.params, Some(&secret))
        .and_then(|()| Method::parse(&call.method, call.params));
    for result in [Ok(params.clone()), Err(Fault::failed("x<&>"))] {
        let text = xml::response(&result);
        let doc = roxmltree::Document::parse(&text).expect("our own output parses");
        assert_eq!(doc.root_element().tag_name().name(), "methodResponse");
    }
    // The response body of a value is the value of a call's parameter.
    let text = xml::response(&Ok(params.clone()));
    let inner = text
        .split_once("<params>")
        .and_then(|(_, r)| r.rsplit_once("</params>"))
        .map(|(i, _)| i)
        .expect("a params element");
    let again =
        format!("<methodCall><methodName>m</methodName><params>{inner}</params></methodCall>");
    let back = xml::parse(again.as_bytes()).expect("our own value parses");
    assert_eq!(Value::Array(back.params), Value::Array(vec![params]));
}
