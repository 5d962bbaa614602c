//! The part of UTS #46 (IDNA compatibility mapping) that lets a host name spell ASCII digits,
//! dots and letters with other code points.
//!
//! URL parsers (WHATWG, and every browser and many HTTP libraries with it) map a host through
//! UTS #46 before trying it as an IPv4 address, so `１６９．２５４．１６９．２５４` and
//! `①⑥⑨。②⑤④。①⑥⑨。②⑤④` reach 169.254.169.254. Only mappings whose result is ASCII are
//! reproduced here; the rest of IDNA (case folding beyond ASCII, Punycode) does not change
//! whether a host is the metadata service.

/// What the host bytes turned into.
pub(super) struct Folded {
    pub(super) bytes: Vec<u8>,
    /// Full-width forms (U+FF01..U+FF5E) or an ideographic full stop (U+3002, U+FF61).
    pub(super) fullwidth: bool,
    /// Any other mapped code point: circled digits and letters, digits with a period,
    /// mathematical, superscript or subscript digits.
    pub(super) other: bool,
}

/// The ASCII a non-full-width code point maps to.
enum Mapped {
    /// A number, and whether UTS #46 appends a period (⒐ U+2490 is "9."). Values, not text,
    /// so that ⑳ (U+2473) becomes "20" without a table.
    Number(u32, bool),
    /// One ASCII letter.
    Letter(u8),
}

fn map_other(c: char) -> Option<Mapped> {
    let cp = u32::from(c);
    let from = |base: u32| cp.checked_sub(base);
    let num = |n: u32| Some(Mapped::Number(n, false));
    let letter = |base: u32| {
        let off = u8::try_from(from(base)?).ok()?;
        Some(Mapped::Letter(b'a'.checked_add(off)?))
    };
    match cp {
        0x2460..=0x2473 => num(from(0x2460)? + 1), // ① .. ⑳
        0x24EA => num(0),                          // ⓪
        0x2488..=0x249B => Some(Mapped::Number(from(0x2488)? + 1, true)), // ⒈ .. ⒛
        0x24B6..=0x24CF => letter(0x24B6),         // Ⓐ .. Ⓩ
        0x24D0..=0x24E9 => letter(0x24D0),         // ⓐ .. ⓩ
        0x1D7CE..=0x1D7FF => num(from(0x1D7CE)? % 10), // 𝟎 .. 𝟿 (five fonts)
        0x2070 => num(0),
        0x00B9 => num(1),
        0x00B2 => num(2),
        0x00B3 => num(3),
        0x2074..=0x2079 => num(from(0x2070)?), // ⁴ .. ⁹
        0x2080..=0x2089 => num(from(0x2080)?), // ₀ .. ₉
        _ => None,
    }
}

fn map_fullwidth(c: char) -> Option<u8> {
    let cp = u32::from(c);
    match cp {
        0xFF01..=0xFF5E => u8::try_from(cp - 0xFEE0).ok(),
        0x3002 | 0xFF61 => Some(b'.'),
        _ => None,
    }
}

/// Appends the decimal digits of a mapped number (0..=20, so at most two digits).
fn push_number(out: &mut Vec<u8>, n: u32) {
    let (tens, ones) = (n / 10, n % 10);
    out.extend(
        [tens, ones]
            .into_iter()
            .skip(usize::from(tens == 0))
            .filter_map(|d| char::from_digit(d, 10))
            .filter_map(|c| u8::try_from(c).ok()),
    );
}

/// Maps the code points above to ASCII and keeps everything else (including invalid UTF-8)
/// as it was. Returns `None` when nothing was mapped. The output is never longer than the
/// input: every mapped code point takes at least as many UTF-8 bytes as its ASCII text.
pub(super) fn fold(input: &[u8]) -> Option<Folded> {
    if input.is_ascii() {
        return None;
    }
    let mut out = Folded {
        bytes: Vec::with_capacity(input.len()),
        fullwidth: false,
        other: false,
    };
    for chunk in input.utf8_chunks() {
        for c in chunk.valid().chars() {
            if let Some(b) = map_fullwidth(c) {
                out.bytes.push(b);
                out.fullwidth = true;
            } else if let Some(m) = map_other(c) {
                match m {
                    Mapped::Number(n, dot) => {
                        push_number(&mut out.bytes, n);
                        if dot {
                            out.bytes.push(b'.');
                        }
                    }
                    Mapped::Letter(b) => out.bytes.push(b),
                }
                out.other = true;
            } else {
                let mut buf = [0u8; 4];
                out.bytes
                    .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        out.bytes.extend_from_slice(chunk.invalid());
    }
    (out.fullwidth || out.other).then_some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let table: &[(&str, &[u8])] = &[
            ("１６９．２５４．１６９．２５４", b"169.254.169.254"),
            ("①⑥⑨。②⑤④。①⑥⑨。②⑤④", b"169.254.169.254"),
            ("⑯⑨｡254｡169｡254", b"169.254.169.254"),
            ("169.254.16⒐254", b"169.254.169.254"),
            ("𝟏𝟔𝟗.²⁵⁴.₁₆₉.254", b"169.254.169.254"),
            ("ＩＮＳＴＡＮＣＥ-ｄａｔａ", b"INSTANCE-data"),
            ("⓪ｘa9fea9fe", b"0xa9fea9fe"),
            ("ⓘⓝⓢⓣⓐⓝⓒⓔ-ⒹⒶⓉⒶ", b"instance-data"),
        ];
        for (input, want) in table {
            let f = fold(input.as_bytes()).unwrap();
            assert_eq!(f.bytes, *want, "{input}");
            assert!(f.bytes.len() <= input.len());
        }
        assert!(fold(b"example.com").is_none());
        assert!(fold("bücher.example".as_bytes()).is_none());
        let f = fold(b"\xff\xef\xbc\x91").unwrap();
        assert_eq!(f.bytes, b"\xff1");
    }
}
