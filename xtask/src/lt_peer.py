#!/usr/bin/python3
"""A libtorrent peer on loopback for `cargo xtask interop` (python3-libtorrent).

Usage:
  lt_peer.py seed TORRENT SAVE_PATH PORT
      Seed TORRENT from SAVE_PATH (checked first), listening on 127.0.0.1:PORT, until
      SIGTERM. Prints "seeding" once every piece is checked.
  lt_peer.py leech TORRENT SAVE_PATH PORT
      Download TORRENT into SAVE_PATH, listening on 127.0.0.1:PORT; exit 0 once every
      piece is there, 1 after 120 s.

DHT, local peer discovery, UPnP and NAT-PMP are off: it talks to the torrent's tracker
and the peers it names, all on 127.0.0.1.
"""
import signal
import sys
import time

import libtorrent as lt


def session(mode, port):
    return lt.session({
        # Two of these on one machine drew the same peer id and each dropped the
        # other as "connected to ourselves": the prefix tells seeder and leecher apart.
        "peer_fingerprint": "-LS2080-" if mode == "seed" else "-LL2080-",
        # TCP only, as swarmget and aria2c (uTP over loopback timed out here).
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "listen_interfaces": "127.0.0.1:%d" % int(port),
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_ip_notifier": False,
        # Every peer is 127.0.0.1: key peers by address and port, not address alone.
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.connect_notification,
    })


def add(ses, torrent, save_path):
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save_path
    return ses.add_torrent(atp)


def log_alerts(ses):
    for a in ses.pop_alerts():
        print("%.3f %s: %s" % (time.time(), type(a).__name__, a.message()), flush=True)


def main(argv):
    if len(argv) != 5 or argv[1] not in ("seed", "leech"):
        sys.stderr.write(__doc__)
        return 2
    mode, torrent, save_path, port = argv[1:]
    ses = session(mode, port)
    h = add(ses, torrent, save_path)
    stop = {"flag": False}

    def _stop(*_):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    deadline = time.time() + 120
    announced = False
    while not stop["flag"]:
        log_alerts(ses)
        s = h.status()
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
