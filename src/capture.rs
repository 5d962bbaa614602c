//! Capture files (pcap and pcapng, any endianness, micro- or nanosecond timestamps) read as a
//! stream of frames, with rusticata's `pcap-parser`.
//!
//! Frames are handed to a callback while they sit in the reader's buffer (no copy). A
//! truncated or corrupt file is an error that says at which byte offset reading stopped;
//! the frames before it have been handed over already.

#![forbid(unsafe_code)]

use pcap_parser::pcapng::Block;
use pcap_parser::{create_reader, PcapBlockOwned, PcapError};
use std::fmt;
use std::io::Read;

/// One captured frame.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The link type of its interface, as a pcap `LINKTYPE_*` number.
    pub linktype: u32,
    /// Capture time, microseconds since the Unix epoch.
    pub ts_us: u64,
    /// The captured bytes (possibly cut at the snap length).
    pub data: &'a [u8],
    /// Byte offset of the frame's record in the file.
    pub offset: u64,
}

/// Why a capture could not be read (to the end).
#[derive(Debug)]
pub enum CaptureError {
    /// The input is neither pcap nor pcapng.
    NotACapture,
    /// The input ended inside a record.
    Truncated {
        /// Offset of the incomplete record.
        offset: u64,
    },
    /// A record could not be parsed.
    Corrupt {
        /// Offset of the record.
        offset: u64,
        /// What was wrong.
        detail: String,
    },
    /// A packet refers to an interface the file never described.
    UnknownInterface {
        /// Offset of the record.
        offset: u64,
        /// The interface id.
        interface: u32,
    },
    /// Reading failed.
    Read {
        /// Offset reached.
        offset: u64,
    },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::NotACapture => write!(f, "not a pcap or pcapng capture"),
            CaptureError::Truncated { offset } => {
                write!(f, "capture truncated: incomplete record at byte offset {offset}")
            }
            CaptureError::Corrupt { offset, detail } => {
                write!(f, "capture corrupt at byte offset {offset}: {detail}")
            }
            CaptureError::UnknownInterface { offset, interface } => write!(
                f,
                "capture corrupt at byte offset {offset}: packet on undescribed interface {interface}"
            ),
            CaptureError::Read { offset } => write!(f, "read error at byte offset {offset}"),
        }
    }
}

impl std::error::Error for CaptureError {}

/// An interface of a pcapng section.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    ts_offset: u64,
    /// Ticks per second.
    resolution: u64,
}

/// Records of a capture are at most this big (jumbo frames, pcapng options); the reader's
/// buffer grows up to it and no further.
const MAX_RECORD: usize = 16 << 20;

/// Reads every frame of a capture and hands it to `on_frame`. Returns the number of bytes
/// read. On error, the frames before the failing record were handed over.
pub fn read_frames(
    input: impl Read,
    mut on_frame: impl FnMut(Frame<'_>),
) -> Result<u64, CaptureError> {
    let mut capacity = 1 << 16;
    let mut reader = match create_reader(capacity, input) {
        Ok(r) => r,
        Err(PcapError::Eof) | Err(PcapError::HeaderNotRecognized) => {
            return Err(CaptureError::NotACapture)
        }
        Err(PcapError::Incomplete(_)) => return Err(CaptureError::Truncated { offset: 0 }),
        Err(_) => return Err(CaptureError::NotACapture),
    };
    let mut legacy: Option<(u32, bool)> = None;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut last_ts = 0u64;
    loop {
        let offset = reader.consumed() as u64;
        match reader.next() {
            Ok((len, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        // 0xa1b23c4d (or swapped) marks nanosecond timestamps.
                        let nanos = matches!(h.magic_number, 0xa1b2_3c4d | 0x4d3c_b2a1);
                        legacy = Some((u32::from(h.network.0 as u16), nanos));
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let (linktype, nanos) = legacy.unwrap_or((1, false));
                        let frac = if nanos {
                            u64::from(b.ts_usec) / 1000
                        } else {
                            u64::from(b.ts_usec)
                        };
                        last_ts = u64::from(b.ts_sec) * 1_000_000 + frac;
                        on_frame(Frame {
                            linktype,
                            ts_us: last_ts,
                            data: b.data,
                            offset,
                        });
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(Interface {
                            linktype: u32::from(idb.linktype.0 as u16),
                            ts_offset: idb.if_tsoffset as u64,
                            resolution: idb.ts_resolution().unwrap_or(1_000_000),
                        });
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let Some(iface) = interfaces.get(epb.if_id as usize).copied() else {
                            return Err(CaptureError::UnknownInterface {
                                offset,
                                interface: epb.if_id,
                            });
                        };
                        let (sec, frac) = epb.decode_ts(iface.ts_offset, iface.resolution);
                        let micros = if iface.resolution >= 1_000_000 {
                            u64::from(frac) / (iface.resolution / 1_000_000).max(1)
                        } else {
                            u64::from(frac) * (1_000_000 / iface.resolution.max(1))
                        };
                        last_ts = u64::from(sec) * 1_000_000 + micros;
                        let data = epb.data.get(..epb.caplen as usize).unwrap_or(epb.data);
                        on_frame(Frame {
                            linktype: iface.linktype,
                            ts_us: last_ts,
                            data,
                            offset,
                        });
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        // No timestamp in a simple packet block: it takes the last one seen.
                        let linktype = interfaces.first().map_or(1, |i| i.linktype);
                        on_frame(Frame {
                            linktype,
                            ts_us: last_ts,
                            data: spb.data,
                            offset,
                        });
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(len);
            }
            Err(PcapError::Eof) => return Ok(offset),
            Err(PcapError::Incomplete(_)) => {
                if reader.reader_exhausted() {
                    return Err(CaptureError::Truncated { offset });
                }
                if reader.refill().is_err() {
                    return Err(CaptureError::Read { offset });
                }
            }
            Err(PcapError::BufferTooSmall) => {
                if capacity >= MAX_RECORD || !reader.grow(capacity * 2) {
                    return Err(CaptureError::Corrupt {
                        offset,
                        detail: format!("record larger than {MAX_RECORD} bytes"),
                    });
                }
                capacity *= 2;
            }
            Err(PcapError::UnexpectedEof) => return Err(CaptureError::Truncated { offset }),
            Err(PcapError::ReadError) => return Err(CaptureError::Read { offset }),
            Err(e) => {
                return Err(CaptureError::Corrupt {
                    offset,
                    detail: format!("{e:?}").chars().take(120).collect(),
                })
            }
        }
    }
}

/// Whether the first bytes of an input look like a pcap or pcapng capture.
pub fn looks_like_capture(head: &[u8]) -> bool {
    matches!(
        head.get(..4),
        Some([0x0a, 0x0d, 0x0d, 0x0a])
            | Some([0xd4, 0xc3, 0xb2, 0xa1])
            | Some([0xa1, 0xb2, 0xc3, 0xd4])
            | Some([0x4d, 0x3c, 0xb2, 0xa1])
            | Some([0xa1, 0xb2, 0x3c, 0x4d])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian microsecond pcap with the given frames (linktype 1).
    fn pcap(frames: &[(&[u8], u32, u32)]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&0i32.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        for (data, sec, usec) in frames {
            v.extend_from_slice(&sec.to_le_bytes());
            v.extend_from_slice(&usec.to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(data);
        }
        v
    }

    #[test]
    fn frames_and_timestamps() {
        let file = pcap(&[(b"abc", 10, 5), (b"defg", 11, 0)]);
        let mut got = Vec::new();
        let n = read_frames(&file[..], |f| {
            got.push((f.linktype, f.ts_us, f.data.to_vec(), f.offset))
        })
        .expect("readable");
        assert_eq!(n, file.len() as u64);
        assert_eq!(got[0], (1, 10_000_005, b"abc".to_vec(), 24));
        assert_eq!(got[1], (1, 11_000_000, b"defg".to_vec(), 24 + 16 + 3));
    }

    #[test]
    fn truncation_is_reported_with_its_offset_after_the_good_frames() {
        let file = pcap(&[(b"abc", 10, 5), (b"defg", 11, 0)]);
        for cut in 25..file.len() {
            let mut seen = 0;
            let r = read_frames(&file[..cut], |_| seen += 1);
            if cut < 24 + 16 + 3 {
                assert!(
                    matches!(r, Err(CaptureError::Truncated { offset: 24 })),
                    "{cut}: {r:?}"
                );
                assert_eq!(seen, 0);
            } else if cut == 43 {
                // A cut on a record boundary is a complete, shorter capture.
                assert!(matches!(r, Ok(43)), "{cut}: {r:?}");
                assert_eq!(seen, 1);
            } else {
                assert!(
                    matches!(r, Err(CaptureError::Truncated { offset: 43 })),
                    "{cut}: {r:?}"
                );
                assert_eq!(seen, 1);
            }
        }
    }

    #[test]
    fn not_a_capture() {
        assert!(matches!(
            read_frames(&b">>>\nGET / HTTP/1.1\r\n"[..], |_| {}),
            Err(CaptureError::NotACapture)
        ));
        assert!(matches!(
            read_frames(&b""[..], |_| {}),
            Err(CaptureError::NotACapture)
        ));
        assert!(looks_like_capture(&pcap(&[])));
        assert!(!looks_like_capture(b">>>\n"));
    }
}
