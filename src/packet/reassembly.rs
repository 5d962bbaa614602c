//! TCP reassembly of one direction: segments in, in-order bytes and gaps out.
//!
//! A [`HalfStream`] maps sequence numbers to *stream offsets* (a `u64` counted from the first
//! byte after the SYN, or from the first data segment seen when the SYN was missed:
//! mid-stream pickup), so that everything after the mapping is plain integer arithmetic and
//! sequence wraparound at 2^32 happens in one place (`HalfStream::offset_of`).
//!
//! # Policies
//! - **In order**: a segment that starts at the next expected offset is handed to the sink at
//!   once, from the caller's buffer (no copy).
//! - **Out of order**: a segment ahead of the next expected offset is copied into a small
//!   queue, bounded in bytes and segments ([`ReassemblyConfig`]). When a new segment would
//!   pass a bound, the hole before the oldest queued segment is declared lost: the sink gets
//!   a gap of its length, and the queued bytes that then follow in order are delivered.
//! - **Overlaps and retransmissions: the first bytes seen win.** Bytes already delivered are
//!   never replaced; a segment overlapping queued bytes only adds the bytes not yet queued.
//!   This is the `first` policy of Suricata and Snort. Their default, the target-based `bsd`
//!   policy, differs only for queued data: a new segment that starts before a queued one and
//!   overlaps it wins there. A target-based policy needs the receiver's operating system,
//!   which a monitor of arbitrary hosts does not know, and a streaming parser downstream
//!   cannot take delivered bytes back, so one fixed, predictable rule is used. What makes it
//!   safe enough: the classic "send innocent bytes, then retransmit other ones" trick is
//!   counted when the two copies differ while queued ([`ReassemblyStats::conflicts`]), and
//!   an address rule never depends on payload.
//! - **Window**: a segment more than 2^30 bytes (the largest window TCP can advertise) ahead
//!   of the next expected offset is not part of this connection's stream; it is dropped and
//!   counted, so that one forged sequence number cannot make the stream skip ahead.
//! - **FIN**: the first FIN's offset ends the direction; data beyond it is ignored. The
//!   direction ends (the sink's [`StreamSink::end`]) when every byte before the FIN was
//!   delivered, or at [`HalfStream::finish`] with a gap for what never arrived.
//! - **ACK**: when the peer acknowledges bytes of a hole while later bytes wait in the queue,
//!   the capture missed them for good (the peer had them): the hole becomes a gap at once
//!   instead of holding the queued bytes back until the queue overflows.

use std::collections::VecDeque;

/// Where a direction's bytes go: the detection flow, or a test's recorder.
pub trait StreamSink {
    /// In-order bytes.
    fn data(&mut self, bytes: &[u8]);
    /// `len` bytes that will never be delivered.
    fn gap(&mut self, len: u64);
    /// The direction ended (FIN reached, reset, or the flow ended).
    fn end(&mut self);
}

/// Default cap of the bytes queued out of order per direction.
pub const MAX_QUEUED_BYTES: usize = 64 * 1024;
/// Default cap of the segments queued out of order per direction.
pub const MAX_QUEUED_SEGMENTS: usize = 32;
/// The largest window TCP can advertise (65535 << 14): a segment further ahead than this is
/// not in the stream.
pub const MAX_WINDOW: i64 = 1 << 30;

/// The bounds of one direction's out-of-order queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Bytes queued at most ([`MAX_QUEUED_BYTES`]).
    pub max_queued_bytes: usize,
    /// Segments queued at most ([`MAX_QUEUED_SEGMENTS`]).
    pub max_queued_segments: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_queued_bytes: MAX_QUEUED_BYTES,
            max_queued_segments: MAX_QUEUED_SEGMENTS,
        }
    }
}

/// Counters of reassembly, summed over directions and flows by the tracker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Bytes delivered in order.
    pub bytes_delivered: u64,
    /// Gaps reported.
    pub gaps: u64,
    /// Bytes the gaps covered.
    pub gap_bytes: u64,
    /// Segments that arrived ahead of the next expected byte and were queued.
    pub out_of_order: u64,
    /// Segments whose every byte had been seen already.
    pub retransmissions: u64,
    /// Segments that partly overlapped bytes seen already.
    pub overlaps: u64,
    /// Segments whose overlap with queued bytes differed from them (first seen kept).
    pub conflicts: u64,
    /// Segments dropped as outside any window.
    pub out_of_window: u64,
    /// Times a full queue forced a hole to become a gap.
    pub queue_overflows: u64,
    /// Holes turned into gaps because the peer acknowledged their bytes.
    pub acked_gaps: u64,
    /// Directions picked up without their SYN.
    pub midstream: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Queued {
    start: u64,
    data: Vec<u8>,
}

impl Queued {
    fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }
}

/// One direction of a TCP connection under reassembly.
#[derive(Debug, Clone, Default)]
pub struct HalfStream {
    /// Sequence number of stream offset 0.
    base: u32,
    synced: bool,
    /// The SYN's sequence number, when the SYN was seen.
    isn: Option<u32>,
    /// Stream offset of the next byte to deliver.
    next: u64,
    /// Out-of-order segments: sorted, disjoint, all starting after `next`.
    queue: VecDeque<Queued>,
    queued_bytes: usize,
    /// Stream offset of the FIN (first seen).
    fin: Option<u64>,
    ended: bool,
}

impl HalfStream {
    /// A direction that has seen nothing.
    pub fn new() -> HalfStream {
        HalfStream::default()
    }

    /// Whether a sequence number has been learned (from a SYN or the first data).
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// The initial sequence number, when the SYN was seen.
    pub fn isn(&self) -> Option<u32> {
        self.isn
    }

    /// Whether any byte was delivered, queued or lost.
    pub fn has_data(&self) -> bool {
        self.next > 0 || !self.queue.is_empty()
    }

    /// Whether the direction ended.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Stream offset of the next byte to deliver.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Bytes waiting in the out-of-order queue.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// Heap bytes held: the queue and its segments.
    pub fn heap_bytes(&self) -> usize {
        self.queue.capacity() * size_of::<Queued>()
            + self.queue.iter().map(|q| q.data.capacity()).sum::<usize>()
    }

    /// A SYN (or SYN-ACK) with sequence number `isn`: the stream starts after it. Ignored once
    /// bytes were seen (a late or retransmitted SYN must not move the stream).
    pub fn syn(&mut self, isn: u32) {
        if self.has_data() || self.ended {
            return;
        }
        self.base = isn.wrapping_add(1);
        self.isn = Some(isn);
        self.synced = true;
        self.next = 0;
        self.fin = None;
    }

    /// The stream offset of sequence number `seq`, relative to the next expected byte: the
    /// one place that knows sequence numbers wrap. Negative offsets lie before the stream.
    fn offset_of(&self, seq: u32) -> i64 {
        // `next` modulo 2^32 is what the sequence number of the next byte encodes.
        let expected = self.base.wrapping_add(self.next as u32);
        let diff = i64::from(seq.wrapping_sub(expected) as i32);
        self.next as i64 + diff
    }

    /// How far `seq` lies from the next expected byte (negative: behind it). Meaningful
    /// once synced.
    pub fn distance(&self, seq: u32) -> i64 {
        self.offset_of(seq) - self.next as i64
    }

    /// A segment of this direction: `seq` is the sequence number of `data`'s first byte (for a
    /// SYN carrying data, the SYN's plus one); `fin` when the segment carries FIN.
    pub fn segment(
        &mut self,
        seq: u32,
        data: &[u8],
        fin: bool,
        cfg: &ReassemblyConfig,
        stats: &mut ReassemblyStats,
        sink: &mut dyn StreamSink,
    ) {
        if self.ended {
            if !data.is_empty() {
                stats.retransmissions += 1;
            }
            return;
        }
        if !self.synced {
            if data.is_empty() && !fin {
                return;
            }
            self.base = seq;
            self.synced = true;
            stats.midstream += 1;
        }
        let start = self.offset_of(seq);
        if start - self.next as i64 >= MAX_WINDOW {
            stats.out_of_window += 1;
            return;
        }
        let mut end = start + data.len() as i64;
        if fin && self.fin.is_none() && end >= self.next as i64 {
            self.fin = Some(end as u64);
        }
        let mut data = data;
        if let Some(f) = self.fin {
            // Nothing follows a FIN: bytes past it are not the stream's.
            let f = f as i64;
            if end > f {
                let keep = usize::try_from((f - start).max(0)).unwrap_or(0);
                data = data.get(..keep).unwrap_or_default();
                end = start + data.len() as i64;
            }
        }
        if !data.is_empty() {
            if end <= self.next as i64 {
                stats.retransmissions += 1;
            } else {
                if start < self.next as i64 {
                    stats.overlaps += 1;
                }
                self.count_conflicts(start, data, stats);
                self.insert(start, data, cfg, stats, sink);
            }
        }
        self.check_fin(sink);
    }

    /// The peer acknowledged up to `ack`. When that covers a hole and bytes wait behind it,
    /// the hole becomes a gap (the peer had those bytes; the capture missed them).
    pub fn peer_ack(&mut self, ack: u32, stats: &mut ReassemblyStats, sink: &mut dyn StreamSink) {
        let Some(first) = self.queue.front().map(|q| q.start) else {
            return;
        };
        if !self.synced || self.ended {
            return;
        }
        let acked = self.offset_of(ack);
        let next = self.next as i64;
        if acked <= next || acked - next >= MAX_WINDOW {
            return;
        }
        let upto = (acked as u64).min(first);
        stats.acked_gaps += 1;
        self.gap_to(upto, stats, sink);
        self.drain(stats, sink);
        self.check_fin(sink);
    }

    /// Ends the direction (flow end, reset, eviction): every queued byte is delivered, each
    /// hole before it as a gap, a hole before a seen FIN too, then the sink's end.
    pub fn finish(&mut self, stats: &mut ReassemblyStats, sink: &mut dyn StreamSink) {
        if self.ended {
            return;
        }
        while let Some(first) = self.queue.front().map(|q| q.start) {
            self.gap_to(first, stats, sink);
            self.drain(stats, sink);
        }
        if let Some(f) = self.fin {
            self.gap_to(f, stats, sink);
        }
        self.ended = true;
        sink.end();
    }

    fn check_fin(&mut self, sink: &mut dyn StreamSink) {
        if !self.ended && self.fin.is_some_and(|f| self.next >= f) {
            self.ended = true;
            sink.end();
        }
    }

    /// Counts a segment whose bytes differ from queued bytes at the same offsets.
    fn count_conflicts(&self, start: i64, data: &[u8], stats: &mut ReassemblyStats) {
        let end = start + data.len() as i64;
        for q in &self.queue {
            let (qs, qe) = (q.start as i64, q.end() as i64);
            if qs >= end {
                break;
            }
            let (lo, hi) = (start.max(qs), end.min(qe));
            if lo >= hi {
                continue;
            }
            let ours = data.get(to_usize(lo - start)..to_usize(hi - start));
            let theirs = q.data.get(to_usize(lo - qs)..to_usize(hi - qs));
            if ours != theirs {
                stats.conflicts += 1;
                return;
            }
        }
    }

    /// Places bytes `[start, start + data.len())` (which end after `next`): delivered when
    /// they are next, queued otherwise; a full queue turns its first hole into a gap.
    fn insert(
        &mut self,
        mut start: i64,
        mut data: &[u8],
        cfg: &ReassemblyConfig,
        stats: &mut ReassemblyStats,
        sink: &mut dyn StreamSink,
    ) {
        loop {
            let next = self.next as i64;
            if start < next {
                // First seen wins: the delivered bytes stay, only what follows is new.
                data = data.get(to_usize(next - start)..).unwrap_or_default();
                start = next;
            }
            if data.is_empty() {
                return;
            }
            if start == next {
                // Deliver up to the first queued segment; its bytes were seen first.
                let room = self
                    .queue
                    .front()
                    .map_or(data.len(), |q| to_usize(q.start as i64 - next));
                let (now, rest) = data.split_at(room.min(data.len()));
                self.deliver(now, stats, sink);
                self.drain(stats, sink);
                start = next + now.len() as i64;
                data = rest;
                // `rest` overlapped the queue: go round to trim it against what was drained.
                continue;
            }
            match self.enqueue(start as u64, data, cfg) {
                Ok(true) => {
                    stats.out_of_order += 1;
                    return;
                }
                Ok(false) => {
                    stats.retransmissions += 1;
                    return;
                }
                Err(()) => {
                    stats.queue_overflows += 1;
                    let first = self.queue.front().map_or(start as u64, |q| q.start);
                    self.gap_to(first, stats, sink);
                    self.drain(stats, sink);
                }
            }
        }
    }

    /// Queues the parts of `[start, start + data.len())` not queued yet, if they fit;
    /// `Ok(false)` when every byte was queued already.
    fn enqueue(&mut self, start: u64, data: &[u8], cfg: &ReassemblyConfig) -> Result<bool, ()> {
        let end = start + data.len() as u64;
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        let mut cur = start;
        for q in &self.queue {
            if q.start >= end {
                break;
            }
            if q.end() <= cur {
                continue;
            }
            if q.start > cur {
                pieces.push((cur, q.start));
            }
            cur = cur.max(q.end());
        }
        if cur < end {
            pieces.push((cur, end));
        }
        let bytes: u64 = pieces.iter().map(|(a, b)| b - a).sum();
        if pieces.is_empty() {
            return Ok(false);
        }
        if self.queue.len() + pieces.len() > cfg.max_queued_segments
            || self.queued_bytes as u64 + bytes > cfg.max_queued_bytes as u64
        {
            return Err(());
        }
        // Memory first, all of it, with fallible allocation: a refused allocation is an
        // overflow like any other (counted; the bytes are lost as a gap), never an abort.
        self.queue.try_reserve(pieces.len()).map_err(|_| ())?;
        let mut copies = Vec::new();
        copies.try_reserve_exact(pieces.len()).map_err(|_| ())?;
        for &(a, b) in &pieces {
            let piece = data
                .get(to_usize((a - start) as i64)..to_usize((b - start) as i64))
                .unwrap_or_default();
            let mut copy = Vec::new();
            copy.try_reserve_exact(piece.len()).map_err(|_| ())?;
            copy.extend_from_slice(piece);
            copies.push((a, copy));
        }
        for (a, data) in copies {
            let at = self.queue.partition_point(|q| q.start < a);
            self.queued_bytes += data.len();
            self.queue.insert(at, Queued { start: a, data });
        }
        Ok(true)
    }

    fn deliver(&mut self, data: &[u8], stats: &mut ReassemblyStats, sink: &mut dyn StreamSink) {
        if data.is_empty() {
            return;
        }
        self.next += data.len() as u64;
        stats.bytes_delivered += data.len() as u64;
        sink.data(data);
    }

    /// Reports the bytes up to offset `to` as lost.
    fn gap_to(&mut self, to: u64, stats: &mut ReassemblyStats, sink: &mut dyn StreamSink) {
        if to > self.next {
            let len = to - self.next;
            self.next = to;
            stats.gaps += 1;
            stats.gap_bytes += len;
            sink.gap(len);
        }
    }

    /// Delivers queued segments that have become next.
    fn drain(&mut self, stats: &mut ReassemblyStats, sink: &mut dyn StreamSink) {
        while self.queue.front().is_some_and(|q| q.start <= self.next) {
            let Some(q) = self.queue.pop_front() else {
                break;
            };
            self.queued_bytes -= q.data.len();
            let skip = to_usize((self.next - q.start) as i64);
            if let Some(rest) = q.data.get(skip..) {
                self.deliver(rest, stats, sink);
            }
        }
    }
}

/// A non-negative in-stream distance as an index (distances here are below 2^31).
fn to_usize(v: i64) -> usize {
    usize::try_from(v).unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Eq)]
    enum Ev {
        #[default]
        None,
        Data(Vec<u8>),
        Gap(u64),
        End,
    }

    #[derive(Default)]
    struct Rec(Vec<Ev>);

    impl StreamSink for Rec {
        fn data(&mut self, bytes: &[u8]) {
            // Adjacent data merges: the assertions are about bytes, not their chunking.
            if let Some(Ev::Data(d)) = self.0.last_mut() {
                d.extend_from_slice(bytes);
            } else {
                self.0.push(Ev::Data(bytes.to_vec()));
            }
        }
        fn gap(&mut self, len: u64) {
            self.0.push(Ev::Gap(len));
        }
        fn end(&mut self) {
            self.0.push(Ev::End);
        }
    }

    struct T {
        h: HalfStream,
        cfg: ReassemblyConfig,
        st: ReassemblyStats,
        rec: Rec,
    }

    impl T {
        fn new(isn: Option<u32>) -> T {
            let mut h = HalfStream::new();
            if let Some(i) = isn {
                h.syn(i);
            }
            T {
                h,
                cfg: ReassemblyConfig::default(),
                st: ReassemblyStats::default(),
                rec: Rec::default(),
            }
        }
        fn seg(&mut self, seq: u32, data: &[u8]) {
            self.h
                .segment(seq, data, false, &self.cfg, &mut self.st, &mut self.rec);
        }
        fn fin(&mut self, seq: u32, data: &[u8]) {
            self.h
                .segment(seq, data, true, &self.cfg, &mut self.st, &mut self.rec);
        }
        fn finish(&mut self) {
            self.h.finish(&mut self.st, &mut self.rec);
        }
        fn events(&self) -> &[Ev] {
            &self.rec.0
        }
    }

    fn data(b: &[u8]) -> Ev {
        Ev::Data(b.to_vec())
    }

    #[test]
    fn in_order_is_delivered_at_once() {
        let mut t = T::new(Some(1000));
        t.seg(1001, b"hello ");
        assert_eq!(t.events(), [data(b"hello ")]);
        t.seg(1007, b"world");
        t.fin(1012, b"");
        assert_eq!(t.events(), [data(b"hello world"), Ev::End]);
        assert!(t.h.is_ended());
        assert_eq!(t.st.bytes_delivered, 11);
    }

    #[test]
    fn out_of_order_waits_for_the_hole() {
        let mut t = T::new(Some(0));
        t.seg(7, b"world");
        t.seg(12, b"!");
        assert!(t.events().is_empty());
        assert_eq!(t.h.queued_bytes(), 6);
        t.seg(1, b"hello ");
        assert_eq!(t.events(), [data(b"hello world!")]);
        assert_eq!(t.h.queued_bytes(), 0);
        assert_eq!(t.st.out_of_order, 2);
        assert!(t.h.heap_bytes() > 0, "the queue keeps its capacity");
    }

    #[test]
    fn duplicates_are_dropped() {
        let mut t = T::new(Some(0));
        t.seg(1, b"abc");
        t.seg(1, b"abc");
        t.seg(6, b"fg");
        t.seg(6, b"fg");
        t.seg(4, b"de");
        assert_eq!(t.events(), [data(b"abcdefg")]);
        assert_eq!(t.st.retransmissions, 2);
    }

    #[test]
    fn conflicting_retransmission_first_seen_wins() {
        // Delivered bytes are never replaced.
        let mut t = T::new(Some(0));
        t.seg(1, b"GET /index");
        t.seg(1, b"GET /lates");
        t.seg(11, b".html");
        assert_eq!(t.events(), [data(b"GET /index.html")]);
        // Queued bytes are not replaced either, and the conflict is counted.
        let mut t = T::new(Some(0));
        t.seg(5, b"/ind");
        t.seg(3, b"T /lat");
        t.seg(1, b"GE");
        assert_eq!(t.events(), [data(b"GET /ind")]);
        assert_eq!(t.st.conflicts, 1);
        // An in-order segment that overlaps queued bytes keeps the queued ones.
        let mut t = T::new(Some(0));
        t.seg(4, b"XYZ");
        t.seg(1, b"abcdefghi");
        assert_eq!(t.events(), [data(b"abcXYZghi")]);
        assert_eq!(t.st.conflicts, 1);
    }

    #[test]
    fn partial_overlaps_add_only_new_bytes() {
        let mut t = T::new(Some(0));
        t.seg(1, b"abcd");
        t.seg(3, b"cdef");
        assert_eq!(t.events(), [data(b"abcdef")]);
        assert_eq!(t.st.overlaps, 1);
        // A segment spanning two queued ones fills only the space between them.
        let mut t = T::new(Some(0));
        t.seg(3, b"c");
        t.seg(6, b"f");
        t.seg(2, b"BCDEFG");
        t.seg(1, b"a");
        assert_eq!(t.events(), [data(b"aBcDEfG")]);
    }

    #[test]
    fn sequence_wraparound() {
        let isn = u32::MAX - 5;
        let mut t = T::new(Some(isn));
        let s = isn.wrapping_add(1);
        t.seg(s.wrapping_add(8), b"IJKL"); // after the wrap, out of order
        t.seg(s, b"ABCD"); // before the wrap
        t.seg(s.wrapping_add(4), b"EFGH"); // across it
                                           // A retransmission from before the wrap is recognised as old after it.
        t.seg(s, b"zzzz");
        assert_eq!(t.st.retransmissions, 1);
        t.fin(s.wrapping_add(12), b"");
        assert_eq!(t.events(), [data(b"ABCDEFGHIJKL"), Ev::End]);
    }

    #[test]
    fn missing_syn_picks_up_mid_stream() {
        let mut t = T::new(None);
        t.seg(0x8000_0000, b"HTTP/1.1 200 OK\r\n");
        t.seg(0x8000_0011, b"\r\n");
        assert_eq!(t.events(), [data(b"HTTP/1.1 200 OK\r\n\r\n")]);
        assert_eq!(t.st.midstream, 1);
        assert!(t.h.isn().is_none());
    }

    #[test]
    fn hole_becomes_a_gap_at_the_end() {
        let mut t = T::new(Some(0));
        t.seg(1, b"ab");
        t.seg(6, b"fg");
        t.fin(8, b"h");
        assert_eq!(t.events(), [data(b"ab")]);
        t.finish();
        assert_eq!(t.events(), [data(b"ab"), Ev::Gap(3), data(b"fgh"), Ev::End]);
        assert_eq!((t.st.gaps, t.st.gap_bytes), (1, 3));
    }

    #[test]
    fn missing_tail_before_fin_is_a_gap() {
        let mut t = T::new(Some(0));
        t.seg(1, b"ab");
        t.fin(10, b"");
        assert!(!t.h.is_ended());
        t.finish();
        assert_eq!(t.events(), [data(b"ab"), Ev::Gap(7), Ev::End]);
    }

    #[test]
    fn queue_overflow_skips_the_hole() {
        let mut t = T::new(Some(0));
        t.cfg = ReassemblyConfig {
            max_queued_bytes: 10,
            max_queued_segments: 3,
        };
        t.seg(1, b"a");
        // Hole at offset 1; segments at offsets 2, 4, 6 fill the segment cap.
        t.seg(3, b"c");
        t.seg(5, b"e");
        t.seg(7, b"g");
        assert_eq!(t.events(), [data(b"a")]);
        t.seg(9, b"i");
        assert_eq!(
            t.events(),
            [data(b"a"), Ev::Gap(1), data(b"c")],
            "the first hole is given up; the next one still waits"
        );
        assert_eq!(t.st.queue_overflows, 1);
        // The byte cap works the same way.
        let mut t = T::new(Some(0));
        t.cfg.max_queued_bytes = 4;
        t.seg(3, b"cd");
        t.seg(6, b"fghij");
        // A segment larger than the whole queue is not queued: the hole before it is lost.
        assert_eq!(
            t.events(),
            [Ev::Gap(2), data(b"cd"), Ev::Gap(1), data(b"fghij")]
        );
        assert_eq!(t.h.queued_bytes(), 0);
    }

    #[test]
    fn ack_of_a_hole_turns_it_into_a_gap() {
        let mut t = T::new(Some(0));
        t.seg(1, b"ab");
        t.seg(6, b"fg");
        let mut st = ReassemblyStats::default();
        t.h.peer_ack(4, &mut st, &mut t.rec); // acks part of the hole
        assert_eq!(t.events(), [data(b"ab"), Ev::Gap(1)]);
        t.h.peer_ack(100, &mut st, &mut t.rec);
        assert_eq!(
            t.events(),
            [data(b"ab"), Ev::Gap(1), Ev::Gap(2), data(b"fg")]
        );
        assert_eq!(st.acked_gaps, 2);
    }

    #[test]
    fn far_segments_and_data_after_fin_are_ignored() {
        let mut t = T::new(Some(0));
        t.seg(1 + (1 << 30), b"x");
        assert_eq!(t.st.out_of_window, 1);
        t.fin(1, b"ab");
        t.seg(3, b"cd");
        assert_eq!(t.events(), [data(b"ab"), Ev::End]);
        t.finish();
        assert_eq!(t.events(), [data(b"ab"), Ev::End]);
    }

    #[test]
    fn late_syn_does_not_move_the_stream() {
        let mut t = T::new(None);
        t.seg(500, b"abc");
        t.h.syn(10);
        t.seg(503, b"d");
        assert_eq!(t.events(), [data(b"abcd")]);
    }

    #[test]
    fn any_arrival_order_gives_the_same_bytes() {
        // Every permutation of five segments (with one duplicate) reassembles the same.
        let msg = b"GET /latest/meta-data/ HTTP/1.1\r\n\r\n";
        let cuts = [0usize, 4, 11, 22, 30, msg.len()];
        let segs: Vec<(u32, &[u8])> = cuts
            .windows(2)
            .map(|w| (w[0] as u32 + 1, &msg[w[0]..w[1]]))
            .collect();
        let mut order: Vec<usize> = (0..segs.len()).collect();
        let mut count = 0;
        permute(&mut order, 0, &mut |o| {
            let mut t = T::new(Some(0));
            for &i in o {
                t.seg(segs[i].0, segs[i].1);
                t.seg(segs[i].0, segs[i].1);
            }
            assert_eq!(t.events(), [data(msg)], "order {o:?}");
            count += 1;
        });
        assert_eq!(count, 120);
    }

    fn permute(v: &mut Vec<usize>, k: usize, f: &mut dyn FnMut(&[usize])) {
        if k == v.len() {
            f(v);
            return;
        }
        for i in k..v.len() {
            v.swap(k, i);
            permute(v, k + 1, f);
            v.swap(k, i);
        }
    }
}
