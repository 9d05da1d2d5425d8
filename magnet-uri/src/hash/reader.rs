//! Hashing a stream on two cores.
//!
//! The algorithms are independent, so the set is split into two halves of about equal
//! cost and each half runs in its own [`Hasher`]. The calling thread reads a buffer,
//! hands a shared reference to a worker thread, hashes its own half over the same bytes,
//! and reads the next buffer; the worker hands buffers back for reuse once done, so a few
//! buffers circulate and memory stays bounded. Inputs that fit in one buffer are hashed
//! on the calling thread alone.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;

use super::{Algorithms, Digests, Hasher};

/// Bytes per read. Large enough to amortise channel traffic, small enough that both
/// threads hash a buffer while it is still in the shared cache.
const BUFFER_SIZE: usize = 1 << 20;

/// Buffers the worker may be behind by.
const QUEUE_DEPTH: usize = 4;

/// Reads `reader` to its end and computes `algorithms` over its bytes, using a second
/// thread for about half of the work when the input is larger than one buffer (1 MiB)
/// and there is more than one algorithm to split.
pub fn hash_reader<R: Read>(mut reader: R, algorithms: Algorithms) -> io::Result<Digests> {
    let mut first = vec![0; BUFFER_SIZE];
    let filled = read_full(&mut reader, &mut first)?;
    // The reading thread takes the cheaper half: reading is its extra work.
    let (mine, theirs) = algorithms.split_balanced();
    if filled < BUFFER_SIZE || mine.is_empty() || theirs.is_empty() {
        let mut hasher = Hasher::new(algorithms);
        hasher.update(&first[..filled]);
        let mut buffer = first;
        loop {
            let n = read_full(&mut reader, &mut buffer)?;
            if n == 0 {
                return Ok(hasher.finish());
            }
            hasher.update(&buffer[..n]);
        }
    }
    two_threads(reader, first, mine, theirs)
}

fn two_threads<R: Read>(
    mut reader: R,
    first: Vec<u8>,
    mine: Algorithms,
    theirs: Algorithms,
) -> io::Result<Digests> {
    let (to_worker, work) = mpsc::sync_channel::<Arc<Vec<u8>>>(QUEUE_DEPTH);
    let (give_back, returned) = mpsc::channel::<Arc<Vec<u8>>>();
    thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let mut hasher = Hasher::new(theirs);
            for buffer in work {
                hasher.update(&buffer);
                // The reader may have stopped early; then nobody wants the buffer back.
                let _ = give_back.send(buffer);
            }
            hasher.finish()
        });

        let mut hasher = Hasher::new(mine);
        let mut next = Some(first); // arrives already filled
        let mut allocated = 1;
        let outcome = loop {
            let buffer = match next.take() {
                Some(filled) => filled,
                None => {
                    let mut buffer = if allocated < QUEUE_DEPTH + 2 {
                        allocated += 1;
                        vec![0; BUFFER_SIZE]
                    } else {
                        match returned.recv() {
                            // Our own clone was dropped after hashing: the worker's is the last.
                            Ok(shared) => {
                                Arc::try_unwrap(shared).unwrap_or_else(|still| (*still).clone())
                            }
                            Err(_) => break Err(worker_gone()),
                        }
                    };
                    buffer.resize(BUFFER_SIZE, 0);
                    match read_full(&mut reader, &mut buffer) {
                        Ok(0) => break Ok(()),
                        Ok(n) => buffer.truncate(n),
                        Err(e) => break Err(e),
                    }
                    buffer
                }
            };
            let shared = Arc::new(buffer);
            if to_worker.send(Arc::clone(&shared)).is_err() {
                break Err(worker_gone());
            }
            hasher.update(&shared);
        };
        // Closing the channel ends the worker's loop.
        drop(to_worker);
        let theirs = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        outcome.map(|()| hasher.finish().merge(theirs))
    })
}

fn worker_gone() -> io::Error {
    io::Error::other("hashing thread stopped early")
}

/// Reads until `buffer` is full or the input ends; returns the bytes read.
fn read_full<R: Read>(reader: &mut R, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
