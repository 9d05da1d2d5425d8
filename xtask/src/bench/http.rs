//! `cargo xtask bench http [--runs N] [--size-mib N] [--only TEXT]...`
//!
//! nginx serving the file over HTTP and HTTPS (a P-256 certificate from a test CA):
//! swarmget and aria2c on one connection (`-x1 -s1`) and on sixteen (`-x16 -s16 -k1M`),
//! curl on one. The machinery is [`super::compare`]'s.
//!
//! `--only TEXT` keeps the cases whose label (e.g. `https swarmget -x16 -s16 -k1M`)
//! contains TEXT; give it more than once to keep several.

use super::compare::{Case, Client, Options, Server, Setup, Source, Workload, compare, version};
use crate::nginx::{self, Nginx};
use crate::tls::TestPki;

const SPLITS: [&[&str]; 2] = [&["-x1", "-s1"], &["-x16", "-s16", "-k1M"]];

pub fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse("http", args)?;
    let nginx_bin = nginx::binary()?;
    let setup = Setup::prepare(options)?;
    let (data_dir, payload) = setup.big_payload()?;
    let pki = TestPki::generate(&setup.scratch.subdir("tls")?)?;
    let nginx = Nginx::start(
        &nginx_bin,
        &setup.scratch.path().join("nginx"),
        &data_dir,
        &pki,
    )?;
    let server = Server {
        name: "nginx",
        pids: vec![nginx.pid()],
        description: format!(
            "{} on 127.0.0.1 (HTTP, and HTTPS with a P-256 certificate)",
            version("nginx", &["-v"])
        ),
    };
    let mut cases = Vec::new();
    for tls in [false, true] {
        let url = Source::Url(nginx.url(tls, &payload.name));
        let ca = tls.then(|| pki.ca.clone());
        let scheme = if tls { "https" } else { "http" };
        for split in SPLITS {
            for client in [Client::Swarmget, Client::Aria2c] {
                cases.push(Case::new(client, scheme, split, url.clone()).ca(ca.clone()));
            }
        }
        cases.push(Case::new(Client::Curl, scheme, SPLITS[0], url).ca(ca));
    }
    compare(&setup, &server, &Workload::file(payload), cases)
}
