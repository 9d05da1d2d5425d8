//! Writing replies on the control connection, shaped as configured.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// The write half of a control connection, shared by the command loop and
/// the transfer thread; one reply is written whole before the next starts.
#[derive(Clone, Debug)]
pub(crate) struct Replier {
    stream: Arc<Mutex<TcpStream>>,
    multiline: bool,
    split: Option<(usize, Duration)>,
}

impl Replier {
    pub(crate) fn new(
        stream: TcpStream,
        multiline: bool,
        split: Option<(usize, Duration)>,
    ) -> Replier {
        Replier {
            stream: Arc::new(Mutex::new(stream)),
            multiline,
            split,
        }
    }

    /// Sends `code text`, or in multi-line mode `code-text` followed by
    /// decoy lines and `code End`.
    pub(crate) fn send(&self, code: u16, text: &str) -> io::Result<()> {
        let bytes = if self.multiline {
            format!(
                "{code}-{text}\r\n{code}-and more\r\n {code} still not the end\r\n{code} End\r\n"
            )
        } else {
            format!("{code} {text}\r\n")
        };
        self.write(bytes.as_bytes())
    }

    /// Sends a reply already formatted (e.g. `FEAT`'s list).
    pub(crate) fn send_raw(&self, bytes: &[u8]) -> io::Result<()> {
        self.write(bytes)
    }

    fn write(&self, bytes: &[u8]) -> io::Result<()> {
        let mut stream = self.stream.lock().unwrap_or_else(PoisonError::into_inner);
        match self.split {
            None => stream.write_all(bytes),
            Some((piece, delay)) => {
                for (i, chunk) in bytes.chunks(piece).enumerate() {
                    if i > 0 {
                        thread::sleep(delay);
                    }
                    stream.write_all(chunk)?;
                    stream.flush()?;
                }
                Ok(())
            }
        }
    }
}
