//! Downloads an `ftp://` URL over `std::net`, resuming a partial file, to
//! show how the sans-IO session and real sockets fit together.
//!
//! ```sh
//! cargo run -p swarmget-ftp-client --example download -- ftp://ftp.example.org/pub/file.iso [FILE]
//! ```
//!
//! Without FILE the name is the URL's last path component. If FILE exists
//! and is shorter than the remote file, the download continues from its end
//! (`REST`).

use std::error::Error;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use swarmget_ftp_client::{Config, Credentials, Event, Session, Url, ftp_url_parts};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url = Url::parse(
        &args
            .next()
            .ok_or("usage: download ftp://HOST/PATH [FILE]")?,
    )?;
    let parts = ftp_url_parts(&url)?;
    let out_name = match args.next() {
        Some(name) => name,
        None => {
            let name = parts.path.file_name_lossy().into_owned();
            // The server chose this name: keep it to one harmless component.
            if name.contains(['/', '\\']) || name == "." || name == ".." {
                return Err(format!("unsafe file name {name:?}; give FILE").into());
            }
            name
        }
    };

    let mut config = Config::default();
    config.credentials =
        Credentials::resolve(parts.user.as_deref(), parts.password.as_deref(), None, None)?;
    if let Some(transfer_type) = parts.transfer_type {
        config.transfer_type = transfer_type;
    }
    let control = TcpStream::connect((parts.host.as_str(), parts.port))?;
    let peer = control.peer_addr()?.ip();
    let mut ftp = Control {
        session: Session::new(config, peer, Instant::now()),
        stream: control,
    };

    expect(ftp.next_event()?, |e| matches!(e, Event::LoggedIn))?;
    ftp.session.size(&parts.path, Instant::now())?;
    let size = match ftp.next_event()? {
        Event::Size(size) => Some(size),
        Event::SizeUnavailable(reply) => {
            eprintln!("size unknown ({reply})");
            None
        }
        other => return Err(format!("SIZE: {other:?}").into()),
    };

    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&out_name)?;
    let offset = file.metadata()?.len();
    if size.is_some_and(|size| offset >= size) {
        eprintln!("{out_name} is already complete");
        return Ok(());
    }
    ftp.session.retrieve(&parts.path, offset, Instant::now())?;
    let mut received = 0u64;
    loop {
        match ftp.next_event()? {
            Event::ConnectData(addr) => {
                let mut data = TcpStream::connect(addr)?;
                ftp.session.data_connected(Instant::now())?;
                expect(ftp.next_event()?, |e| {
                    matches!(e, Event::TransferStarted { .. })
                })?;
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = data.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    file.write_all(&buf[..n])?;
                    received += n as u64;
                }
                // An error here means the server already reported the end.
                let _ = ftp.session.data_finished(Instant::now());
            }
            Event::TransferComplete => break,
            other => return Err(format!("RETR: {other:?}").into()),
        }
    }
    eprintln!("{out_name}: {received} bytes from offset {offset}");
    ftp.session.quit(Instant::now())?;
    let _ = ftp.next_event();
    Ok(())
}

fn expect(event: Event, wanted: impl Fn(&Event) -> bool) -> Result<(), Box<dyn Error>> {
    if wanted(&event) {
        Ok(())
    } else {
        Err(format!("unexpected {event:?}").into())
    }
}

/// A session and its control connection.
struct Control {
    session: Session,
    stream: TcpStream,
}

impl Control {
    /// Writes what the session wants sent, then reads until it has an event
    /// (an `Event::Error` becomes `Err`).
    fn next_event(&mut self) -> Result<Event, Box<dyn Error>> {
        loop {
            while let Some(line) = self.session.poll_transmit() {
                self.stream.write_all(&line)?;
            }
            match self.session.poll_event() {
                Some(Event::Error(error)) => return Err(error.into()),
                Some(event) => return Ok(event),
                None => {}
            }
            let wait = self
                .session
                .poll_timeout()
                .map(|deadline| deadline.saturating_duration_since(Instant::now()));
            // A zero read timeout is an error: wait at least a millisecond.
            self.stream
                .set_read_timeout(wait.map(|w| w.max(Duration::from_millis(1))))?;
            let mut buf = [0u8; 4096];
            match self.stream.read(&mut buf) {
                Ok(0) => self.session.connection_closed(Instant::now()),
                Ok(n) => self.session.handle_input(&buf[..n], Instant::now()),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    self.session.handle_timeout(Instant::now());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}
