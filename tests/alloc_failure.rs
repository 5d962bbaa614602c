//! An allocator that refuses is no abort (hardening issue: "reaching it flags and stops
//! buffering (no abort, no allocation failure panic)").
//!
//! The buffers that grow with what an attacker sends (the parser's carry-over of a split
//! line, a flow's copied alert fields, the TCP out-of-order queue) allocate fallibly. This
//! test's global allocator refuses every allocation of `REFUSE_FROM` bytes or more on the
//! test's thread while a flag is set: the parser flags `MEMORY_EXHAUSTED` and goes on, and
//! once memory is back the next request is read as if nothing had happened.

use imdsguard::flow::{Direction, Event, HttpStream};
use imdsguard::http::Anomalies;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Refusing;

thread_local! {
    static REFUSE: Cell<bool> = const { Cell::new(false) };
}

/// Allocations this large or larger are refused while `REFUSE` is set.
const REFUSE_FROM: usize = 1024;

fn refused(size: usize) -> bool {
    size >= REFUSE_FROM && REFUSE.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: forwards to the system allocator, or returns null (a refusal, as the trait allows).
unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if refused(l.size()) {
            return std::ptr::null_mut();
        }
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if refused(new) {
            return std::ptr::null_mut();
        }
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static GLOBAL: Refusing = Refusing;

/// What the test looks at: request targets and the anomalies of each request.
#[derive(Default)]
struct Seen {
    targets: Vec<String>,
    anomalies: Vec<Anomalies>,
}

#[test]
fn a_refused_carry_over_is_flagged_and_parsing_goes_on() {
    let mut stream = HttpStream::new();
    let mut seen = Seen::default();
    // Capacity for what the sink records, taken before refusals start.
    seen.targets.reserve(8);
    seen.anomalies.reserve(8);
    let mut sink = |ev: &Event<'_>| match ev {
        Event::RequestLine { line, .. } => seen
            .targets
            .push(String::from_utf8_lossy(line.target.get(..16).unwrap_or(line.target)).into()),
        Event::MessageComplete {
            dir: Direction::ToServer,
            anomalies,
            ..
        } => seen.anomalies.push(*anomalies),
        _ => {}
    };

    // A request line of 3,000 bytes fed a byte at a time: the carry-over must grow past
    // 1 KiB, which the allocator refuses.
    let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "x".repeat(3000));
    REFUSE.with(|r| r.set(true));
    for b in long.as_bytes() {
        stream.feed(Direction::ToServer, std::slice::from_ref(b), &mut sink);
    }
    REFUSE.with(|r| r.set(false));
    // Memory is back: the next request is read normally.
    stream.feed(
        Direction::ToServer,
        b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n",
        &mut sink,
    );
    stream.close(Direction::ToServer, &mut sink);
    stream.close(Direction::ToClient, &mut sink);

    assert!(
        seen.anomalies
            .iter()
            .any(|a| a.contains(Anomalies::MEMORY_EXHAUSTED)),
        "{:?}",
        seen.anomalies
    );
    assert_eq!(
        seen.targets.last().map(String::as_str),
        Some("/latest/meta-dat"),
        "{:?}",
        seen.targets
    );
    let last = seen.anomalies.last().copied().unwrap_or_default();
    assert!(
        !last.contains(Anomalies::MEMORY_EXHAUSTED),
        "the request after the refusal is clean: {last:?}"
    );
}
