//! Scrapes (BEP 48 over HTTP, BEP 15 action 2 over UDP): how many seeders, leechers
//! and completed downloads a tracker counts for some torrents, without announcing.
//!
//! aria2 has no scrape; `swarmget scrape` uses this to show a torrent's trackers'
//! counts. It is one blocking exchange on the caller's thread, through the same code
//! as announces (the same resolver, `--interface`, TLS settings,
//! `--bt-tracker-connect-timeout` and `--bt-tracker-timeout`); bt-wire builds the
//! scrape URL and request and parses the answers.

use std::sync::Arc;

use swarmget_bt_wire::tracker::{
    MAX_SCRAPE_HASHES, ScrapeStats, UdpEvent, parse_scrape, scrape_url,
};

use super::tracker::{TrackerNet, get, udp_exchange};
use crate::error::{Error, ErrorCode};
use crate::options::Options;

/// Asks the tracker of `announce` (an `http(s)://` or `udp://` announce URL) for its
/// counts of `info_hashes` (at most 74, BEP 15's limit, for either kind). The answer
/// lists the torrents the tracker knows, by info-hash; an HTTP tracker whose announce
/// URL does not end in `announce…` cannot be scraped (BEP 48) and is an error.
pub fn scrape(
    announce: &str,
    info_hashes: &[[u8; 20]],
    opts: &Options,
) -> Result<Vec<([u8; 20], ScrapeStats)>, Error> {
    let fail = |e: String| Error::new(ErrorCode::Network, format!("scrape of {announce}: {e}"));
    let hashes = &info_hashes[..info_hashes.len().min(MAX_SCRAPE_HASHES)];
    let net = TrackerNet {
        opts: Arc::new(opts.clone()),
        dns_servers: opts.async_dns_server.clone(),
        ipv6: !opts.disable_ipv6,
        tls: crate::tls::shared_config(opts).map_err(|e| Error::new(ErrorCode::BadOption, e))?,
    };
    if announce.starts_with("udp://") {
        let answer = udp_exchange(announce, &net, |t, now| t.scrape(now, hashes.to_vec()));
        return match answer.map_err(fail)? {
            // BEP 15: counts in the order asked (a short answer covers the first ones).
            UdpEvent::Scraped(stats) => Ok(hashes.iter().copied().zip(stats).collect()),
            _ => Err(fail("an announce answer to a scrape".into())),
        };
    }
    let url = scrape_url(announce, hashes)
        .ok_or_else(|| fail("the tracker cannot be scraped (BEP 48)".into()))?;
    let body = get(&url, &net).map_err(fail)?;
    parse_scrape(&body).map_err(|e| fail(e.to_string()))
}
