//! Classification of an HTTP request-target (RFC 9112 §3.2) into its four forms.

use bitflags::bitflags;
use memchr::{memchr, memchr3};

bitflags! {
    /// Irregularities of an absolute-form target.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct TargetFlags: u32 {
        /// The scheme was not followed by exactly `//` (`http:169.254.169.254/`, `http:/x`,
        /// `http:\\x`). WHATWG URL parsers, and so browsers and many HTTP libraries, still read
        /// an authority there for the special schemes, so this target is taken that way too.
        const SCHEME_SLASHES = 1 << 0;
        /// A `\` ended the authority, as WHATWG parsers do for special schemes;
        /// [`RequestTarget::Absolute::alt_authority`] holds the RFC 3986 reading.
        const BACKSLASH_AUTHORITY = 1 << 1;
        /// A `#fragment` was present (and is not part of the path or query).
        const FRAGMENT = 1 << 2;
        /// The path was empty and `/` was substituted (RFC 9112 §3.2.2).
        const EMPTY_PATH = 1 << 3;
    }
}

/// An HTTP request-target, split into its parts without decoding anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestTarget<'a> {
    /// `/path?query`: the usual form sent to an origin server.
    Origin {
        /// From the leading `/` to the first `?` or `#`.
        path: &'a [u8],
        /// After the first `?`, up to any `#`.
        query: Option<&'a [u8]>,
        /// After the first `#` (not sent by conforming clients).
        fragment: Option<&'a [u8]>,
    },
    /// `scheme://authority/path?query`: the form sent to a forward proxy, and so the form an
    /// SSRF through a proxy takes.
    Absolute {
        /// The scheme as sent (compare case-insensitively).
        scheme: &'a [u8],
        /// Everything between the slashes after the scheme and the first `/`, `\`, `?` or `#`,
        /// userinfo included; feed it to [`parse_authority`](crate::normalize::parse_authority).
        authority: &'a [u8],
        /// When a `\` ended `authority`: the authority as a parser that does not treat `\` as a
        /// separator reads it (up to `/`, `?` or `#`). `http://a\@169.254.169.254/` names host
        /// `a` for a browser and 169.254.169.254 for such a parser; check both.
        alt_authority: Option<&'a [u8]>,
        /// The path, `/` when empty.
        path: &'a [u8],
        /// After the first `?`, up to any `#`.
        query: Option<&'a [u8]>,
        /// After the first `#`.
        fragment: Option<&'a [u8]>,
        /// Irregularities found.
        flags: TargetFlags,
    },
    /// `host:port`, the CONNECT form. Also any other target without `/`, `?`, `#` or `\` that
    /// is not `*`, such as `169.254.169.254` or an unbracketed IPv6 address, since a proxy
    /// can only take it as an authority.
    Authority(&'a [u8]),
    /// `*`, as in `OPTIONS *`.
    Asterisk,
    /// None of the forms: empty, or a relative path such as `latest/meta-data`.
    Other(&'a [u8]),
}

/// Schemes for which WHATWG URL parsers read an authority whatever slashes follow the colon.
const SPECIAL_SCHEMES: [&[u8]; 5] = [b"http", b"https", b"ws", b"wss", b"ftp"];

/// Classifies a request-target. Nothing is decoded; the pieces borrow `raw`.
///
/// Absolute-form is recognised for any scheme followed by `://` (scheme matched by the RFC 3986
/// grammar, any case), and for the special schemes of WHATWG URL parsing (`http`, `https`, `ws`,
/// `wss`, `ftp`) followed by any run of `/` and `\`, even none, flagged
/// [`TargetFlags::SCHEME_SLASHES`]. `name:digits` is authority-form, not a scheme.
pub fn split_target(raw: &[u8]) -> RequestTarget<'_> {
    if raw == b"*" {
        return RequestTarget::Asterisk;
    }
    if raw.first() == Some(&b'/') {
        let (path, query, fragment) = split_path_query_fragment(raw);
        return RequestTarget::Origin {
            path,
            query,
            fragment,
        };
    }
    if let Some((scheme, rest)) = split_scheme(raw) {
        if rest.iter().all(u8::is_ascii_digit) {
            return RequestTarget::Authority(raw);
        }
        let slashes = rest
            .iter()
            .take_while(|b| matches!(b, b'/' | b'\\'))
            .count();
        let standard = rest.starts_with(b"//") && slashes == 2;
        let special = SPECIAL_SCHEMES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme));
        if standard || special {
            let mut flags = TargetFlags::empty();
            if !standard {
                flags |= TargetFlags::SCHEME_SLASHES;
            }
            let after = rest.get(slashes..).unwrap_or_default();
            return absolute(scheme, after, flags);
        }
    }
    if !raw.is_empty() && memchr3(b'/', b'?', b'#', raw).is_none() && memchr(b'\\', raw).is_none() {
        return RequestTarget::Authority(raw);
    }
    RequestTarget::Other(raw)
}

/// `scheme ":" rest` when `raw` starts with an RFC 3986 scheme
/// (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`).
fn split_scheme(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    if !raw.first()?.is_ascii_alphabetic() {
        return None;
    }
    let end = raw
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))?;
    match raw.split_at_checked(end)? {
        (scheme, [b':', rest @ ..]) => Some((scheme, rest)),
        _ => None,
    }
}

fn absolute<'a>(scheme: &'a [u8], after: &'a [u8], mut flags: TargetFlags) -> RequestTarget<'a> {
    let rfc_end = memchr3(b'/', b'?', b'#', after).unwrap_or(after.len());
    let end = memchr(b'\\', after)
        .filter(|&b| b < rfc_end)
        .unwrap_or(rfc_end);
    let authority = after.get(..end).unwrap_or_default();
    let alt_authority = if end < rfc_end {
        flags |= TargetFlags::BACKSLASH_AUTHORITY;
        after.get(..rfc_end)
    } else {
        None
    };
    let (mut path, query, fragment) =
        split_path_query_fragment(after.get(end..).unwrap_or_default());
    if fragment.is_some() {
        flags |= TargetFlags::FRAGMENT;
    }
    if path.is_empty() {
        path = b"/";
        flags |= TargetFlags::EMPTY_PATH;
    }
    RequestTarget::Absolute {
        scheme,
        authority,
        alt_authority,
        path,
        query,
        fragment,
        flags,
    }
}

/// Splits at the first `#` (fragment), then at the first `?` before it (query).
fn split_path_query_fragment(s: &[u8]) -> (&[u8], Option<&[u8]>, Option<&[u8]>) {
    let (before, fragment) = match memchr(b'#', s) {
        Some(i) => (s.get(..i).unwrap_or_default(), s.get(i + 1..)),
        None => (s, None),
    };
    match memchr(b'?', before) {
        Some(i) => (
            before.get(..i).unwrap_or_default(),
            before.get(i + 1..),
            fragment,
        ),
        None => (before, None, fragment),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Abs<'a> = (
        &'a [u8],
        &'a [u8],
        Option<&'a [u8]>,
        &'a [u8],
        Option<&'a [u8]>,
        TargetFlags,
    );

    fn abs(raw: &[u8]) -> Abs<'_> {
        match split_target(raw) {
            RequestTarget::Absolute {
                scheme,
                authority,
                alt_authority,
                path,
                query,
                flags,
                ..
            } => (scheme, authority, alt_authority, path, query, flags),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(raw)),
        }
    }

    #[test]
    fn absolute_forms() {
        use TargetFlags as T;
        let none = T::empty();
        let table: &[(&[u8], Abs<'_>)] = &[
            (
                b"http://169.254.169.254/latest/meta-data?x=1#f",
                (
                    b"http",
                    b"169.254.169.254",
                    None,
                    b"/latest/meta-data",
                    Some(b"x=1"),
                    T::FRAGMENT,
                ),
            ),
            (
                b"HTTP://h",
                (b"HTTP", b"h", None, b"/", None, T::EMPTY_PATH),
            ),
            (
                b"http://h?x",
                (b"http", b"h", None, b"/", Some(b"x"), T::EMPTY_PATH),
            ),
            (
                b"gopher://h:70/x",
                (b"gopher", b"h:70", None, b"/x", None, none),
            ),
            (
                b"svn+ssh://u@h/x",
                (b"svn+ssh", b"u@h", None, b"/x", None, none),
            ),
            (
                b"http:169.254.169.254/latest",
                (
                    b"http",
                    b"169.254.169.254",
                    None,
                    b"/latest",
                    None,
                    T::SCHEME_SLASHES,
                ),
            ),
            (
                b"HtTpS:///169.254.169.254",
                (
                    b"HtTpS",
                    b"169.254.169.254",
                    None,
                    b"/",
                    None,
                    T::SCHEME_SLASHES.union(T::EMPTY_PATH),
                ),
            ),
            (
                b"http:\\\\169.254.169.254\\latest",
                (
                    b"http",
                    b"169.254.169.254",
                    Some(b"169.254.169.254\\latest"),
                    b"\\latest",
                    None,
                    T::SCHEME_SLASHES.union(T::BACKSLASH_AUTHORITY),
                ),
            ),
            (
                b"http://a:80\\@169.254.169.254/",
                (
                    b"http",
                    b"a:80",
                    Some(b"a:80\\@169.254.169.254"),
                    b"\\@169.254.169.254/",
                    None,
                    T::BACKSLASH_AUTHORITY,
                ),
            ),
            (
                b"http://1.1.1.1 &@169.254.169.254# @3.3.3.3/",
                (
                    b"http",
                    b"1.1.1.1 &@169.254.169.254",
                    None,
                    b"/",
                    None,
                    T::FRAGMENT.union(T::EMPTY_PATH),
                ),
            ),
        ];
        for (raw, want) in table {
            assert_eq!(abs(raw), *want, "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn other_forms() {
        let t = |r: &'static [u8]| split_target(r);
        assert_eq!(t(b"*"), RequestTarget::Asterisk);
        assert_eq!(
            t(b"/p?q#f"),
            RequestTarget::Origin {
                path: b"/p",
                query: Some(b"q"),
                fragment: Some(b"f")
            }
        );
        assert_eq!(
            t(b"//latest//meta-data"),
            RequestTarget::Origin {
                path: b"//latest//meta-data",
                query: None,
                fragment: None
            }
        );
        for a in [
            &b"169.254.169.254:80"[..],
            b"[fd00:ec2::254]:443",
            b"localhost:8080",
            b"localhost:",
            b"http:80",
            b"fd00:ec2::254",
            b"169.254.169.254",
            b"evil.com@169.254.169.254:80",
            b"**",
        ] {
            assert_eq!(
                t(a),
                RequestTarget::Authority(a),
                "{:?}",
                String::from_utf8_lossy(a)
            );
        }
        for o in [
            &b""[..],
            b"latest/meta-data",
            b"169.254.169.254/latest",
            b"mailto:a/b",
            b"a?b",
        ] {
            assert_eq!(
                t(o),
                RequestTarget::Other(o),
                "{:?}",
                String::from_utf8_lossy(o)
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(raw in proptest::collection::vec(any::<u8>(), 0..128)) {
            match split_target(&raw) {
                RequestTarget::Absolute { authority, path, .. } => {
                    prop_assert!(authority.len() + path.len() <= raw.len() + 1);
                }
                RequestTarget::Origin { path, .. } => prop_assert!(path.len() <= raw.len()),
                _ => {}
            }
        }
    }
}
