//! Resource bounds: nesting depth, declared lengths, integer range, allocation size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use swarmget_bencode::{Decoder, ErrorKind, decode};

/// Records the largest single allocation made by the current thread.
struct LargestAllocation;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.with(|largest| largest.set(largest.get().max(layout.size())));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.with(|largest| largest.set(largest.get().max(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

/// The largest allocation `f` makes on this thread.
fn largest_allocation_of(f: impl FnOnce()) -> usize {
    LARGEST.with(|largest| largest.set(0));
    f();
    LARGEST.with(Cell::get)
}

#[test]
fn a_million_nested_lists_stop_at_the_depth_limit() {
    let input = vec![b'l'; 1_000_000];
    let error = decode(&input).unwrap_err();
    assert_eq!(
        (error.kind(), error.offset()),
        (&ErrorKind::DepthLimitExceeded { limit: 256 }, 256)
    );
    let error = Decoder::new().lenient(true).decode(&input).unwrap_err();
    assert_eq!(error.offset(), 256);
}

#[test]
fn an_unlimited_decoder_does_not_recurse_either() {
    // Without a limit the parser walks all million levels on the heap and then reports the
    // missing ends; the call stack stays flat.
    let input = vec![b'l'; 1_000_000];
    let error = Decoder::new()
        .max_depth(usize::MAX)
        .decode(&input)
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.offset()),
        (&ErrorKind::UnexpectedEof, 1_000_000)
    );
}

#[test]
fn the_depth_limit_is_exact() {
    let at_limit = [vec![b'l'; 256], vec![b'e'; 256]].concat();
    decode(&at_limit).unwrap();
    let over = [vec![b'l'; 257], vec![b'e'; 257]].concat();
    assert_eq!(
        decode(&over).unwrap_err().kind(),
        &ErrorKind::DepthLimitExceeded { limit: 256 }
    );

    let two = Decoder::new().max_depth(2);
    two.decode(b"ld1:ai1eee").unwrap();
    let error = two.decode(b"ld1:aleee").unwrap_err();
    assert_eq!(
        (error.kind(), error.offset()),
        (&ErrorKind::DepthLimitExceeded { limit: 2 }, 5)
    );

    let flat = Decoder::new().max_depth(0);
    flat.decode(b"i1e").unwrap();
    flat.decode(b"3:abc").unwrap();
    let error = flat.decode(b"de").unwrap_err();
    assert_eq!(
        (error.kind(), error.offset()),
        (&ErrorKind::DepthLimitExceeded { limit: 0 }, 0)
    );
}

#[test]
fn huge_declared_lengths_allocate_nothing() {
    for input in [
        &b"99999999999:abc"[..],
        b"18446744073709551615:",
        b"l999999999999999:e",
        b"d9999999999:ae",
    ] {
        let mut result = None;
        let largest = largest_allocation_of(|| result = Some(decode(input)));
        assert!(
            matches!(
                result
                    .as_ref()
                    .and_then(|r| r.as_ref().err())
                    .map(|e| e.kind()),
                Some(ErrorKind::StringBeyondInput { .. })
            ),
            "{result:?}"
        );
        assert!(largest < 1024, "{input:?} made a {largest}-byte allocation");
    }
}

#[test]
fn big_strings_are_borrowed_not_copied() {
    let mut input = b"1048576:".to_vec();
    input.resize(input.len() + 1_048_576, b'x');
    let mut len = 0;
    let largest = largest_allocation_of(|| {
        len = decode(&input).unwrap().as_bytes().unwrap().len();
    });
    assert_eq!(len, 1_048_576);
    assert!(largest < 1024, "a {largest}-byte allocation");
}

#[test]
fn list_storage_grows_with_items_read_not_with_claims() {
    // 10,000 one-byte-string items: storage is proportional to what was parsed.
    let mut input = b"l".to_vec();
    for _ in 0..10_000 {
        input.extend_from_slice(b"0:");
    }
    input.push(b'e');
    let largest = largest_allocation_of(|| {
        decode(&input).unwrap();
    });
    let per_item = largest / 10_000;
    assert!(per_item <= 2 * 64, "{per_item} bytes per two-byte item");
}

#[test]
fn integers_outside_i64_are_errors_not_wraps() {
    for input in [
        &b"i9223372036854775808e"[..],
        b"i-9223372036854775809e",
        b"i18446744073709551616e",
        b"i100000000000000000000e",
    ] {
        assert_eq!(
            decode(input).unwrap_err().kind(),
            &ErrorKind::IntegerOverflow
        );
    }
    assert_eq!(
        decode(b"i9223372036854775807e").unwrap().as_int(),
        Some(i64::MAX)
    );
    assert_eq!(
        decode(b"i-9223372036854775808e").unwrap().as_int(),
        Some(i64::MIN)
    );
}
