//! aria2's errors, as one type every codec renders: a JSON-RPC `error` object, an
//! XML-RPC `<fault>`, and the HTTP status aria2 sends with them.

use std::fmt;

/// An error answer: aria2's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `1` for a method that failed, or a JSON-RPC 2.0 code (`-32700` and up).
    pub code: i64,
    /// The text aria2 sends (`Invalid GID zzzz`, `Unauthorized`, …).
    pub message: String,
}

impl Fault {
    /// A method failed (aria2's code 1).
    pub fn failed(message: impl Into<String>) -> Fault {
        Fault {
            code: 1,
            message: message.into(),
        }
    }

    /// The body is not JSON (or not XML).
    pub fn parse_error() -> Fault {
        Fault {
            code: -32700,
            message: "Parse error.".into(),
        }
    }

    /// The JSON is not a request object.
    pub fn invalid_request() -> Fault {
        Fault {
            code: -32600,
            message: "Invalid Request.".into(),
        }
    }

    /// `params` is not an array.
    pub fn invalid_params() -> Fault {
        Fault {
            code: -32602,
            message: "Invalid params.".into(),
        }
    }

    /// The method name is unknown. aria2 reports it with code 1.
    pub fn no_such_method(name: &str) -> Fault {
        Fault::failed(format!("No such method: {name}"))
    }

    /// The secret token is missing or wrong.
    pub fn unauthorized() -> Fault {
        Fault::failed("Unauthorized")
    }

    /// The HTTP status aria2 answers a single call failing this way with.
    pub fn http_status(&self) -> u16 {
        match self.code {
            1 | -32600 => 400,
            -32601 => 404,
            _ => 500,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for Fault {}
