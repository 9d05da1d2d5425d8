//! The blocking peer-wire plumbing the scripted test peers share: the handshake, one
//! extension message, and a read loop over the messages a peer sends.

use std::io::{Read, Write};
use std::net::TcpStream;

use swarmget_bt_wire::wire::{FrameDecoder, Handshake, Limits, Message};

/// Reads the peer's handshake and answers it as `peer_id`; `false` (nothing sent) when
/// it is for another torrent than `info_hash`.
pub(crate) fn greet(
    sock: &mut TcpStream,
    info_hash: [u8; 20],
    peer_id: [u8; 20],
) -> std::io::Result<bool> {
    if !read_handshake(sock, info_hash)? {
        return Ok(false);
    }
    sock.write_all(&Handshake::new(info_hash, peer_id, false).encode())?;
    Ok(true)
}

/// Reads the peer's handshake: `false` when it is not one, or for another torrent
/// than `info_hash`.
pub(crate) fn read_handshake(sock: &mut TcpStream, info_hash: [u8; 20]) -> std::io::Result<bool> {
    let mut hs = [0u8; Handshake::LEN];
    sock.read_exact(&mut hs)?;
    Ok(Handshake::parse(&hs)
        .ok()
        .flatten()
        .is_some_and(|h| h.info_hash == info_hash))
}

/// Sends extension message `id` with `payload`.
pub(crate) fn send_extended(sock: &mut TcpStream, id: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut out = Vec::new();
    Message::Extended { id, payload }.encode(&mut out);
    sock.write_all(&out)
}

/// Calls `on` with every message until the peer hangs up, writing what it appends to
/// its buffer after each read.
pub(crate) fn each_message(
    sock: &mut TcpStream,
    mut on: impl FnMut(Message<'_>, &mut Vec<u8>),
) -> std::io::Result<()> {
    let mut decoder = FrameDecoder::new(Limits::default());
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = sock.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        decoder.extend(&buf[..n]);
        let mut out = Vec::new();
        while let Some(msg) = decoder.next().map_err(std::io::Error::other)? {
            on(msg, &mut out);
        }
        sock.write_all(&out)?;
    }
}
