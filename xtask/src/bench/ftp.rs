//! `cargo xtask bench ftp [--runs N] [--size-mib N] [--only TEXT]...`
//!
//! vsftpd serving the file to anonymous users in passive mode: swarmget and aria2c on one
//! connection (`-x1 -s1`) and on eight (`-x8 -s8 -k1M`, each segment its own REST +
//! RETR), curl on one. The machinery is [`super::compare`]'s.

use super::compare::{
    Case, Client, Options, Server, Setup, Source, Workload, compare, package_version,
};
use crate::vsftpd::{self, Vsftpd};

const SPLITS: [&[&str]; 2] = [&["-x1", "-s1"], &["-x8", "-s8", "-k1M"]];

pub fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse("ftp", args)?;
    let vsftpd_bin = vsftpd::binary()?;
    let setup = Setup::prepare(options)?;
    let (data_dir, payload) = setup.big_payload()?;
    let vsftpd = Vsftpd::start(&vsftpd_bin, &setup.scratch.path().join("vsftpd"), &data_dir)?;
    let server = Server {
        name: "vsftpd",
        pids: vec![vsftpd.pid()],
        description: format!(
            "{} on 127.0.0.1 (anonymous FTP, passive mode, sendfile)",
            package_version("vsftpd")
        ),
    };
    let url = Source::Url(vsftpd.url(&payload.name));
    let mut cases = Vec::new();
    for split in SPLITS {
        for client in [Client::Swarmget, Client::Aria2c] {
            cases.push(Case::new(client, "ftp", split, url.clone()));
        }
    }
    cases.push(Case::new(Client::Curl, "ftp", SPLITS[0], url));
    compare(&setup, &server, &Workload::file(payload), cases)
}
