//! Downloads a plain-http URL over `std::net`, following redirects and
//! undoing gzip, to show how the sans-IO pieces fit together.
//!
//! ```sh
//! cargo run -p swarmget-http-seg --example fetch -- http://example.com/ [FILE]
//! ```
//!
//! Without FILE the name comes from Content-Disposition or the URL.

use std::error::Error;
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;

use swarmget_http_seg::{
    BodyDecoder, ContentDecoder, HeadLimits, Redirects, Request, Url, parse_final_response_head,
    sanitize_file_name,
};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url = Url::parse(&args.next().ok_or("usage: fetch URL [FILE]")?)?;
    let out_name = args.next();

    let mut redirects = Redirects::new(20);
    let mut request = Request::get(&url)
        .user_agent(concat!(
            "swarmget-http-seg-example/",
            env!("CARGO_PKG_VERSION")
        ))
        .accept_encoding("gzip, deflate");
    let mut chunk = vec![0u8; 64 * 1024];

    loop {
        if request.url().scheme() != "http" {
            return Err("this example speaks plain http only (bring your own TLS)".into());
        }
        let addrs = request.url().socket_addrs(|| None)?;
        let mut stream = TcpStream::connect(&*addrs)?;
        let mut head_bytes = Vec::new();
        request.write_to(&mut head_bytes)?;
        stream.write_all(&head_bytes)?;

        // Read until a whole (final, non-1xx) head has arrived.
        let mut received = Vec::new();
        let (head, used) = loop {
            if let Some(found) = parse_final_response_head(&received, &HeadLimits::default())? {
                break found;
            }
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Err("connection closed before the response head ended".into());
            }
            received.extend_from_slice(&chunk[..n]);
        };
        eprintln!("{} {} {}", head.version, head.status, head.reason);

        if let Some((next, method)) = redirects.follow(&head, request.url(), request.method())? {
            eprintln!("  -> {next}");
            request = request.redirect(&next, method);
            continue;
        }
        if !head.is_success() {
            return Err(format!("server answered {}", head.status).into());
        }

        let name = out_name
            .as_deref()
            .and_then(sanitize_file_name)
            .or_else(|| head.suggested_file_name(request.url(), false))
            .unwrap_or_else(|| "index.html".to_owned());
        let mut file = File::create(&name)?;
        let mut content = ContentDecoder::new(&head.content_encoding())?;
        let mut body = BodyDecoder::new(head.framing(false));

        let mut input = received[used..].to_vec();
        let mut payload = Vec::new();
        let mut saved = 0usize;
        loop {
            payload.clear();
            let step = body.decode(&input, &mut |data| payload.extend_from_slice(data))?;
            let mut written = Ok(());
            content.decode_to(&payload, &mut |plain| {
                if written.is_ok() {
                    saved += plain.len();
                    written = file.write_all(plain);
                }
            })?;
            written?;
            if step.done {
                break;
            }
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                body.finish_eof()?;
                break;
            }
            input.clear();
            input.extend_from_slice(&chunk[..n]);
        }
        content.finish()?;
        eprintln!(
            "saved {saved} bytes to {name} ({} bytes on the wire)",
            body.body_bytes()
        );
        return Ok(());
    }
}
