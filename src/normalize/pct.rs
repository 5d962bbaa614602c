//! Percent-decoding (with repeated passes) and overlong-UTF-8 folding, shared by the path and
//! host normalisers.

use std::borrow::Cow;

use bitflags::bitflags;
use memchr::memchr;

/// Decoding passes in total. Servers and proxy chains that decode twice exist; three covers a
/// decode at the proxy, at the front end and in the application. A fixed cap keeps the work
/// linear in the input.
pub(super) const MAX_PASSES: usize = 3;

bitflags! {
    /// What one or more decoding passes did; each caller maps these onto its own public flags.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub(super) struct Ev: u8 {
        /// At least one escape was decoded.
        const DECODED = 1 << 0;
        /// A `%` did not start a valid escape and was kept literally.
        const INVALID = 1 << 1;
        /// An escape (or overlong sequence) produced a NUL byte.
        const NUL = 1 << 2;
        /// An IIS `%uXXXX` escape was decoded.
        const IIS = 1 << 3;
        /// A `%uFFxx` full-width form was mapped to ASCII, as IIS "best fit" does.
        const BEST_FIT = 1 << 4;
        /// An escape produced `/` or `\`.
        const SEPARATOR = 1 << 5;
        /// An overlong UTF-8 sequence was folded to its ASCII byte.
        const OVERLONG = 1 << 6;
    }
}

/// The result of [`decode`].
pub(super) struct Decoded<'a> {
    /// The decoded bytes; borrowed when nothing was decoded or folded.
    pub(super) bytes: Cow<'a, [u8]>,
    /// Events of the first pass, plus overlong sequences present in the raw input.
    pub(super) first: Ev,
    /// Events of the second and later passes: anything here was encoded more than once.
    /// `INVALID` is never set here, because `%25` legitimately decodes to a bare `%`.
    pub(super) later: Ev,
    /// Escapes were still present after the last permitted pass.
    pub(super) exhausted: bool,
}

/// Decodes `%XX` (and `%uXXXX` when `iis`) escapes, again and again while a pass decoded
/// something and left a `%` behind, up to [`MAX_PASSES`]; after every pass overlong UTF-8
/// sequences are folded, because `%c0%ae` is only a dot once both bytes are decoded.
pub(super) fn decode(input: &[u8], iis: bool) -> Decoded<'_> {
    let mut bytes = Cow::Borrowed(input);
    let mut first = Ev::empty();
    let mut later = Ev::empty();
    let mut passes = 0;
    while passes < MAX_PASSES && memchr(b'%', &bytes).is_some() {
        let mut out = Vec::with_capacity(bytes.len());
        let mut ev = decode_pass(&bytes, iis, &mut out);
        if !ev.contains(Ev::DECODED) {
            if passes == 0 {
                first |= ev;
            }
            break;
        }
        if let Some((folded, fev)) = fold_overlong(&out) {
            out = folded;
            ev |= fev;
        }
        if passes == 0 {
            first |= ev;
        } else {
            later |= ev.difference(Ev::INVALID);
        }
        bytes = Cow::Owned(out);
        passes += 1;
    }
    let exhausted = passes == MAX_PASSES && has_escape(&bytes, iis);
    if passes == 0 {
        // Raw (unescaped) overlong sequences: lenient UTF-8 decoders turn them into ASCII too.
        if let Some((folded, fev)) = fold_overlong(input) {
            bytes = Cow::Owned(folded);
            first |= fev;
        }
    }
    Decoded {
        bytes,
        first,
        later,
        exhausted,
    }
}

/// One escape recognised at a `%`.
enum Escape {
    /// `%XX`: one byte, three input bytes consumed.
    Byte(u8),
    /// `%uXXXX`: a UTF-16 code unit, six input bytes consumed.
    Unit(u16),
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Recognises an escape at the start of `s`, which begins with `%`.
fn escape_at(s: &[u8], iis: bool) -> Option<Escape> {
    match s {
        [b'%', hi, lo, ..] if hex(*hi).is_some() && hex(*lo).is_some() => {
            let v = (hex(*hi)? << 4) | hex(*lo)?;
            Some(Escape::Byte(v))
        }
        [b'%', b'u' | b'U', a, b, c, d, ..] if iis => {
            let mut v: u16 = 0;
            for x in [a, b, c, d] {
                v = (v << 4) | u16::from(hex(*x)?);
            }
            Some(Escape::Unit(v))
        }
        _ => None,
    }
}

fn has_escape(s: &[u8], iis: bool) -> bool {
    memchr::memchr_iter(b'%', s).any(|p| {
        s.get(p..)
            .and_then(|t| escape_at(t, iis))
            .is_some_and(|e| !matches!(e, Escape::Unit(u) if char::from_u32(u.into()).is_none()))
    })
}

fn note_byte(b: u8) -> Ev {
    match b {
        0 => Ev::NUL,
        b'/' | b'\\' => Ev::SEPARATOR,
        _ => Ev::empty(),
    }
}

/// One decoding pass; invalid escapes are copied literally so that `%zz` and a trailing `%`
/// survive as the bytes the server received.
fn decode_pass(input: &[u8], iis: bool, out: &mut Vec<u8>) -> Ev {
    let mut ev = Ev::empty();
    let mut rest = input;
    while let Some(p) = memchr(b'%', rest) {
        let Some((lit, tail)) = rest.split_at_checked(p) else {
            break;
        };
        out.extend_from_slice(lit);
        let consumed = match escape_at(tail, iis) {
            Some(Escape::Byte(b)) => {
                out.push(b);
                ev |= Ev::DECODED | note_byte(b);
                3
            }
            Some(Escape::Unit(u)) => match decode_unit(u, out) {
                Some(uev) => {
                    ev |= Ev::DECODED | Ev::IIS | uev;
                    6
                }
                None => {
                    out.push(b'%');
                    ev |= Ev::INVALID;
                    1
                }
            },
            None => {
                out.push(b'%');
                ev |= Ev::INVALID;
                1
            }
        };
        rest = tail.get(consumed..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    ev
}

/// Appends the bytes IIS would see for `%uXXXX`: ASCII as itself, full-width forms
/// (U+FF01..U+FF5E) by their "best fit" ASCII twin, anything else as UTF-8. Returns `None` for
/// a lone surrogate, which has no UTF-8 form; the escape then stays literal.
fn decode_unit(u: u16, out: &mut Vec<u8>) -> Option<Ev> {
    if let Ok(b) = u8::try_from(u) {
        if b.is_ascii() {
            out.push(b);
            return Some(note_byte(b));
        }
    }
    if (0xFF01..=0xFF5E).contains(&u) {
        let b = u8::try_from(u - 0xFEE0).ok()?;
        out.push(b);
        return Some(Ev::BEST_FIT | note_byte(b));
    }
    let c = char::from_u32(u.into())?;
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    Some(Ev::empty())
}

/// If `s` starts with an overlong UTF-8 encoding of an ASCII byte (2- to 6-byte forms; the 5-
/// and 6-byte ones are from RFC 2279 and still accepted by old decoders), returns that byte and
/// the sequence length. Only lead bytes whose payload bits can all be zero qualify.
fn overlong_at(s: &[u8]) -> Option<(u8, usize)> {
    let (&lead, rest) = s.split_first()?;
    let (len, mask) = match lead {
        0xC0 | 0xC1 => (2, 0x1F),
        0xE0 => (3, 0x0F),
        0xF0 => (4, 0x07),
        0xF8 => (5, 0x03),
        0xFC => (6, 0x01),
        _ => return None,
    };
    let conts = rest.get(..len - 1)?;
    let mut v = u32::from(lead & mask);
    for &c in conts {
        if c & 0xC0 != 0x80 {
            return None;
        }
        v = (v << 6) | u32::from(c & 0x3F);
    }
    let b = u8::try_from(v).ok().filter(u8::is_ascii)?;
    Some((b, len))
}

/// Replaces every overlong encoding of an ASCII byte by the byte; `None` when there is none.
/// The folded bytes are ASCII, which can never be a continuation byte, so folding is idempotent.
pub(super) fn fold_overlong(input: &[u8]) -> Option<(Vec<u8>, Ev)> {
    let mut out: Option<Vec<u8>> = None;
    let mut ev = Ev::empty();
    let mut copied = 0;
    let mut i = 0;
    while let Some(tail) = input.get(i..) {
        let Some(off) = tail
            .iter()
            .position(|b| matches!(b, 0xC0 | 0xC1 | 0xE0 | 0xF0 | 0xF8 | 0xFC))
        else {
            break;
        };
        let at = i + off;
        match input.get(at..).and_then(overlong_at) {
            Some((b, len)) => {
                let o = out.get_or_insert_with(|| Vec::with_capacity(input.len()));
                o.extend_from_slice(input.get(copied..at).unwrap_or_default());
                o.push(b);
                ev |= Ev::OVERLONG | note_byte(b);
                i = at + len;
                copied = i;
            }
            None => i = at + 1,
        }
    }
    out.map(|mut o| {
        o.extend_from_slice(input.get(copied..).unwrap_or_default());
        (o, ev)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn overlong_forms() {
        type Row = (&'static [u8], Option<(u8, usize)>);
        let table: &[Row] = &[
            (b"\xc0\xaf", Some((b'/', 2))),
            (b"\xc1\x81", Some((b'A', 2))),
            (b"\xe0\x80\xaf", Some((b'/', 3))),
            (b"\xf0\x80\x80\xaf", Some((b'/', 4))),
            (b"\xf8\x80\x80\x80\xaf", Some((b'/', 5))),
            (b"\xfc\x80\x80\x80\x80\xaf", Some((b'/', 6))),
            (b"\xc0\x80", Some((0, 2))),
            (b"\xe0\xa4\x85", None), // U+0905, a real character
            (b"\xc0/", None),
            (b"\xe0\x80", None),
            (b"\xc3\xa9", None),
        ];
        for (input, want) in table {
            assert_eq!(overlong_at(input), *want, "{input:?}");
        }
    }

    #[test]
    fn passes() {
        let d = decode(b"%25252541", false);
        assert_eq!(&*d.bytes, b"%41");
        assert!(d.exhausted);
        let d = decode(b"100%25", false);
        assert_eq!(&*d.bytes, b"100%");
        assert!(!d.first.contains(Ev::INVALID) && d.later.is_empty());
        let d = decode(b"%%34%31", false);
        assert_eq!(&*d.bytes, b"A");
        assert!(d.first.contains(Ev::INVALID) && d.later.contains(Ev::DECODED));
        let d = decode(b"%uD800", true);
        assert_eq!(&*d.bytes, b"%uD800");
        assert!(d.first.contains(Ev::INVALID));
        assert!(!d.exhausted);
    }
}
