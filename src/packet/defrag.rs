//! Bounded IPv4 / IPv6 defragmentation.
//!
//! TCP rarely travels in IP fragments (path MTU discovery sets DF), which is exactly why
//! fragmentation is a classic way to slip a request past a monitor that only looks at whole
//! packets. Fragments are collected per datagram (addresses, identification, protocol, VLAN
//! tags) and the reassembled payload is handed back once every byte up to the last fragment
//! is there.
//!
//! - **Overlaps: the first bytes seen win**, as in TCP reassembly (see
//!   [`reassembly`](super::reassembly)); a fragment that rewrites bytes already held is
//!   counted. The first "last fragment" fixes the datagram's length.
//! - **Bounds**: datagrams pending at once, total buffered bytes, fragments per datagram,
//!   and a timeout (30 s, Linux's `ipfrag_time`). Past a bound the oldest pending datagram is
//!   dropped and counted; a datagram past 65535 bytes is dropped as invalid.

use super::decode::Fragment;
use crate::key::Vlans;
use std::collections::HashMap;
use std::net::IpAddr;

/// Largest reassembled payload: the 16-bit IP length fields allow no more.
const MAX_DATAGRAM: u32 = 65_535;

/// Bounds of the defragmenter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefragConfig {
    /// Datagrams pending at once.
    pub max_datagrams: usize,
    /// Bytes buffered over all pending datagrams.
    pub max_bytes: usize,
    /// Fragments held per datagram.
    pub max_fragments: usize,
    /// A datagram not completed this long after its first fragment is dropped.
    pub timeout_us: u64,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            max_datagrams: 1024,
            max_bytes: 4 << 20,
            max_fragments: 64,
            timeout_us: 30_000_000,
        }
    }
}

/// Counters of the defragmenter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefragStats {
    /// Fragments taken in.
    pub fragments: u64,
    /// Datagrams completed.
    pub reassembled: u64,
    /// Pending datagrams dropped when their time ran out.
    pub timed_out: u64,
    /// Pending datagrams dropped to stay within a bound.
    pub evicted: u64,
    /// Fragments that overlapped bytes held already with different bytes.
    pub conflicts: u64,
    /// Datagrams dropped as impossible (longer than 65535 bytes, too many fragments).
    pub invalid: u64,
}

/// What identifies the fragments of one datagram (RFC 791 §3.2, RFC 8200 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Identification.
    pub id: u32,
    /// IPv4 protocol / the IPv6 fragment header's next header.
    pub next_header: u8,
    /// VLAN tags of the frames.
    pub vlans: Vlans,
}

#[derive(Debug)]
struct Pending {
    buf: Vec<u8>,
    /// Byte ranges held: sorted, disjoint, not adjacent.
    held: Vec<(u32, u32)>,
    total: Option<u32>,
    fragments: usize,
    first_us: u64,
}

impl Pending {
    fn is_complete(&self) -> bool {
        matches!((self.total, self.held.as_slice()), (Some(t), [(0, e)]) if *e == t)
    }
}

/// Pending datagrams.
#[derive(Debug, Default)]
pub struct Defragmenter {
    config: DefragConfig,
    table: HashMap<FragmentKey, Pending>,
    bytes: usize,
    last_expiry_us: u64,
    stats: DefragStats,
}

impl Defragmenter {
    /// An empty defragmenter with these bounds.
    pub fn new(config: DefragConfig) -> Defragmenter {
        Defragmenter {
            config,
            ..Defragmenter::default()
        }
    }

    /// The counters.
    pub fn stats(&self) -> DefragStats {
        self.stats
    }

    /// Bytes buffered.
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Datagrams pending.
    pub fn pending(&self) -> usize {
        self.table.len()
    }

    /// Takes one fragment (`data`: the bytes after the IP header, or after the IPv6 fragment
    /// header). Returns the whole payload once the datagram is complete.
    pub fn push(
        &mut self,
        key: FragmentKey,
        frag: Fragment,
        data: &[u8],
        now_us: u64,
    ) -> Option<Vec<u8>> {
        self.stats.fragments += 1;
        self.expire(now_us);
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let end = frag.offset.saturating_add(len);
        if end > MAX_DATAGRAM {
            self.drop_datagram(&key);
            self.stats.invalid += 1;
            return None;
        }
        if !self.table.contains_key(&key) {
            while self.table.len() >= self.config.max_datagrams.max(1) {
                self.evict_oldest();
            }
            self.table.insert(
                key,
                Pending {
                    buf: Vec::new(),
                    held: Vec::new(),
                    total: None,
                    fragments: 0,
                    first_us: now_us,
                },
            );
        }
        // Room for the buffer's growth, made before borrowing the entry.
        let grow = self.table.get(&key).map_or(0, |p| {
            usize::try_from(end)
                .unwrap_or(usize::MAX)
                .saturating_sub(p.buf.len())
        });
        while self.bytes + grow > self.config.max_bytes && self.table.len() > 1 {
            self.evict_oldest_except(&key);
        }
        if self.bytes + grow > self.config.max_bytes {
            self.drop_datagram(&key);
            self.stats.evicted += 1;
            return None;
        }
        let max_fragments = self.config.max_fragments;
        let p = self.table.get_mut(&key)?;
        p.fragments += 1;
        if p.fragments > max_fragments {
            self.drop_datagram(&key);
            self.stats.invalid += 1;
            return None;
        }
        let before = p.buf.capacity();
        if !frag.more && p.total.is_none() {
            p.total = Some(end);
        }
        let total = p.total.unwrap_or(MAX_DATAGRAM);
        let end = end.min(total);
        if frag.offset < end && overlay(p, frag.offset, end, data) {
            self.stats.conflicts += 1;
        }
        self.bytes = self.bytes + p.buf.capacity() - before;
        if p.is_complete() {
            let done = self.table.remove(&key)?;
            self.bytes -= done.buf.capacity();
            self.stats.reassembled += 1;
            let mut buf = done.buf;
            buf.truncate(usize::try_from(done.total.unwrap_or(0)).unwrap_or(0));
            return Some(buf);
        }
        None
    }

    /// Drops datagrams whose time ran out (checked at most once a second of packet time).
    pub fn expire(&mut self, now_us: u64) {
        if now_us < self.last_expiry_us.saturating_add(1_000_000) {
            return;
        }
        self.last_expiry_us = now_us;
        let timeout = self.config.timeout_us;
        let mut freed = 0;
        let mut timed_out = 0;
        self.table.retain(|_, p| {
            let keep = now_us.saturating_sub(p.first_us) < timeout;
            if !keep {
                freed += p.buf.capacity();
                timed_out += 1;
            }
            keep
        });
        self.bytes -= freed;
        self.stats.timed_out += timed_out;
    }

    fn drop_datagram(&mut self, key: &FragmentKey) {
        if let Some(p) = self.table.remove(key) {
            self.bytes -= p.buf.capacity();
        }
    }

    fn evict_oldest(&mut self) {
        let oldest = self.table.iter().min_by_key(|(_, p)| p.first_us);
        if let Some((&k, _)) = oldest {
            self.drop_datagram(&k);
            self.stats.evicted += 1;
        }
    }

    fn evict_oldest_except(&mut self, keep: &FragmentKey) {
        let oldest = self
            .table
            .iter()
            .filter(|(k, _)| *k != keep)
            .min_by_key(|(_, p)| p.first_us);
        if let Some((&k, _)) = oldest {
            self.drop_datagram(&k);
            self.stats.evicted += 1;
        }
    }
}

/// Copies the bytes of `[start, end)` not held yet into the buffer; returns whether a held
/// byte differed from the fragment's (a conflicting overlap).
fn overlay(p: &mut Pending, start: u32, end: u32, data: &[u8]) -> bool {
    let at = |v: u32| usize::try_from(v).unwrap_or(usize::MAX);
    if p.buf.len() < at(end) {
        // Exactly: the byte bound counts capacity, and doubling would overshoot it.
        p.buf.reserve_exact(at(end) - p.buf.len());
        p.buf.resize(at(end), 0);
    }
    let mut conflict = false;
    let mut cur = start;
    let mut gaps = Vec::new();
    for &(a, b) in &p.held {
        if a >= end {
            break;
        }
        if b <= cur {
            continue;
        }
        if a > cur {
            gaps.push((cur, a));
        }
        let (lo, hi) = (cur.max(a), end.min(b));
        if lo < hi {
            let old = p.buf.get(at(lo)..at(hi));
            let new = data.get(at(lo - start)..at(hi - start));
            conflict |= old != new;
        }
        cur = cur.max(b);
    }
    if cur < end {
        gaps.push((cur, end));
    }
    for (a, b) in gaps {
        if let (Some(dst), Some(src)) = (
            p.buf.get_mut(at(a)..at(b)),
            data.get(at(a - start)..at(b - start)),
        ) {
            dst.copy_from_slice(src);
        }
        p.held.push((a, b));
    }
    // Merge into sorted, disjoint, non-adjacent ranges.
    p.held.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(p.held.len());
    for &(a, b) in &p.held {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    p.held = merged;
    conflict
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn key(id: u32) -> FragmentKey {
        FragmentKey {
            src: "10.0.0.1".parse().unwrap(),
            dst: "169.254.169.254".parse().unwrap(),
            id,
            next_header: 6,
            vlans: Vlans::NONE,
        }
    }

    fn frag(offset: u32, more: bool) -> Fragment {
        Fragment {
            id: 1,
            offset,
            more,
            next_header: 6,
        }
    }

    #[test]
    fn reassembles_in_any_order() {
        let whole: Vec<u8> = (0..40u8).collect();
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
            let mut d = Defragmenter::new(DefragConfig::default());
            let mut out = None;
            for i in order {
                let off = i * 16;
                let end = (off + 16).min(40);
                out = d.push(key(1), frag(off as u32, i != 2), &whole[off..end], 0);
            }
            assert_eq!(out.as_deref(), Some(&whole[..]), "order {order:?}");
            assert_eq!((d.pending(), d.buffered_bytes()), (0, 0));
        }
    }

    #[test]
    fn first_bytes_win_and_conflicts_count() {
        let mut d = Defragmenter::new(DefragConfig::default());
        assert!(d.push(key(1), frag(0, true), b"GET /ind", 0).is_none());
        assert!(d.push(key(1), frag(0, true), b"GET /lat", 0).is_none());
        let out = d.push(key(1), frag(8, false), b"ex", 0);
        assert_eq!(out.as_deref(), Some(&b"GET /index"[..]));
        assert_eq!(d.stats().conflicts, 1);
    }

    #[test]
    fn bounds_and_timeouts() {
        let cfg = DefragConfig {
            max_datagrams: 2,
            max_bytes: 64,
            max_fragments: 3,
            timeout_us: 1_000_000,
        };
        let mut d = Defragmenter::new(cfg);
        d.push(key(1), frag(0, true), &[0; 8], 0);
        d.push(key(2), frag(0, true), &[0; 8], 1);
        d.push(key(3), frag(0, true), &[0; 8], 2);
        assert_eq!((d.pending(), d.stats().evicted), (2, 1));
        // Past the byte bound: the others go first, then the datagram itself.
        d.push(key(3), frag(8, true), &[0; 56], 3);
        assert_eq!(d.pending(), 1);
        assert!(d.buffered_bytes() <= 64);
        d.push(key(3), frag(200, true), &[0; 8], 4);
        assert_eq!(d.pending(), 0);
        // Too long a datagram, too many fragments.
        d.push(key(4), frag(65_530, false), &[0; 8], 5);
        for i in 0..4 {
            d.push(key(5), frag(i * 8, true), &[0; 8], 6);
        }
        assert_eq!(d.stats().invalid, 2);
        // Time.
        d.push(key(6), frag(0, true), &[0; 8], 10);
        d.expire(2_000_000);
        assert_eq!((d.pending(), d.stats().timed_out), (0, 1));
        assert_eq!(d.buffered_bytes(), 0);
    }
}
