#!/usr/bin/python3
"""A libtorrent peer on loopback for `cargo xtask interop` (python3-libtorrent).

Usage:
  lt_peer.py seed TORRENT SAVE_PATH PORT
      Seed TORRENT from SAVE_PATH (checked first), listening on 127.0.0.1:PORT, until
      SIGTERM. Prints "seeding" once every piece is checked, and at the end
      "uploaded: N bytes".
  lt_peer.py leech TORRENT SAVE_PATH PORT
      Download TORRENT into SAVE_PATH, listening on 127.0.0.1:PORT; exit 0 once every
      piece is there, 1 after 120 s.
  lt_peer.py dhtseed TORRENT SAVE_PATH PORT NODE
      As seed, with the DHT on (UDP PORT) and NODE (ADDRESS:PORT) its only bootstrap
      node: the torrent is announced to the DHT every 2 s (libtorrent would otherwise
      wait 15 minutes after an announce into an empty table).
  lt_peer.py seednopex TORRENT SAVE_PATH PORT
      As seed, with peer exchange off for the torrent: it learns no peer from PEX.
  lt_peer.py hub TORRENT SAVE_PATH PORT PEER
      A peer that downloads nothing (upload mode) and connects to PEER (ADDRESS:PORT),
      so its PEX messages name PEER; prints "connected" once it has a peer, runs until
      SIGTERM.

Local peer discovery, UPnP and NAT-PMP are off, and the DHT unless dhtseed: it talks
to the torrent's tracker, the peers it names and NODE, all on 127.0.0.1.
"""
import signal
import sys
import time

import libtorrent as lt


def session(mode, port, node=None, keep_redundant=False):
    settings = {
        # A seed and an upload-only peer have nothing for each other, and libtorrent
        # closes such connections; the PEX case needs the hub to stay connected to the
        # seed it names.
        "close_redundant_connections": not keep_redundant,
        # Two of these on one machine drew the same peer id and each dropped the
        # other as "connected to ourselves": the prefix tells seeder and leecher apart.
        "peer_fingerprint": "-LS2080-" if mode == "seed" else "-LL2080-",
        # TCP only, as swarmget and aria2c (uTP over loopback timed out here).
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "listen_interfaces": "127.0.0.1:%d" % int(port),
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": node is not None,
        "dht_bootstrap_nodes": node or "",
        # Every node is 127.0.0.1: one per address would leave one in the table.
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_ip_notifier": False,
        # Every peer is 127.0.0.1: key peers by address and port, not address alone.
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.connect_notification
        | lt.alert.category_t.dht_notification,
    }
    return lt.session(settings)


def add(ses, torrent, save_path, flags=None):
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save_path
    if flags is not None:
        atp.flags |= flags
    return ses.add_torrent(atp)


def log_alerts(ses):
    for a in ses.pop_alerts():
        print("%.3f %s: %s" % (time.time(), type(a).__name__, a.message()), flush=True)


def main(argv):
    dht = len(argv) == 6 and argv[1] == "dhtseed"
    hub = len(argv) == 6 and argv[1] == "hub"
    if not (dht or hub) and (len(argv) != 5 or argv[1] not in ("seed", "leech", "seednopex")):
        sys.stderr.write(__doc__)
        return 2
    mode, torrent, save_path, port = argv[1:5]
    flags = None
    if mode == "seednopex":
        mode, flags = "seed", lt.torrent_flags.disable_pex
    elif hub:
        flags = lt.torrent_flags.upload_mode
    ses = session("seed" if dht else mode, port, argv[5] if dht else None, flags is not None)
    h = add(ses, torrent, save_path, flags)
    if hub:
        host, peer_port = argv[5].rsplit(":", 1)
        h.connect_peer((host, int(peer_port)))
    stop = {"flag": False}

    def _stop(*_):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    deadline = time.time() + 120
    announced = False
    next_dht = 0
    while not stop["flag"]:
        log_alerts(ses)
        if dht and time.time() >= next_dht:
            h.force_dht_announce()
            next_dht = time.time() + 2
        s = h.status()
        if hub:
            if s.num_peers > 0 and not announced:
                print("connected", flush=True)
                announced = True
            time.sleep(0.1)
            continue
        if s.is_seeding:
            if mode == "leech":
                print("complete: %d bytes down" % s.total_payload_download, flush=True)
                return 0
            if not announced:
                print("seeding", flush=True)
                announced = True
        elif mode == "leech" and time.time() > deadline:
            print("gave up at progress %.4f" % s.progress, flush=True)
            return 1
        time.sleep(0.1)
    if mode == "seed":
        print("uploaded: %d bytes" % h.status().total_payload_upload, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
