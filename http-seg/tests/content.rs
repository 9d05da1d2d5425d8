//! Content-Encoding: gzip (multi-member, optional header fields), zlib and raw
//! deflate, fed in every size of piece with bounded output.

use std::io::Write;

use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use swarmget_http_seg::{ContentDecoder, ContentEncoding, ContentError, Inflated};

fn sample() -> Vec<u8> {
    (0..4_000u32)
        .flat_map(|i| format!("line {i} of a compressible text body\n").into_bytes())
        .collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Decodes `input` fed `piece` bytes at a time into a buffer of `out_len`.
fn decode_pieces(
    encoding: &ContentEncoding,
    input: &[u8],
    piece: usize,
    out_len: usize,
) -> Result<Vec<u8>, ContentError> {
    let mut decoder = ContentDecoder::new(encoding)?;
    let mut output = vec![0; out_len];
    let mut plain = Vec::new();
    for chunk in input.chunks(piece.max(1)) {
        let mut rest = chunk;
        loop {
            let Inflated { consumed, produced } = decoder.decode(rest, &mut output)?;
            assert!(produced <= out_len);
            plain.extend_from_slice(&output[..produced]);
            rest = &rest[consumed..];
            if rest.is_empty() && produced < out_len {
                break;
            }
        }
    }
    decoder.finish()?;
    Ok(plain)
}

#[test]
fn gzip_zlib_and_raw_deflate_in_any_piece_size() {
    let data = sample();
    let cases = [
        (ContentEncoding::Gzip, gzip(&data)),
        (ContentEncoding::Deflate, zlib(&data)),
        (ContentEncoding::Deflate, raw_deflate(&data)),
    ];
    for (encoding, compressed) in &cases {
        for piece in [1, 2, 3, 7, 100, 4096, compressed.len()] {
            for out_len in [1, 13, 4096, 100_000] {
                if piece == 1 && out_len == 1 {
                    continue; // slow and adds nothing over (1, 13)
                }
                let plain = decode_pieces(encoding, compressed, piece, out_len).unwrap();
                assert!(plain == data, "{encoding:?} piece {piece} out {out_len}");
            }
        }
    }
}

#[test]
fn decode_to_hands_out_bounded_pieces() {
    let data = vec![0u8; 1 << 20];
    let compressed = gzip(&data);
    assert!(compressed.len() < 2048, "a bomb in miniature");
    let mut decoder = ContentDecoder::new(&ContentEncoding::Gzip).unwrap();
    let mut total = 0;
    let mut largest = 0;
    decoder
        .decode_to(&compressed, &mut |piece| {
            total += piece.len();
            largest = largest.max(piece.len());
        })
        .unwrap();
    decoder.finish().unwrap();
    assert_eq!(total, data.len());
    assert!(largest <= 32 * 1024);
}

#[test]
fn gzip_members_and_optional_header_fields() {
    let mut two = gzip(b"first ");
    two.extend_from_slice(&gzip(b"second"));
    assert_eq!(
        decode_pieces(&ContentEncoding::Gzip, &two, 5, 64).unwrap(),
        b"first second"
    );

    // FEXTRA, FNAME, FCOMMENT and FHCRC, built by hand around a raw deflate body.
    let body = b"with every optional field";
    let mut member = vec![0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 0, 0, 0, 0, 0, 255];
    member.extend_from_slice(&[3, 0, b'a', b'b', b'c']);
    member.extend_from_slice(b"name.txt\0");
    member.extend_from_slice(b"a comment\0");
    member.extend_from_slice(&[0xaa, 0xbb]);
    member.extend_from_slice(&raw_deflate(body));
    let mut crc = crc32fast::Hasher::new();
    crc.update(body);
    member.extend_from_slice(&crc.finalize().to_le_bytes());
    member.extend_from_slice(&(body.len() as u32).to_le_bytes());
    for piece in [1, 4, member.len()] {
        assert_eq!(
            decode_pieces(&ContentEncoding::Gzip, &member, piece, 7).unwrap(),
            body
        );
    }
}

#[test]
fn identity_and_empty_bodies() {
    assert_eq!(
        decode_pieces(&ContentEncoding::Identity, b"as is", 2, 3).unwrap(),
        b"as is"
    );
    for encoding in [ContentEncoding::Gzip, ContentEncoding::Deflate] {
        assert_eq!(decode_pieces(&encoding, b"", 1, 8).unwrap(), b"");
    }
    assert_eq!(
        ContentDecoder::new(&ContentEncoding::Unsupported("br".into())).unwrap_err(),
        ContentError::Unsupported {
            coding: "br".into()
        }
    );
    assert_eq!(ContentEncoding::parse("x-gzip"), ContentEncoding::Gzip);
    assert_eq!(
        ContentEncoding::parse("identity"),
        ContentEncoding::Identity
    );
    assert_eq!(ContentEncoding::parse(""), ContentEncoding::Identity);
    assert_eq!(ContentEncoding::parse("DEFLATE"), ContentEncoding::Deflate);
    assert_eq!(
        ContentEncoding::parse("deflate, gzip"),
        ContentEncoding::Unsupported("deflate, gzip".into())
    );
}

#[test]
fn every_content_error() {
    let data = b"some data that will be compressed".repeat(20);
    let good = gzip(&data);
    let gz = |bytes: &[u8]| decode_pieces(&ContentEncoding::Gzip, bytes, 3, 16);

    assert_eq!(gz(b"\x1f\x8c"), Err(ContentError::NotGzip { offset: 1 }));
    assert_eq!(gz(b"PK\x03\x04"), Err(ContentError::NotGzip { offset: 0 }));
    assert_eq!(
        gz(b"\x1f\x8b\x07\x00"),
        Err(ContentError::UnsupportedGzipMethod {
            offset: 2,
            method: 7
        })
    );
    assert_eq!(
        gz(b"\x1f\x8b\x08\x20"),
        Err(ContentError::ReservedGzipFlags {
            offset: 3,
            flags: 0x20
        })
    );

    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 1;
    assert!(matches!(
        gz(&bad_crc),
        Err(ContentError::ChecksumMismatch { .. })
    ));

    let mut bad_size = good.clone();
    bad_size[n - 1] ^= 1;
    assert!(matches!(
        gz(&bad_size),
        Err(ContentError::SizeMismatch { expected, actual }) if actual as usize == data.len() && expected != actual
    ));

    let mut corrupt = good.clone();
    corrupt[10] = 0xff; // BTYPE 11 is reserved
    assert!(matches!(gz(&corrupt), Err(ContentError::Corrupt { offset, .. }) if offset >= 9));

    assert_eq!(gz(&good[..good.len() - 1]), Err(ContentError::Truncated));
    assert_eq!(gz(&good[..5]), Err(ContentError::Truncated));

    let mut garbage = good.clone();
    garbage.extend_from_slice(b"\n");
    assert!(matches!(gz(&garbage), Err(ContentError::NotGzip { .. })));

    let zl = zlib(&data);
    let mut zl_extra = zl.clone();
    zl_extra.extend_from_slice(b"junk");
    assert_eq!(
        decode_pieces(&ContentEncoding::Deflate, &zl_extra, 1000, 4096),
        Err(ContentError::TrailingData {
            offset: zl.len() as u64
        })
    );
    assert_eq!(
        decode_pieces(&ContentEncoding::Deflate, &zl[..zl.len() - 2], 7, 64),
        Err(ContentError::Truncated)
    );
    let mut bad_adler = zl.clone();
    let m = bad_adler.len();
    bad_adler[m - 1] ^= 1;
    assert!(matches!(
        decode_pieces(&ContentEncoding::Deflate, &bad_adler, 7, 64),
        Err(ContentError::Corrupt { .. })
    ));
    assert_eq!(
        decode_pieces(&ContentEncoding::Deflate, b"x", 1, 8),
        Err(ContentError::Truncated)
    );
    for e in [ContentError::Truncated, ContentError::NotGzip { offset: 3 }] {
        assert!(!e.to_string().is_empty());
    }
}
