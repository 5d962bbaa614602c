//! Byte classes of RFC 9110 / RFC 9112, as lookup tables (the httparse way: one load per byte).

/// `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|"
/// / "~" / DIGIT / ALPHA` (RFC 9110 §5.6.2): the bytes of a method or a header name.
// Indexing a 256-entry table with a byte, and filling it in a `const` loop bounded by its
// length, cannot go out of bounds.
#[allow(clippy::indexing_slicing)]
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    t
};

/// Whether `b` is a `tchar`.
#[inline]
#[allow(clippy::indexing_slicing)] // a u8 indexes a 256-entry table
pub fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Whether every byte of `s` is a `tchar` and `s` is not empty (`token = 1*tchar`).
#[inline]
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Whitespace inside a start line or around a header value: SP and HTAB (RFC 9110 §5.6.3 OWS).
/// VT, FF and a lone CR are accepted by some servers as separators too; the callers flag them.
#[inline]
pub fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Whitespace a lenient server splits a request line on: SP, HTAB, VT, FF, CR.
#[inline]
pub fn is_lenient_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c | b'\r')
}

/// A control byte other than HTAB: not allowed in field values or start lines (RFC 9110 §5.5).
#[inline]
pub fn is_ctl(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// Whether `s` holds a byte below 0x20 (CR, LF, HTAB, NUL, ...) or DEL.
///
/// Checked in fixed blocks of 16 bytes without an early exit inside a block, which the
/// compiler turns into SIMD compares: on clean traffic, the common case, every byte is looked
/// at anyway. Callers run their byte-by-byte checks (which tell HTAB and line breaks from
/// real control bytes) only when this says yes.
///
/// The bytes past the last whole block are checked as the last 16 (or, below 16 bytes, the
/// first and last 8) bytes of `s`, overlapping what was already checked: a header line is
/// a few dozen bytes, and copying its tail into a padded block cost more than its blocks.
#[inline]
pub fn has_controls(s: &[u8]) -> bool {
    let block_has = |block: &[u8; 16]| {
        block
            .iter()
            .fold(false, |acc, &b| acc | (b < 0x20) | (b == 0x7f))
    };
    if s.len() >= 16 {
        let mut blocks = s.chunks_exact(16);
        for block in &mut blocks {
            // A fixed-size array lets the compiler unroll and vectorise the block.
            if <&[u8; 16]>::try_from(block).is_ok_and(block_has) {
                return true;
            }
        }
        if blocks.remainder().is_empty() {
            return false;
        }
        return s
            .get(s.len() - 16..)
            .and_then(|last| <&[u8; 16]>::try_from(last).ok())
            .is_some_and(block_has);
    }
    match (s.first_chunk::<8>(), s.last_chunk::<8>()) {
        (Some(first), Some(last)) => word_has_controls(first) || word_has_controls(last),
        _ => s.iter().any(|&b| b < 0x20 || b == 0x7f),
    }
}

/// A 64-bit word with every byte 0x01.
const BYTE_ONES: u64 = u64::from_ne_bytes([0x01; 8]);
/// A 64-bit word with the top bit of every byte set.
const BYTE_HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The top bits of the bytes of `x` that are below `n` (`n` at most 0x80), the classic
/// `hasless` test: nonzero exactly when some byte is below `n`, and its lowest set bit is
/// the first such byte in memory order of a little-endian load (a borrow can only flag
/// bytes above a flagged one). `n` = 1 is `haszero`.
#[inline]
fn bytes_below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(BYTE_ONES * u64::from(n)) & !x & BYTE_HIGHS
}

/// [`has_controls`] for 8 bytes, as one 64-bit word: a byte below 0x20 ([`bytes_below`]),
/// or DEL, which is a zero byte once XORed with 0x7f.
#[inline]
fn word_has_controls(bytes: &[u8; 8]) -> bool {
    let x = u64::from_ne_bytes(*bytes);
    (bytes_below(x, 0x20) | bytes_below(x ^ (BYTE_ONES * 0x7f), 1)) != 0
}

/// The position of the first `needle` in `haystack`, for a needle that is usually within
/// its first few dozen bytes (the colon of a header field).
///
/// `memchr` pays a dispatch and set-up of some forty instructions per call, more than
/// finding a colon a dozen bytes in costs. The first 32 bytes are searched 8 at a time as
/// 64-bit words (the `haszero` test on the word XORed with the needle: its lowest flagged
/// byte is exactly the first match), and the rest, if any, with `memchr`.
#[inline]
pub fn find_byte_near(needle: u8, haystack: &[u8]) -> Option<usize> {
    const NEAR: usize = 32;
    let pattern = BYTE_ONES * u64::from(needle);
    let mut at = 0;
    while at < NEAR {
        let Some(word) = haystack.get(at..).and_then(|rest| rest.first_chunk::<8>()) else {
            break;
        };
        let found = bytes_below(u64::from_le_bytes(*word) ^ pattern, 1);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let rest = haystack.get(at..).unwrap_or_default();
    if at < NEAR {
        // Fewer than 8 bytes left within the near part: the end of the haystack.
        return rest.iter().position(|&b| b == needle).map(|i| at + i);
    }
    memchr::memchr(needle, rest).map(|i| at + i)
}

/// Trims OWS from both ends.
pub fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if is_ows(*first) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if is_ows(*last) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchar_table_matches_the_abnf() {
        for b in b"!#$%&'*+-.^_`|~09azAZ" {
            assert!(is_tchar(*b), "{}", *b as char);
        }
        for b in b" \t\r\n\":;(),/<=>?@[\\]{}\x00\x7f\x80\xff" {
            assert!(!is_tchar(*b), "{b:#x}");
        }
    }

    #[test]
    fn control_byte_test_agrees_with_the_byte_loop() {
        let slow = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == 0x7f);
        let mut cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"Host: example.com".to_vec(),
            b"User-Agent: Mozilla/5.0 (X11; Linux x86_64)".to_vec(),
            "caf\u{e9} \u{2603}".as_bytes().to_vec(),
        ];
        for b in 0..=255u8 {
            for pos in [0, 3, 7, 8, 15, 16, 20] {
                let mut v = b"abcdefghijklmnopqrstu".to_vec();
                v[pos] = b;
                cases.push(v);
            }
        }
        // Every length up to three blocks, with each byte value that sits at a class edge
        // (0x1f/0x20, 0x7e/0x7f/0x80, 0xff) at every position, over clean and high bytes:
        // the overlapping tail and the 8-byte words must see every position.
        for len in 0..48 {
            for filler in [b'a', 0x80, 0xff, 0x7e] {
                let clean = vec![filler; len];
                cases.push(clean.clone());
                for pos in 0..len {
                    for b in [0x00, 0x09, 0x0d, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff] {
                        let mut v = clean.clone();
                        v[pos] = b;
                        cases.push(v);
                    }
                }
            }
        }
        for c in &cases {
            assert_eq!(has_controls(c), slow(c), "{c:?}");
        }
    }

    #[test]
    fn find_byte_near_agrees_with_position() {
        // Every length up to 80 (past the 32-byte word part), the needle at every position
        // alone and twice, over fillers next to it in value and with the high bit set.
        for len in 0..80 {
            for filler in [b'a', b';', b'9', 0x80, 0xba, 0xff] {
                let clean = vec![filler; len];
                assert_eq!(find_byte_near(b':', &clean), None, "{len} {filler}");
                for first in 0..len {
                    for second in [first, first + 1, first + 7, first + 8, len - 1] {
                        let mut v = clean.clone();
                        v[first] = b':';
                        if let Some(slot) = v.get_mut(second) {
                            *slot = b':';
                        }
                        let want = v.iter().position(|&b| b == b':');
                        assert_eq!(find_byte_near(b':', &v), want, "{v:?}");
                    }
                }
            }
        }
        assert_eq!(find_byte_near(0, &[1, 0, 0]), Some(1));
        assert_eq!(find_byte_near(0xff, &[0xfe; 40]), None);
    }

    #[test]
    fn trims_only_sp_and_htab() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"\r"), b"\r");
        assert_eq!(trim_ows(b"   "), b"");
    }
}
