#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod jar;
mod netscape;
mod set_cookie;

pub use jar::{Cookie, CookieJar};
pub use netscape::CookieFileError;
pub use set_cookie::SetCookieError;
