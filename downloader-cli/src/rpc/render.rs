//! Engine snapshots in aria2's result shapes: numbers as decimal strings, GIDs as 16
//! hex digits, keys omitted where they do not apply.

use serde_json::{Map, Value, json};
use swarmget_engine::options::{
    FileAllocation, FollowMetalink, MetalinkProtocol, ProxyMethod, ResultFormat,
};
use swarmget_engine::plan::Selector;
use swarmget_engine::uri_selector::UriSelector;
use swarmget_engine::{
    DownloadState, DownloadStatus, FileStatus, Options, PeerStatus, ServerStatus, UriStatus,
};

fn n(v: impl ToString) -> Value {
    Value::String(v.to_string())
}

/// aria2's `errorCode` for a download that was removed.
const REMOVED_CODE: &str = "31";

/// `tellStatus`, every key (filter with [`swarmget_rpc::method::filter_keys`]).
pub fn status(s: &DownloadStatus) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("gid".into(), n(s.gid));
    o.insert("status".into(), s.state.name().into());
    o.insert("totalLength".into(), n(s.total.unwrap_or(0)));
    o.insert("completedLength".into(), n(s.completed));
    let up = s.bittorrent.as_ref();
    o.insert(
        "uploadLength".into(),
        n(up.map_or(0, |bt| bt.upload_length)),
    );
    if let Some(b) = &s.bitfield {
        let hex: String = b.as_bytes().iter().map(|x| format!("{x:02x}")).collect();
        o.insert("bitfield".into(), hex.into());
    }
    o.insert("downloadSpeed".into(), n(s.speed));
    o.insert("uploadSpeed".into(), n(up.map_or(0, |bt| bt.upload_speed)));
    o.insert("pieceLength".into(), n(s.piece_length));
    o.insert("numPieces".into(), n(s.num_pieces));
    o.insert("connections".into(), n(s.connections));
    o.insert("dir".into(), s.dir.display().to_string().into());
    match &s.state {
        DownloadState::Error(e) => {
            o.insert("errorCode".into(), n(e.code.exit_code()));
            o.insert("errorMessage".into(), e.message.clone().into());
        }
        DownloadState::Removed => {
            o.insert("errorCode".into(), REMOVED_CODE.into());
            o.insert("errorMessage".into(), "Removed".into());
        }
        DownloadState::Complete => {
            o.insert("errorCode".into(), "0".into());
            o.insert("errorMessage".into(), "".into());
        }
        _ => {}
    }
    if !s.followed_by.is_empty() {
        let gids: Vec<Value> = s.followed_by.iter().map(n).collect();
        o.insert("followedBy".into(), gids.into());
    }
    if let Some(g) = s.following {
        // Not `belongsTo`: aria2 reserves that for a BitTorrent download's parent.
        o.insert("following".into(), n(g));
    }
    if let Some(bt) = &s.bittorrent {
        o.insert("infoHash".into(), bt.info_hash.clone().into());
        o.insert("numSeeders".into(), n(bt.num_seeders));
        o.insert("seeder".into(), n(bt.seeder));
        o.insert("bittorrent".into(), bittorrent(bt));
    }
    o.insert(
        "files".into(),
        s.files.iter().map(file).collect::<Vec<_>>().into(),
    );
    o
}

/// `tellStatus`'s `bittorrent`, as aria2's `gatherBitTorrentMetadata` builds it:
/// `comment` and `creationDate` only when the torrent has them, `creationDate` a JSON
/// number (the one number aria2 does not send as a string), `info.name` always (a
/// torrent from a file has its info dictionary). One key is swarmget's own:
/// `peerOrigins`, how many peers each source named (aria2's clients ignore keys they
/// do not know).
fn bittorrent(bt: &swarmget_engine::BtStatus) -> Value {
    let mut o = Map::new();
    if let Some(c) = bt.comment.as_ref().filter(|c| !c.is_empty()) {
        o.insert("comment".into(), c.clone().into());
    }
    if let Some(d) = bt.creation_date.filter(|d| *d != 0) {
        o.insert("creationDate".into(), d.into());
    }
    if !bt.mode.is_empty() {
        // A magnet link's metadata download has no mode yet (aria2 leaves it out too).
        o.insert("mode".into(), bt.mode.into());
    }
    o.insert("announceList".into(), json!(bt.announce_list));
    o.insert("info".into(), json!({ "name": bt.name }));
    let p = &bt.peer_origins;
    o.insert(
        "peerOrigins".into(),
        json!({
            "tracker": n(p.tracker),
            "dht": n(p.dht),
            "pex": n(p.pex),
            "lpd": n(p.lpd),
            "magnet": n(p.magnet),
            "incoming": n(p.incoming),
        }),
    );
    Value::Object(o)
}

/// A `getPeers` entry: the peer id percent-encoded as aria2's `torrentPercentEncode`
/// does (all but ASCII letters and digits), the
/// bitfield in hex, flags as "true"/"false", speeds as decimal strings.
pub fn peer(p: &PeerStatus) -> Value {
    let peer_id: String = p
        .peer_id
        .iter()
        .map(|&b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let bitfield: String = p.bitfield.iter().map(|b| format!("{b:02x}")).collect();
    json!({
        "peerId": peer_id,
        "ip": p.addr.ip().to_string(),
        "port": n(p.addr.port()),
        "bitfield": bitfield,
        "amChoking": n(p.am_choking),
        "peerChoking": n(p.peer_choking),
        "downloadSpeed": n(p.download_speed),
        "uploadSpeed": n(p.upload_speed),
        "seeder": n(p.seeder),
    })
}

/// A `getFiles` entry.
pub fn file(f: &FileStatus) -> Value {
    json!({
        "index": n(f.index),
        "path": f.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        "length": n(f.length),
        "completedLength": n(f.completed),
        "selected": n(f.selected),
        "uris": uris(&f.uris),
    })
}

/// `getUris`.
pub fn uris(u: &[UriStatus]) -> Value {
    u.iter()
        .map(|u| json!({"uri": u.uri, "status": if u.used { "used" } else { "waiting" }}))
        .collect::<Vec<_>>()
        .into()
}

/// `getServers`.
pub fn servers(s: &[ServerStatus]) -> Value {
    s.iter()
        .map(|f| {
            json!({
                "index": n(f.index),
                "servers": f.servers.iter().map(|c| json!({
                    "uri": c.uri,
                    "currentUri": c.current_uri,
                    "downloadSpeed": n(c.speed),
                })).collect::<Vec<_>>(),
            })
        })
        .collect::<Vec<_>>()
        .into()
}

/// `getOption`/`getGlobalOption`: every option with a value, by aria2's name.
pub fn options(o: &Options) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.into(), Value::String(v));
    };
    let b = |v: bool| if v { "true" } else { "false" }.to_string();
    let secs = |d: std::time::Duration| d.as_secs().to_string();
    put("dir", o.dir.display().to_string());
    if let Some(v) = &o.out {
        put("out", v.clone());
    }
    put("split", o.split.to_string());
    put(
        "max-connection-per-server",
        o.max_connection_per_server.to_string(),
    );
    put("min-split-size", o.min_split_size.to_string());
    put("piece-length", o.piece_length.to_string());
    put(
        "stream-piece-selector",
        match o.stream_piece_selector {
            Selector::Default => "default",
            Selector::InOrder => "inorder",
            Selector::Random => "random",
            Selector::Geom => "geom",
        }
        .into(),
    );
    put("max-tries", o.max_tries.to_string());
    put("max-file-not-found", o.max_file_not_found.to_string());
    put("use-head", b(o.use_head));
    put("enable-http-pipelining", b(o.enable_http_pipelining));
    put("allow-piece-length-change", b(o.allow_piece_length_change));
    put(
        "uri-selector",
        match o.uri_selector {
            UriSelector::InOrder => "inorder",
            UriSelector::Feedback => "feedback",
            UriSelector::Adaptive => "adaptive",
        }
        .into(),
    );
    if let Some(p) = &o.server_stat_of {
        put("server-stat-of", p.display().to_string());
    }
    if let Some(p) = &o.server_stat_if {
        put("server-stat-if", p.display().to_string());
    }
    put("server-stat-timeout", secs(o.server_stat_timeout));
    put("reuse-uri", b(o.reuse_uri));
    put("retry-wait", secs(o.retry_wait));
    put("timeout", secs(o.timeout));
    put("connect-timeout", secs(o.connect_timeout));
    put("lowest-speed-limit", o.lowest_speed_limit.to_string());
    put("max-download-limit", o.max_download_limit.to_string());
    put(
        "max-overall-download-limit",
        o.max_overall_download_limit.to_string(),
    );
    put(
        "max-concurrent-downloads",
        o.max_concurrent_downloads.to_string(),
    );
    put(
        "optimize-concurrent-downloads",
        match o.optimize_concurrent_downloads {
            None => "false".into(),
            Some((a, b)) => format!("{a}:{b}"),
        },
    );
    if !o.headers.is_empty() {
        put("header", o.headers.join("\n"));
    }
    put("user-agent", o.user_agent.clone());
    let opt = |m: &mut Map<String, Value>, k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v.clone()));
        }
    };
    opt(&mut m, "referer", &o.referer);
    opt(&mut m, "http-user", &o.http_user);
    opt(&mut m, "http-passwd", &o.http_passwd);
    opt(&mut m, "ftp-user", &o.ftp_user);
    opt(&mut m, "ftp-passwd", &o.ftp_passwd);
    opt(&mut m, "metalink-language", &o.metalink_language);
    opt(&mut m, "metalink-os", &o.metalink_os);
    opt(&mut m, "metalink-version", &o.metalink_version);
    opt(&mut m, "input-file", &o.input_file);
    opt(&mut m, "metalink-file", &o.metalink_file);
    let mut put = |k: &str, v: String| {
        m.insert(k.into(), Value::String(v));
    };
    put("enable-http-keep-alive", b(o.http_keep_alive));
    put(
        "content-disposition-default-utf8",
        b(o.content_disposition_default_utf8),
    );
    put("max-redirect", o.max_redirect.to_string());
    put(
        "ftp-type",
        if o.ftp_type_ascii { "ascii" } else { "binary" }.into(),
    );
    put("ftp-pasv", b(o.ftp_pasv));
    put("ftp-reuse-connection", b(o.ftp_reuse_connection));
    for (k, p) in [
        ("ca-certificate", &o.ca_certificate),
        ("certificate", &o.certificate),
        ("private-key", &o.private_key),
        ("conf-path", &o.conf_path),
    ] {
        if let Some(p) = p {
            put(k, p.display().to_string());
        }
    }
    for (k, p) in [
        ("http-proxy", &o.http_proxy),
        ("https-proxy", &o.https_proxy),
        ("ftp-proxy", &o.ftp_proxy),
        ("all-proxy", &o.all_proxy),
    ] {
        if let Some(p) = p {
            put(k, p.to_string());
        }
    }
    for (k, v) in [
        ("http-proxy-user", &o.http_proxy_user),
        ("http-proxy-passwd", &o.http_proxy_passwd),
        ("https-proxy-user", &o.https_proxy_user),
        ("https-proxy-passwd", &o.https_proxy_passwd),
        ("ftp-proxy-user", &o.ftp_proxy_user),
        ("ftp-proxy-passwd", &o.ftp_proxy_passwd),
        ("all-proxy-user", &o.all_proxy_user),
        ("all-proxy-passwd", &o.all_proxy_passwd),
    ] {
        if let Some(v) = v {
            put(k, v.clone());
        }
    }
    put(
        "proxy-method",
        match o.proxy_method {
            ProxyMethod::Get => "get",
            ProxyMethod::Tunnel => "tunnel",
        }
        .into(),
    );
    put("no-netrc", b(o.no_netrc));
    put("http-auth-challenge", b(o.http_auth_challenge));
    for (k, p) in [
        ("netrc-path", &o.netrc_path),
        ("load-cookies", &o.load_cookies),
        ("save-cookies", &o.save_cookies),
    ] {
        if let Some(p) = p {
            put(k, p.display().to_string());
        }
    }
    put("check-certificate", b(o.check_certificate));
    put("continue", b(o.continue_download));
    put("always-resume", b(o.always_resume));
    put(
        "max-resume-failure-tries",
        o.max_resume_failure_tries.to_string(),
    );
    put("remote-time", b(o.remote_time));
    put(
        "min-tls-version",
        if o.tls13_only { "TLSv1.3" } else { "TLSv1.2" }.into(),
    );
    put("http-no-cache", b(o.http_no_cache));
    put("conditional-get", b(o.conditional_get));
    put("rlimit-nofile", o.rlimit_nofile.to_string());
    put("max-upload-limit", o.max_upload_limit.to_string());
    put(
        "max-overall-upload-limit",
        o.max_overall_upload_limit.to_string(),
    );
    put("listen-port", ports(&o.listen_port));
    put("enable-peer-exchange", b(o.enable_peer_exchange));
    put("bt-enable-lpd", b(o.bt_enable_lpd));
    if let Some(i) = &o.bt_lpd_interface {
        put("bt-lpd-interface", i.clone());
    }
    put("bt-metadata-only", b(o.bt_metadata_only));
    put("bt-save-metadata", b(o.bt_save_metadata));
    put("bt-load-saved-metadata", b(o.bt_load_saved_metadata));
    put("enable-dht", b(o.dht.enable));
    put("enable-dht6", b(o.dht.enable6));
    put("dht-listen-port", ports(&o.dht.listen_port));
    put(
        "dht-message-timeout",
        o.dht.message_timeout.as_secs().to_string(),
    );
    if let Some(a) = o.dht.listen_addr6 {
        put("dht-listen-addr6", a.to_string());
    }
    for (k, a) in [
        ("dht-entry-point", &o.dht.entry_point),
        ("dht-entry-point6", &o.dht.entry_point6),
    ] {
        if let Some(a) = a {
            put(k, a.to_string());
        }
    }
    for (k, p) in [
        ("dht-file-path", &o.dht.file_path),
        ("dht-file-path6", &o.dht.file_path6),
    ] {
        if let Some(p) = p {
            put(k, p.display().to_string());
        }
    }
    put("seed-ratio", format!("{:?}", o.seed_ratio));
    put("bt-seed-unverified", b(o.bt_seed_unverified));
    put("bt-remove-unselected-file", b(o.bt_remove_unselected_file));
    put("bt-max-peers", o.bt_max_peers.to_string());
    put(
        "bt-request-peer-speed-limit",
        o.bt_request_peer_speed_limit.to_string(),
    );
    put("bt-max-open-files", o.bt_max_open_files.to_string());
    if !o.bt_tracker.is_empty() {
        put("bt-tracker", o.bt_tracker.join(","));
    }
    if !o.bt_exclude_tracker.is_empty() {
        put("bt-exclude-tracker", o.bt_exclude_tracker.join(","));
    }
    put("bt-tracker-interval", secs(o.bt_tracker_interval));
    put("bt-tracker-timeout", secs(o.bt_tracker_timeout));
    put(
        "bt-tracker-connect-timeout",
        secs(o.bt_tracker_connect_timeout),
    );
    put("bt-stop-timeout", secs(o.bt_stop_timeout));
    put("bt-hash-check-seed", b(o.bt_hash_check_seed));
    if let Some(ip) = o.bt_external_ip {
        put("bt-external-ip", ip.to_string());
    }
    put("peer-id-prefix", o.peer_id_prefix.clone());
    put("peer-agent", o.peer_agent.clone());
    put(
        "bt-enable-hook-after-hash-check",
        b(o.bt_enable_hook_after_hash_check),
    );
    put("bt-detach-seed-only", b(o.bt_detach_seed_only));
    let ends = o.bt_prioritize_piece;
    let ends: Vec<String> = [("head", ends.head), ("tail", ends.tail)]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(end, n)| format!("{end}={n}"))
        .collect();
    if !ends.is_empty() {
        put("bt-prioritize-piece", ends.join(","));
    }
    put("follow-torrent", follow(o.follow_torrent).into());
    if !o.index_out.is_empty() {
        let pairs: Vec<String> = o
            .index_out
            .iter()
            .map(|(i, p)| format!("{i}={}", p.display()))
            .collect();
        put("index-out", pairs.join("\n"));
    }
    if let Some(t) = o.seed_time {
        put("seed-time", format!("{:?}", t.as_secs_f64() / 60.0));
    }
    put("parameterized-uri", b(o.parameterized_uri));
    put("http-accept-gzip", b(o.http_accept_gzip));
    put("deferred-input", b(o.deferred_input));
    put("max-download-result", o.max_download_result.to_string());
    put("allow-overwrite", b(o.allow_overwrite));
    put("auto-file-renaming", b(o.auto_file_renaming));
    put("remove-control-file", b(o.remove_control_file));
    put("auto-save-interval", secs(o.auto_save_interval));
    put(
        "file-allocation",
        match o.file_allocation {
            FileAllocation::None => "none",
            FileAllocation::Prealloc => "prealloc",
            FileAllocation::Trunc => "trunc",
            FileAllocation::Falloc => "falloc",
        }
        .into(),
    );
    put(
        "no-file-allocation-limit",
        o.no_file_allocation_limit.to_string(),
    );
    put("disk-cache", o.disk_cache.to_string());
    if let Some(d) = &o.checksum {
        put("checksum", d.to_string());
    }
    put("disable-ipv6", b(o.disable_ipv6));
    if let Some(i) = &o.interface {
        put("interface", i.clone());
    }
    if !o.multiple_interface.is_empty() {
        put("multiple-interface", o.multiple_interface.join(","));
    }
    put("enable-mmap", b(o.enable_mmap));
    put("max-mmap-limit", o.max_mmap_limit.to_string());
    put("async-dns", b(o.async_dns));
    if !o.async_dns_server.is_empty() {
        let servers: Vec<String> = o.async_dns_server.iter().map(|s| s.to_string()).collect();
        put("async-dns-server", servers.join(","));
    }
    put(
        "socket-recv-buffer-size",
        o.socket_recv_buffer_size.to_string(),
    );
    put("quiet", b(o.quiet));
    if let Some(p) = &o.log {
        put("log", p.display().to_string());
    }
    put("log-level", o.log_level.name().into());
    put("console-log-level", o.console_log_level.name().into());
    put("stderr", b(o.stderr));
    put("enable-color", b(o.enable_color));
    put("truncate-console-readout", b(o.truncate_console_readout));
    put("summary-interval", secs(o.summary_interval));
    put("show-console-readout", b(o.show_console_readout));
    put("human-readable", b(o.human_readable));
    put(
        "download-result",
        match o.download_result {
            ResultFormat::Default => "default",
            ResultFormat::Full => "full",
            ResultFormat::Hide => "hide",
        }
        .into(),
    );
    put("no-conf", b(o.no_conf));
    put("force-sequential", b(o.force_sequential));
    put("stop", secs(o.stop));
    put("dry-run", b(o.dry_run));
    put("pause", b(o.pause));
    put("follow-metalink", follow(o.follow_metalink).into());
    put(
        "metalink-preferred-protocol",
        match o.metalink_preferred_protocol {
            None => "none",
            Some(MetalinkProtocol::Http) => "http",
            Some(MetalinkProtocol::Https) => "https",
            Some(MetalinkProtocol::Ftp) => "ftp",
        }
        .into(),
    );
    if !o.metalink_location.is_empty() {
        put("metalink-location", o.metalink_location.join(","));
    }
    if let Some(u) = &o.metalink_base_uri {
        put("metalink-base-uri", u.to_string());
    }
    put(
        "metalink-enable-unique-protocol",
        b(o.metalink_enable_unique_protocol),
    );
    if let Some(sel) = &o.select_file {
        put("select-file", selection(sel));
    }
    put("show-files", b(o.show_files));
    put("realtime-chunk-checksum", b(o.realtime_chunk_checksum));
    put("check-integrity", b(o.check_integrity));
    put("hash-check-only", b(o.hash_check_only));
    put("no-want-digest-header", b(o.no_want_digest_header));
    put("enable-rpc", b(o.enable_rpc));
    put("rpc-listen-port", o.rpc_listen_port.to_string());
    put("rpc-listen-all", b(o.rpc_listen_all));
    put("rpc-max-request-size", o.rpc_max_request_size.to_string());
    put("rpc-allow-origin-all", b(o.rpc_allow_origin_all));
    put("rpc-save-upload-metadata", b(o.rpc_save_upload_metadata));
    put("rpc-secure", b(o.rpc_secure));
    // rpc-passwd, like rpc-secret, is never shown.
    if let Some(u) = &o.rpc_user {
        put("rpc-user", u.clone());
    }
    put("daemon", b(o.daemon));
    if let Some(pid) = o.stop_with_process {
        put("stop-with-process", pid.to_string());
    }
    for (k, p) in [
        ("save-session", &o.save_session),
        ("rpc-certificate", &o.rpc_certificate),
        ("rpc-private-key", &o.rpc_private_key),
        ("on-download-start", &o.on_download_start),
        ("on-download-pause", &o.on_download_pause),
        ("on-download-stop", &o.on_download_stop),
        ("on-download-complete", &o.on_download_complete),
        ("on-download-error", &o.on_download_error),
        ("on-bt-download-complete", &o.on_bt_download_complete),
    ] {
        if let Some(p) = p {
            put(k, p.display().to_string());
        }
    }
    put("save-session-interval", secs(o.save_session_interval));
    if let Some(g) = o.gid {
        put("gid", g.to_string());
    }
    put("pause-metadata", b(o.pause_metadata));
    put("force-save", b(o.force_save));
    put("save-not-found", b(o.save_not_found));
    // rpc-secret is never shown (aria2 leaves it out too).
    m
}

/// `--follow-metalink`'s and `--follow-torrent`'s value.
fn follow(f: FollowMetalink) -> &'static str {
    match f {
        FollowMetalink::True => "true",
        FollowMetalink::Mem => "mem",
        FollowMetalink::False => "false",
    }
}

/// `--select-file` written back as ranges (`1,3-5`).
/// A port list as aria2 writes it: runs of consecutive ports as `A-B`.
fn ports(list: &[u16]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let mut j = i;
        while j + 1 < list.len() && list[j + 1] == list[j].wrapping_add(1) && list[j] != u16::MAX {
            j += 1;
        }
        parts.push(if i == j {
            list[i].to_string()
        } else {
            format!("{}-{}", list[i], list[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

fn selection(sel: &swarmget_engine::options::FileSelection) -> String {
    let mut parts = Vec::new();
    let mut start = None;
    let max = sel.max().unwrap_or(0);
    for i in 1..=max + 1 {
        match (sel.contains(i), start) {
            (true, None) => start = Some(i),
            (false, Some(a)) => {
                parts.push(if a == i - 1 {
                    a.to_string()
                } else {
                    format!("{a}-{}", i - 1)
                });
                start = None;
            }
            _ => {}
        }
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_in_the_table_is_rendered_or_unset() {
        let o = Options::default();
        let m = options(&o);
        for def in swarmget_engine::options::OPTIONS {
            // A name missing from the map must be an option with no value by default
            // (or a descriptive default, such as the system certificate store).
            // --no-proxy has no written-back form yet.
            if !m.contains_key(def.name) && def.name != "no-proxy" {
                assert!(
                    def.default.is_empty() || def.default.contains([' ', '/']),
                    "{} has default {:?} but is not rendered",
                    def.name,
                    def.default
                );
            }
        }
        assert_eq!(m["split"], "5");
        assert_eq!(m["min-split-size"], (20u64 << 20).to_string());
        assert!(!m.contains_key("rpc-secret"));
        let mut o = Options::default();
        o.set("select-file", "1,3-5,9").unwrap();
        assert_eq!(options(&o)["select-file"], "1,3-5,9");
    }

    #[test]
    fn rendered_values_read_back_the_same() {
        let mut o = Options::default();
        o.set("stream-piece-selector", "inorder").unwrap();
        o.set("follow-metalink", "mem").unwrap();
        o.set("follow-torrent", "false").unwrap();
        o.set("bt-tracker", "http://a/,udp://b:1").unwrap();
        o.set("bt-exclude-tracker", "*").unwrap();
        o.set("bt-external-ip", "192.0.2.1").unwrap();
        o.set("bt-prioritize-piece", "head,tail=64K").unwrap();
        o.set("peer-id-prefix", "A2-1-37-0-").unwrap();
        o.set("bt-stop-timeout", "30").unwrap();
        let m = options(&o);
        let mut back = Options::default();
        for (k, v) in &m {
            if k == "header" || k == "rpc-listen-port" {
                continue;
            }
            back.set(k, v.as_str().unwrap())
                .unwrap_or_else(|e| panic!("{k}={v}: {e}"));
        }
        assert_eq!(back, o);
    }
}
