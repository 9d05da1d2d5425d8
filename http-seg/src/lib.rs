#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod body;
mod content_coding;
mod content_range;
mod filename;
mod head;
mod headers;
mod http_date;
mod range;
mod range_check;
mod redirect;
mod request;
mod syntax;

pub use body::{BodyDecoder, BodyError, BodyLimits, Decoded, Framing};
pub use content_coding::{ContentDecoder, ContentEncoding, ContentError, Inflated};
pub use content_range::{ContentRange, ContentRangeError};
pub use filename::{content_disposition_filename, file_name_from_url, sanitize_file_name};
pub use head::{
    HeadError, HeadLimits, ResponseHead, Version, parse_final_response_head, parse_response_head,
};
pub use headers::{Header, Headers};
pub use http_date::{format_http_date, parse_http_date};
pub use range::ByteRange;
pub use range_check::{RangeAnswer, RangeError, check_range_response};
pub use redirect::{RedirectError, Redirects};
pub use request::{Method, Request, RequestError};
pub use url::Url;
