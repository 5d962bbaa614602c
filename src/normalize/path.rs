//! URI path normalisation: the path a server would act on, whatever encoding tricks spelled it.
//!
//! The order of the steps is the defender's order, which is the most decoding any server in the
//! chain might do: split off the query and fragment on the *raw* bytes (an encoded `%3F` never
//! starts a query), then decode escapes (repeatedly, for double encoding), fold overlong UTF-8,
//! and only then treat `/`, `\`, `;` and dot segments structurally, so that `%2F` and `%2e%2e`
//! act as the separators and dot segments they decode to.

use std::borrow::Cow;

use bitflags::bitflags;
use memchr::{memchr, memchr2};

use super::pct::{self, Ev};
pub use super::target::{split_target, RequestTarget, TargetFlags};

bitflags! {
    /// The evasion techniques and oddities [`normalize_path`] found; each is evidence on its own.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct PathFlags: u32 {
        /// At least one percent-escape was decoded.
        const PERCENT_DECODED = 1 << 0;
        /// A decoded path still held escapes that a second (or third) pass decoded, as in
        /// `%252F`. Legitimate clients encode once.
        const DOUBLE_ENCODED = 1 << 1;
        /// Escapes were still present after the last permitted pass (three in total); the path
        /// is returned with them in place.
        const DECODE_DEPTH_EXCEEDED = 1 << 2;
        /// A `%` that starts no valid escape (`%zz`, `%4`, a trailing `%`) was kept literally.
        const INVALID_ENCODING = 1 << 3;
        /// An escape or overlong sequence produced a NUL byte; the byte is kept in the path.
        const ENCODED_NUL = 1 << 4;
        /// An escape or overlong sequence produced `/` or `\`, which then acted as a separator.
        const ENCODED_SLASH = 1 << 5;
        /// An overlong UTF-8 encoding of an ASCII byte (`%c0%af`) was folded to that byte.
        const OVERLONG_UTF8 = 1 << 6;
        /// An IIS `%uXXXX` escape was decoded.
        const IIS_UNICODE = 1 << 7;
        /// A `%uFFxx` full-width form was mapped to its ASCII twin, as IIS "best fit" does.
        const IIS_BEST_FIT = 1 << 8;
        /// `\` was treated as `/`, as Windows servers and WHATWG URL parsers do.
        const BACKSLASH = 1 << 9;
        /// A run of slashes was collapsed to one.
        const REPEATED_SLASH = 1 << 10;
        /// `.` or `..` segments were removed (RFC 3986 §5.2.4).
        const DOT_SEGMENTS = 1 << 11;
        /// A `..` segment tried to climb above the root and was dropped: a traversal attempt.
        const ABOVE_ROOT = 1 << 12;
        /// `;params` were removed from at least one segment (`/latest;x=1/`, `..;/`).
        const PARAMS = 1 << 13;
        /// A raw `#fragment` was present and dropped; clients never send one.
        const FRAGMENT = 1 << 14;
        /// The path did not start with `/` (after decoding); it is kept relative.
        const RELATIVE = 1 << 15;
    }
}

/// A request path in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedPath<'a> {
    /// The canonical path: decoded, with single `/` separators and no dot segments or params.
    /// Borrows the input when the path was already canonical.
    pub path: Cow<'a, [u8]>,
    /// The raw query (after the first raw `?`, before any `#`), undecoded.
    pub query: Option<&'a [u8]>,
    /// What was found on the way.
    pub flags: PathFlags,
}

/// Normalises an origin-form request target (a path, optionally with `?query` and `#fragment`).
///
/// For absolute-form targets call [`split_target`] first and pass the path. Steps:
/// 1. the fragment (first raw `#`) is dropped and the query split off at the first raw `?`;
/// 2. escapes are decoded, including IIS `%uXXXX`, repeating while a pass decoded something and
///    left escapes behind (three passes at most); overlong UTF-8 forms of ASCII are folded,
///    whether they came from escapes or were sent raw; invalid escapes stay literal;
/// 3. `\` counts as `/`, runs of `/` collapse, `;params` are cut from every segment, and `.`
///    and `..` are resolved as in RFC 3986 §5.2.4, never above the root. Params are cut before
///    the dot check, so `..;x` is a `..` as Tomcat sees it.
///
/// A path that does not start with `/` after decoding is kept relative: no `/` is added, its
/// dot segments are resolved the same way, leading `..` segments are dropped (flagged
/// [`PathFlags::ABOVE_ROOT`]) and a path that resolves to nothing becomes empty.
///
/// The result is never longer than `raw`, and normalising a result without `%`, `?` or `#`
/// returns it unchanged.
pub fn normalize_path(raw: &[u8]) -> NormalizedPath<'_> {
    let mut flags = PathFlags::empty();
    let before_fragment = match memchr(b'#', raw) {
        Some(i) => {
            flags |= PathFlags::FRAGMENT;
            raw.get(..i).unwrap_or_default()
        }
        None => raw,
    };
    let (path, query) = match memchr(b'?', before_fragment) {
        Some(i) => (
            before_fragment.get(..i).unwrap_or_default(),
            before_fragment.get(i + 1..),
        ),
        None => (before_fragment, None),
    };

    // Most paths need nothing: no escape, no backslash, no parameter, no byte above ASCII
    // (an overlong encoding sent raw), no empty segment, no dot segment. Those are returned
    // as they are without running the decoder.
    if is_plain(path) {
        return NormalizedPath {
            path: Cow::Borrowed(path),
            query,
            flags,
        };
    }
    let decoded = pct::decode(path, true);
    flags |= decode_flags(decoded.first);
    if decoded.later.contains(Ev::DECODED) {
        flags |= PathFlags::DOUBLE_ENCODED;
    }
    flags |= decode_flags(decoded.later);
    if decoded.exhausted {
        flags |= PathFlags::DECODE_DEPTH_EXCEEDED;
    }

    let path = match resolve_segments(&decoded.bytes, &mut flags) {
        Some(resolved) => Cow::Owned(resolved),
        None => decoded.bytes,
    };
    NormalizedPath { path, query, flags }
}

/// Whether normalising `path` would change nothing and raise no flag (see
/// [`normalize_path`]'s fast path).
///
/// One pass: a path starting with `/`, with no byte above ASCII, `%`, `\` or `;`, no empty
/// segment (`//`) and no `.` or `..` segment. Every request's path goes through this.
fn is_plain(path: &[u8]) -> bool {
    let [b'/', rest @ ..] = path else {
        return false;
    };
    // The current segment's length, and how many of its bytes are dots.
    let (mut len, mut dots) = (0usize, 0usize);
    for &b in rest {
        match b {
            b'/' => {
                if len == 0 || (dots == len && len <= 2) {
                    return false;
                }
                (len, dots) = (0, 0);
            }
            b'%' | b'\\' | b';' | 0x80.. => return false,
            b'.' => (len, dots) = (len + 1, dots + 1),
            _ => len += 1,
        }
    }
    // The last segment: "." or ".." (an empty one is the trailing slash).
    !(dots == len && (len == 1 || len == 2))
}

fn decode_flags(ev: Ev) -> PathFlags {
    let map = [
        (Ev::DECODED, PathFlags::PERCENT_DECODED),
        (Ev::INVALID, PathFlags::INVALID_ENCODING),
        (Ev::NUL, PathFlags::ENCODED_NUL),
        (Ev::IIS, PathFlags::IIS_UNICODE),
        (Ev::BEST_FIT, PathFlags::IIS_BEST_FIT),
        (Ev::SEPARATOR, PathFlags::ENCODED_SLASH),
        (Ev::OVERLONG, PathFlags::OVERLONG_UTF8),
    ];
    map.iter()
        .filter(|(e, _)| ev.contains(*e))
        .fold(PathFlags::empty(), |acc, (_, f)| acc | *f)
}

fn is_sep(b: &u8) -> bool {
    *b == b'/' || *b == b'\\'
}

/// Whether [`rebuild`] would change `p`. Kept separate so that the common, already canonical
/// path costs one scan and no allocation; the two must agree (a property test checks it).
fn needs_rewrite(p: &[u8]) -> bool {
    if memchr2(b'\\', b';', p).is_some() {
        return true;
    }
    let mut segs = p.split(is_sep).peekable();
    if p.first() == Some(&b'/') {
        segs.next();
    }
    while let Some(seg) = segs.next() {
        let last = segs.peek().is_none();
        if seg == b"." || seg == b".." || (seg.is_empty() && !last) {
            return true;
        }
    }
    false
}

/// Returns the resolved path, or `None` when `p` is already canonical.
fn resolve_segments(p: &[u8], flags: &mut PathFlags) -> Option<Vec<u8>> {
    let absolute = p.first().is_some_and(is_sep);
    if !absolute && !p.is_empty() {
        *flags |= PathFlags::RELATIVE;
    }
    if !needs_rewrite(p) {
        return None;
    }
    Some(rebuild(p, absolute, flags))
}

/// RFC 3986 §5.2.4 over whole segments: a stack of output segments, where `.` is skipped, `..`
/// pops (and is dropped at the root) and an empty segment only survives as the final one, which
/// is what keeps `/latest/meta-data/` and `/a/b/..` (= `/a/`) ending in a slash. Each segment
/// is visited once and each pop undoes one push, so the work is linear.
fn rebuild(p: &[u8], absolute: bool, flags: &mut PathFlags) -> Vec<u8> {
    if memchr(b'\\', p).is_some() {
        *flags |= PathFlags::BACKSLASH;
    }
    let mut out = Vec::with_capacity(p.len());
    // out.len() before each kept segment (and its separator) was appended.
    let mut starts: Vec<usize> = Vec::new();
    let mut trailing = false;
    let mut segs = p.split(is_sep).peekable();
    if absolute {
        segs.next();
    }
    while let Some(raw_seg) = segs.next() {
        let last = segs.peek().is_none();
        let seg = match memchr(b';', raw_seg) {
            Some(i) => {
                *flags |= PathFlags::PARAMS;
                raw_seg.get(..i).unwrap_or_default()
            }
            None => raw_seg,
        };
        trailing = last;
        match seg {
            b"" => {
                if raw_seg.is_empty() && !last {
                    *flags |= PathFlags::REPEATED_SLASH;
                }
            }
            b"." => *flags |= PathFlags::DOT_SEGMENTS,
            b".." => {
                *flags |= PathFlags::DOT_SEGMENTS;
                match starts.pop() {
                    Some(start) => out.truncate(start),
                    None => *flags |= PathFlags::ABOVE_ROOT,
                }
            }
            _ => {
                starts.push(out.len());
                if absolute || !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(seg);
                trailing = false;
            }
        }
    }
    if (trailing && (absolute || !out.is_empty())) || (absolute && out.is_empty()) {
        out.push(b'/');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const F: PathFlags = PathFlags::empty();

    /// Input, expected path, expected query, flags that must be set.
    type Row<'a> = (&'a [u8], &'a [u8], Option<&'a [u8]>, PathFlags);
    type Encoder = fn(u8) -> String;

    fn check(raw: &[u8], want: &[u8], query: Option<&[u8]>, must: PathFlags) {
        let n = normalize_path(raw);
        assert_eq!(
            String::from_utf8_lossy(&n.path),
            String::from_utf8_lossy(want),
            "input {:?}",
            String::from_utf8_lossy(raw)
        );
        assert_eq!(n.query, query, "query of {raw:?}");
        assert!(
            n.flags.contains(must),
            "{:?}: flags {:?} lack {:?}",
            String::from_utf8_lossy(raw),
            n.flags,
            must
        );
    }

    #[test]
    fn examples() {
        use PathFlags as P;
        let md: &[u8] = b"/latest/meta-data";
        let table: &[Row<'_>] = &[
            (b"/latest/meta-data/", b"/latest/meta-data/", None, F),
            (
                b"/latest/./meta-data/",
                b"/latest/meta-data/",
                None,
                P::DOT_SEGMENTS,
            ),
            (b"/x/../latest/meta-data", md, None, P::DOT_SEGMENTS),
            (b"//latest//meta-data", md, None, P::REPEATED_SLASH),
            (b"\\latest\\meta-data", md, None, P::BACKSLASH),
            (b"/latest%2fmeta-data", md, None, P::ENCODED_SLASH),
            (b"/latest%2Fmeta-data", md, None, P::PERCENT_DECODED),
            (b"/latest/meta%252Ddata", md, None, P::DOUBLE_ENCODED),
            (b"/latest/meta%25252Ddata", md, None, P::DOUBLE_ENCODED),
            (b"/%2e%2e/latest/meta-data", md, None, P::ABOVE_ROOT),
            (b"/%2E./latest/meta-data", md, None, P::DOT_SEGMENTS),
            (b"/latest/meta-data?x=1#f", md, Some(b"x=1"), P::FRAGMENT),
            (b"/latest/meta-data#f?x=1", md, None, P::FRAGMENT),
            (b"/latest/meta-data?", md, Some(b""), F),
            (b"/latest%3Fmeta-data", b"/latest?meta-data", None, F),
            (b"/latest;x=1/meta-data", md, None, P::PARAMS),
            (b"/latest/meta-data;jsessionid=1", md, None, P::PARAMS),
            (
                b"/x/..;/latest/meta-data",
                md,
                None,
                P::PARAMS.union(P::DOT_SEGMENTS),
            ),
            (b"/;x/latest/meta-data", md, None, P::PARAMS),
            (
                b"/latest/%c0%afmeta-data",
                md,
                None,
                P::OVERLONG_UTF8.union(P::REPEATED_SLASH),
            ),
            (b"/latest%c0%afmeta-data", md, None, P::OVERLONG_UTF8),
            (b"/latest%e0%80%afmeta-data", md, None, P::OVERLONG_UTF8),
            (b"/latest%f0%80%80%afmeta-data", md, None, P::OVERLONG_UTF8),
            (b"/latest\xc0\xafmeta-data", md, None, P::OVERLONG_UTF8),
            (b"/%c0%ae%c0%ae/latest/meta-data", md, None, P::ABOVE_ROOT),
            (b"/latest%u002fmeta-data", md, None, P::IIS_UNICODE),
            (b"/latest%U002Fmeta-data", md, None, P::IIS_UNICODE),
            (b"/latest%uff0fmeta-data", md, None, P::IIS_BEST_FIT),
            (
                b"/latest/meta%u2010data",
                "/latest/meta\u{2010}data".as_bytes(),
                None,
                F,
            ),
            (
                b"/latest/meta-data%00.html",
                b"/latest/meta-data\0.html",
                None,
                P::ENCODED_NUL,
            ),
            (
                b"/latest/meta-data\xc0\x80",
                b"/latest/meta-data\0",
                None,
                P::ENCODED_NUL,
            ),
            (b"/a%zz", b"/a%zz", None, P::INVALID_ENCODING),
            (b"/a%", b"/a%", None, P::INVALID_ENCODING),
            (b"/a%4", b"/a%4", None, P::INVALID_ENCODING),
            (b"/a%u12", b"/a%u12", None, P::INVALID_ENCODING),
            (b"/a%uD800", b"/a%uD800", None, P::INVALID_ENCODING),
            (b"/100%25", b"/100%", None, P::PERCENT_DECODED),
            (
                b"/%%34%31",
                b"/A",
                None,
                P::DOUBLE_ENCODED.union(P::INVALID_ENCODING),
            ),
            (b"/%25252541", b"/%41", None, P::DECODE_DEPTH_EXCEEDED),
            (
                b"/latest/meta-data-guide.html",
                b"/latest/meta-data-guide.html",
                None,
                F,
            ),
            (b"/api/token", b"/api/token", None, F),
            (b"/latest/api/token", b"/latest/api/token", None, F),
            (b"/", b"/", None, F),
            (b"", b"", None, F),
            (b"/..", b"/", None, P::ABOVE_ROOT),
            (b"/a/b/..", b"/a/", None, P::DOT_SEGMENTS),
            (b"/a/b/.", b"/a/b/", None, P::DOT_SEGMENTS),
            (b"/a/b/../", b"/a/", None, P::DOT_SEGMENTS),
            (b"/a/./b/../../c", b"/c", None, P::DOT_SEGMENTS),
            (b"/.../a", b"/.../a", None, F),
            (b"/a..b/.a/a.", b"/a..b/.a/a.", None, F),
            (b"latest/meta-data", b"latest/meta-data", None, P::RELATIVE),
            (
                b"x/../latest/./meta-data",
                b"latest/meta-data",
                None,
                P::RELATIVE,
            ),
            (b"../latest", b"latest", None, P::ABOVE_ROOT),
            (b"./", b"", None, P::DOT_SEGMENTS),
            (b"a/..", b"", None, P::DOT_SEGMENTS),
            (b"a//b/", b"a/b/", None, P::REPEATED_SLASH),
            (b"%2Flatest", b"/latest", None, P::ENCODED_SLASH),
        ];
        for (raw, want, query, must) in table {
            check(raw, want, *query, *must);
        }
    }

    #[test]
    fn clean_paths_borrow_and_carry_no_flags() {
        for raw in [
            &b"/latest/meta-data/"[..],
            b"/latest/meta-data-guide.html",
            b"/api/token",
            b"/latest/api/token?x=%2F",
            b"/caf\xc3\xa9/\xff",
        ] {
            let n = normalize_path(raw);
            assert!(matches!(n.path, Cow::Borrowed(_)), "{raw:?}");
            assert!(n.flags.is_empty(), "{raw:?}: {:?}", n.flags);
        }
    }

    /// Every byte of the target spelled with each encoding an attacker might pick.
    #[test]
    fn every_character_encoded() {
        let target = b"/latest/meta-data/";
        let encodings: [(&str, Encoder); 6] = [
            ("upper", |b| format!("%{b:02X}")),
            ("lower", |b| format!("%{b:02x}")),
            ("iis", |b| format!("%u{:04x}", u16::from(b))),
            ("double", |b| format!("%25{b:02X}")),
            ("triple", |b| format!("%2525{b:02x}")),
            ("overlong", |b| {
                format!("%{:02x}%{:02x}", 0xC0 | (b >> 6), 0x80 | (b & 0x3F))
            }),
        ];
        for (name, enc) in encodings {
            for i in 0..target.len() {
                let mut raw = target[..i].to_vec();
                raw.extend_from_slice(enc(target[i]).as_bytes());
                raw.extend_from_slice(&target[i + 1..]);
                let n = normalize_path(&raw);
                assert_eq!(
                    &*n.path,
                    target,
                    "{name} at {i}: {}",
                    String::from_utf8_lossy(&raw)
                );
                assert!(
                    n.flags.contains(PathFlags::PERCENT_DECODED),
                    "{name} at {i}"
                );
            }
        }
    }

    #[test]
    fn linear_on_large_inputs() {
        let mut big = b"/a".repeat(200_000);
        big.extend(b"/..".repeat(300_000));
        big.extend(b"%252525".repeat(100_000));
        big.extend(b"\xc0".repeat(100_000));
        let started = std::time::Instant::now();
        let n = normalize_path(&big);
        assert!(n.path.len() <= big.len());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    fn pathish() -> impl Strategy<Value = Vec<u8>> {
        let atoms: Vec<&'static [u8]> = vec![
            b"/",
            b"\\",
            b".",
            b"..",
            b";x",
            b";",
            b"a",
            b"b",
            b"%2e",
            b"%2f",
            b"%5c",
            b"%25",
            b"%2",
            b"%",
            b"%u002e",
            b"%c0%ae",
            b"\xc0\xaf",
            b"?",
            b"#",
            b"%00",
            b"%3b",
        ];
        proptest::collection::vec(proptest::sample::select(atoms), 0..24)
            .prop_map(|parts| parts.concat())
    }

    fn check_properties(raw: &[u8]) {
        let n = normalize_path(raw);
        assert!(n.path.len() <= raw.len());
        if let Some(q) = n.query {
            assert!(q.len() < raw.len());
        }
        if !n.path.iter().any(|b| matches!(b, b'%' | b'?' | b'#')) {
            let again = normalize_path(&n.path);
            assert_eq!(again.path, n.path, "not idempotent for {raw:?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes(raw in proptest::collection::vec(any::<u8>(), 0..256)) {
            check_properties(&raw);
        }

        #[test]
        fn path_like_bytes(raw in pathish()) {
            check_properties(&raw);
        }

        #[test]
        fn fast_path_agrees_with_rebuild(raw in pathish()) {
            if !needs_rewrite(&raw) {
                let absolute = raw.first().is_some_and(is_sep);
                let mut flags = PathFlags::empty();
                prop_assert_eq!(rebuild(&raw, absolute, &mut flags), raw);
            }
        }
    }

    /// The definition [`is_plain`] computes in one pass.
    fn is_plain_by_definition(path: &[u8]) -> bool {
        path.first() == Some(&b'/')
            && path
                .iter()
                .all(|&b| b.is_ascii() && !matches!(b, b'%' | b'\\' | b';'))
            && path.windows(2).all(|w| w != b"//")
            && path
                .split(|&b| b == b'/')
                .all(|segment| segment != b"." && segment != b"..")
    }

    #[test]
    fn plain_test_agrees_with_its_definition_on_edge_cases() {
        for p in [
            &b""[..],
            b"/",
            b"//",
            b"/.",
            b"/..",
            b"/...",
            b"/./",
            b"/../",
            b"/a/.",
            b"/a/..",
            b"/a/...",
            b"/a./",
            b"/.a/",
            b"/a//b",
            b"/a/",
            b"a/b",
            b"/a;b",
            b"/a%2f",
            b"/a\\b",
            b"/\xc0\xaf",
            b"/latest/meta-data/",
            b"/.well-known/x",
        ] {
            assert_eq!(is_plain(p), is_plain_by_definition(p), "{p:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn plain_test_agrees_with_its_definition(
            raw in proptest::collection::vec(proptest::sample::select(b"/.a%;\\\x80".to_vec()), 0..12)
        ) {
            proptest::prop_assert_eq!(is_plain(&raw), is_plain_by_definition(&raw), "{:?}", raw);
        }

        /// The fast path returns exactly what the full normaliser returns.
        #[test]
        fn plain_paths_skip_the_decoder_without_changing_the_result(
            raw in "(/[a-zA-Z0-9._~!$&'()*+,=:@-]{0,12}){1,6}(\\?[a-z=&0-9]{0,8})?"
        ) {
            let raw = raw.as_bytes();
            let fast = normalize_path(raw);
            let (path, _) = match memchr(b'?', raw) {
                Some(i) => (&raw[..i], ()),
                None => (raw, ()),
            };
            let decoded = pct::decode(path, true);
            let mut flags = decode_flags(decoded.first) | decode_flags(decoded.later);
            let full = match resolve_segments(&decoded.bytes, &mut flags) {
                Some(r) => r,
                None => decoded.bytes.to_vec(),
            };
            proptest::prop_assert_eq!(&fast.path[..], &full[..]);
            if is_plain(path) {
                proptest::prop_assert!(flags.is_empty(), "{:?}", flags);
                proptest::prop_assert!(fast.flags.is_empty());
            }
        }
    }
}
