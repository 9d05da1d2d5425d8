//! One control connection: read commands, answer them, until one side
//! closes.

use std::io::{self, BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::config::Hang;
use super::record::FtpCommandRecord;
use super::reply::Replier;
use super::server::Shared;
use super::transfer::{DataSetup, Transfer};
use super::tree;

/// Longest command line accepted; longer ones end the connection.
const MAX_LINE: u64 = 8 * 1024;

/// Serves control connection `id` until it ends.
pub(crate) fn serve(stream: TcpStream, shared: &Arc<Shared>, id: usize) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let config = &shared.config;
    let mut control = Control {
        shared,
        id,
        replier: Replier::new(write_half, config.multiline, config.split),
        user: None,
        logged_in: false,
        cwd: config.home.clone(),
        rest: 0,
        data: DataSetup::None,
        transfer: None,
    };
    let mut reader = BufReader::new(stream);
    if control
        .reply(220, "swarmget test FTP server ready.")
        .is_ok()
    {
        while let Ok(Some(line)) = read_line(&mut reader) {
            match control.command(&line) {
                Ok(Next::Continue) => {}
                Ok(Next::Hang) => {
                    // Silent until the client gives up.
                    let _ = io::copy(&mut reader, &mut io::sink());
                    break;
                }
                Ok(Next::Quit) | Err(_) => break,
            }
        }
    }
    if let Some(transfer) = control.transfer.take() {
        transfer.abort();
    }
}

/// Reads one command line without its CRLF; `None` at end of stream.
fn read_line(reader: &mut BufReader<TcpStream>) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    reader
        .by_ref()
        .take(MAX_LINE)
        .read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(io::ErrorKind::InvalidData.into());
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

enum Next {
    Continue,
    Hang,
    Quit,
}

struct Control<'a> {
    shared: &'a Arc<Shared>,
    id: usize,
    replier: Replier,
    user: Option<String>,
    logged_in: bool,
    cwd: String,
    /// Offset from `REST`, for the next `RETR`.
    rest: u64,
    data: DataSetup,
    transfer: Option<Transfer>,
}

impl Control<'_> {
    fn reply(&self, code: u16, text: &str) -> io::Result<()> {
        self.replier.send(code, text)
    }

    fn command(&mut self, line: &str) -> io::Result<Next> {
        let (verb, argument) = line.split_once(' ').unwrap_or((line, ""));
        let verb = verb.to_ascii_uppercase();
        self.shared.record(FtpCommandRecord {
            connection: self.id,
            verb: verb.clone(),
            argument: argument.to_owned(),
        });
        if let Some(Hang {
            verb: hang,
            mid_reply,
        }) = &self.shared.config.hang
            && *hang == verb
        {
            if *mid_reply {
                self.replier.send_raw(b"250-This reply never ends\r\n")?;
            }
            return Ok(Next::Hang);
        }
        // Commands wait for a running transfer, except ABOR, which stops it.
        if verb != "ABOR"
            && let Some(transfer) = self.transfer.take()
        {
            transfer.wait();
        }
        let open = matches!(
            verb.as_str(),
            "USER" | "PASS" | "QUIT" | "FEAT" | "NOOP" | "SYST"
        );
        if !self.logged_in && !open {
            self.reply(530, "Please login with USER and PASS.")?;
            return Ok(Next::Continue);
        }
        match verb.as_str() {
            "USER" => {
                self.user = Some(argument.to_owned());
                self.logged_in = false;
                self.reply(331, "Please specify the password.")?;
            }
            "PASS" => self.pass(argument)?,
            "QUIT" => {
                self.reply(221, "Goodbye.")?;
                return Ok(Next::Quit);
            }
            "NOOP" => self.reply(200, "NOOP ok.")?,
            "SYST" => self.reply(215, "UNIX Type: L8")?,
            "FEAT" => self.replier.send_raw(
                b"211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n211 End\r\n",
            )?,
            "TYPE" => match argument.to_ascii_uppercase().as_str() {
                "I" | "L 8" => self.reply(200, "Switching to Binary mode.")?,
                "A" | "A N" => self.reply(200, "Switching to ASCII mode.")?,
                _ => self.reply(504, "Bad TYPE command.")?,
            },
            "PWD" | "XPWD" => {
                let quoted = self.cwd.replace('"', "\"\"");
                self.reply(257, &format!("\"{quoted}\" is the current directory"))?;
            }
            "CWD" | "CDUP" => {
                let target = if verb == "CDUP" { ".." } else { argument };
                let dir = tree::resolve(&self.cwd, target);
                let config = &self.shared.config;
                if tree::is_dir(&config.files, &config.home, &dir) {
                    self.cwd = dir;
                    self.reply(250, "Directory successfully changed.")?;
                } else {
                    self.reply(550, "Failed to change directory.")?;
                }
            }
            "SIZE" => match self.file(argument) {
                Some(file) => {
                    let size = self.shared.config.reported_size.unwrap_or(file.len() as u64);
                    self.reply(213, &size.to_string())?;
                }
                None => self.reply(550, "Could not get file size.")?,
            },
            "MDTM" => match self.file(argument) {
                Some(_) => self.reply(213, &timestamp(self.shared.config.modified))?,
                None => self.reply(550, "Could not get file modification time.")?,
            },
            "REST" => match argument.parse::<u64>() {
                _ if self.shared.config.refuse_rest => self.reply(502, "REST not implemented.")?,
                Ok(offset) => {
                    self.rest = offset;
                    self.reply(350, &format!("Restart position accepted ({offset})."))?;
                }
                Err(_) => self.reply(501, "REST needs a byte offset.")?,
            },
            "EPSV" if self.shared.config.refuse_epsv => self.reply(502, "EPSV not implemented.")?,
            "EPSV" => {
                let port = self.listen()?;
                self.reply(229, &format!("Entering Extended Passive Mode (|||{port}|)"))?;
            }
            "PASV" => {
                let mut port = self.listen()?;
                let mut ip = self.shared.config.pasv_address.unwrap_or(Ipv4Addr::LOCALHOST);
                if let Some(target) = self.shared.config.pasv_target {
                    (ip, port) = (*target.ip(), target.port());
                }
                let [h1, h2, h3, h4] = ip.octets();
                let [p1, p2] = port.to_be_bytes();
                let text = format!("Entering Passive Mode ({h1},{h2},{h3},{h4},{p1},{p2}).");
                self.reply(227, &text)?;
            }
            "PORT" | "EPRT" => {
                let addr = if verb == "PORT" {
                    parse_port(argument)
                } else {
                    parse_eprt(argument)
                };
                match addr {
                    Some(addr) => {
                        self.data = DataSetup::Active(addr);
                        self.reply(200, &format!("{verb} command successful."))?;
                    }
                    None => self.reply(501, &format!("Illegal {verb} command."))?,
                }
            }
            "RETR" => self.retr(argument)?,
            "ABOR" => match self.transfer.take() {
                Some(transfer) => {
                    transfer.abort();
                    self.reply(226, "ABOR successful.")?;
                }
                None => self.reply(225, "No transfer to ABOR.")?,
            },
            _ => self.reply(502, "Command not implemented.")?,
        }
        Ok(Next::Continue)
    }

    fn pass(&mut self, password: &str) -> io::Result<()> {
        let Some(user) = &self.user else {
            return self.reply(503, "Login with USER first.");
        };
        let accepted = match &self.shared.config.credentials {
            Some((want_user, want_password)) => user == want_user && password == want_password,
            None => true,
        };
        self.logged_in = accepted;
        if accepted {
            self.reply(230, "Login successful.")
        } else {
            self.reply(530, "Login incorrect.")
        }
    }

    /// The file `name` resolves to, if there is one.
    fn file(&self, name: &str) -> Option<Arc<[u8]>> {
        let path = tree::resolve(&self.cwd, name);
        self.shared.config.files.get(&path).cloned()
    }

    /// Opens a passive listener for the next transfer; returns its port.
    fn listen(&mut self) -> io::Result<u16> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        self.data = DataSetup::Passive(listener);
        Ok(port)
    }

    fn retr(&mut self, name: &str) -> io::Result<()> {
        let offset = std::mem::take(&mut self.rest);
        let setup = std::mem::take(&mut self.data);
        let Some(file) = self.file(name) else {
            return self.reply(550, "Failed to open file.");
        };
        let data = match setup.open(self.shared) {
            Ok(Some(data)) => data,
            Ok(None) => return self.reply(425, "Use PORT or PASV first."),
            Err(_) => return self.reply(425, "Failed to establish connection."),
        };
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(file.len());
        let remaining = file.len() - offset;
        let text = format!("Opening BINARY mode data connection for {name} ({remaining} bytes).");
        self.reply(150, &text)?;
        let cut_after = self.shared.config.drop_data.and_then(|drop| {
            let cut = drop
                .times
                .is_none_or(|times| self.shared.drops.fetch_add(1, Ordering::SeqCst) < times);
            cut.then_some(drop.after)
        });
        let transfer = Transfer::start(
            data,
            file,
            offset,
            cut_after,
            self.replier.clone(),
            self.shared.clone(),
        )?;
        self.transfer = Some(transfer);
        Ok(())
    }
}

/// `h1,h2,h3,h4,p1,p2` as an address.
fn parse_port(argument: &str) -> Option<SocketAddr> {
    let numbers: Vec<u8> = argument
        .split(',')
        .map(|n| n.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [h1, h2, h3, h4, p1, p2] = numbers[..] else {
        return None;
    };
    let ip = Ipv4Addr::new(h1, h2, h3, h4);
    Some(SocketAddr::new(ip.into(), u16::from_be_bytes([p1, p2])))
}

/// `|proto|addr|port|` (RFC 2428 §2) as an address.
fn parse_eprt(argument: &str) -> Option<SocketAddr> {
    let delimiter = argument.chars().next()?;
    let fields: Vec<&str> = argument.split(delimiter).collect();
    let ["", protocol, addr, port, ""] = fields[..] else {
        return None;
    };
    let ip: IpAddr = addr.parse().ok()?;
    let family_matches = matches!((protocol, ip), ("1", IpAddr::V4(_)) | ("2", IpAddr::V6(_)));
    family_matches.then_some(SocketAddr::new(ip, port.parse().ok()?))
}

/// `YYYYMMDDHHMMSS` in UTC for seconds since 1970.
fn timestamp(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(0);
    let seconds = unix % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0), "19700101000000");
        assert_eq!(timestamp(1_704_164_645), "20240102030405");
        assert_eq!(timestamp(951_868_799), "20000229235959");
    }

    #[test]
    fn active_addresses() {
        assert_eq!(
            parse_port("127,0,0,1,4,1"),
            Some("127.0.0.1:1025".parse().unwrap())
        );
        assert_eq!(parse_port("127,0,0,1,4"), None);
        assert_eq!(parse_port("127,0,0,1,4,256"), None);
        assert_eq!(
            parse_eprt("|1|127.0.0.1|1025|"),
            Some("127.0.0.1:1025".parse().unwrap())
        );
        assert_eq!(
            parse_eprt("|2|::1|1025|"),
            Some("[::1]:1025".parse().unwrap())
        );
        assert_eq!(parse_eprt("|2|127.0.0.1|1025|"), None);
        assert_eq!(parse_eprt("|1|127.0.0.1|1025"), None);
    }
}
