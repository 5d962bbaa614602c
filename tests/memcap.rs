//! A million flows against a tracker's memcap (hardening issue: "1,000,000 flows against a
//! memcap stay inside it, with counted evictions; every heap byte is charged to a caller-set
//! memcap").
//!
//! A counting global allocator keeps the live heap bytes of the test's thread. The tracker
//! gets a small memcap and a flow limit far above what the memcap allows, so that memory is
//! the binding bound; then a million connections arrive: each a SYN, and one in four also a
//! segment of an HTTP request cut inside a header line (its parser holds the cut line: heap
//! that a flow only has while it lives). Checked every 10,000 flows: the memory the tracker
//! charges stays within its cap, and so does the heap the allocator sees the tracker hold
//! (everything it allocated since it was created, table and slab included); at the end,
//! every flow created is either held or was evicted, and the evictions are counted.
//!
//! Not timed: the counts are deterministic. A debug build runs it in seconds.

use imdsguard::engine::Engine;
use imdsguard::packet::{LinkType, Tracker, TrackerConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn add(n: i64) {
    // `try_with`: the allocator may run while the thread's locals are being torn down.
    let _ = LIVE.try_with(|c| c.set(c.get() + n));
}

// SAFETY: forwards every call to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        add(l.size() as i64);
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        add(l.size() as i64);
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        add(-(l.size() as i64));
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        add(new as i64 - l.size() as i64);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> i64 {
    LIVE.with(Cell::get)
}

/// An Ethernet + IPv4 + TCP frame from 10.a.b.c:port to 198.51.100.7:80.
fn frame(client: u32, port: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    let total = (20 + 20 + payload.len()) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&(0x0a00_0000 | (client & 0x00ff_ffff)).to_be_bytes());
    f.extend_from_slice(&[198, 51, 100, 7]);
    f.extend_from_slice(&port.to_be_bytes());
    f.extend_from_slice(&80u16.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&0u32.to_be_bytes());
    f.extend_from_slice(&[5 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

const FLOWS: u32 = 1_000_000;
const MEMCAP: usize = 4 << 20;
const SYN: u8 = 0x02;
const PSH_ACK: u8 = 0x18;

#[test]
fn a_million_flows_stay_inside_the_memcap() {
    let engine = Engine::default();
    let config = TrackerConfig {
        memcap_bytes: MEMCAP,
        max_flows: 10 * FLOWS as usize,
        ..TrackerConfig::default()
    };
    // A request cut inside its User-Agent line: the parser keeps the cut line.
    let partial = b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/1";
    let mut buf = Vec::with_capacity(64);
    let base = live();
    let mut tracker = Tracker::new(config);
    let mut peak_heap = 0i64;
    let mut peak_charged = 0usize;
    let mut ts = 1_700_000_000_000_000u64;
    for i in 0..FLOWS {
        let (client, port) = (i / 50_000, 1024 + (i % 50_000) as u16);
        buf.clear();
        buf.extend_from_slice(&frame(client, port, 1000, SYN, b""));
        tracker.packet(&engine, &buf, LinkType::Ethernet, ts);
        if i % 4 == 0 {
            let data = frame(client, port, 1001, PSH_ACK, partial);
            tracker.packet(&engine, &data, LinkType::Ethernet, ts);
        }
        ts += 10;
        if i % 10_000 == 9_999 {
            let heap = live() - base;
            peak_heap = peak_heap.max(heap);
            peak_charged = peak_charged.max(tracker.memory_used());
            assert!(
                tracker.memory_used() <= MEMCAP,
                "after {} flows: {} bytes charged, cap {MEMCAP}",
                i + 1,
                tracker.memory_used()
            );
            assert!(
                heap <= MEMCAP as i64,
                "after {} flows the tracker holds {heap} heap bytes, over its cap of {MEMCAP} \
                 ({} charged, {} flows)",
                i + 1,
                tracker.memory_used(),
                tracker.flow_count()
            );
        }
    }
    let s = tracker.stats();
    assert_eq!(s.flows_created, u64::from(FLOWS));
    assert!(s.flows_evicted > 0 && s.memcap_hits > 0, "{s:?}");
    assert_eq!(
        s.flows_created,
        s.active_flows + s.flows_evicted + s.flows_timed_out + s.flows_closed,
        "every flow is held, evicted or ended: {s:?}"
    );
    assert_eq!(
        s.max_flows_hits, 0,
        "memory, not the flow count, was the bound"
    );
    eprintln!(
        "{FLOWS} flows, memcap {MEMCAP}: {} held at the end, {} evicted, {} memcap hits; \
         peak charged {peak_charged} B, peak heap seen by the allocator {peak_heap} B",
        s.active_flows, s.flows_evicted, s.memcap_hits
    );
    tracker.flush(&engine);
    assert_eq!(tracker.memory_used(), tracker.table_bytes());
    let tables = tracker.table_bytes() as i64;
    let before_drop = live() - base;
    drop(tracker);
    // What is left are the library's lazily built global tables (signature names, the
    // metadata address table), built during the run and never freed: a few kilobytes.
    let left = live() - base;
    assert!(
        before_drop - left >= tables && left < 16 * 1024,
        "dropping the tracker freed {} bytes of its {tables}, {left} bytes left",
        before_drop - left
    );
}
