//! Response-side evidence: a credential document in the body, `Server: EC2ws`.

/// Finds out, in a bounded prefix of a response body fed in any pieces, whether the body *is*
/// a credential document: a JSON object whose own (top-level) keys include `AccessKeyId`,
/// `SecretAccessKey` and `Token`, in any order and spacing.
///
/// A page that merely quotes such a document is not one: the body must start (after
/// whitespace) with `{`, and the keys must sit at depth 1 of that object. The scanner keeps
/// a few bytes of state and looks at each body byte at most once.
#[derive(Debug, Clone, Copy)]
pub struct CredentialScanner {
    state: ScanState,
    depth: u32,
    /// Bit 0: AccessKeyId, bit 1: SecretAccessKey, bit 2: Token.
    seen: u8,
    key: [u8; 16],
    key_len: u8,
    key_overflow: bool,
    in_key_string: bool,
    expect_key: bool,
    scanned: usize,
    limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScanState {
    Start,
    Structure,
    InString,
    Escape,
    Found,
    NotADocument,
}

/// [`byte_class`] bit: a byte the `Structure` state acts on.
const STRUCTURE: u8 = 1;
/// [`byte_class`] bit: a byte that ends or escapes inside a string.
const STRING_END: u8 = 2;

/// The scanner's byte classes (see [`CredentialScanner::feed`]).
#[allow(clippy::indexing_slicing)] // constant indexes into a 256-entry table, in a static
static BYTE_CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'{' as usize] = STRUCTURE;
    t[b'}' as usize] = STRUCTURE;
    t[b'[' as usize] = STRUCTURE;
    t[b']' as usize] = STRUCTURE;
    t[b',' as usize] = STRUCTURE;
    t[b':' as usize] = STRUCTURE;
    t[b'"' as usize] = STRUCTURE | STRING_END;
    t[b'\\' as usize] = STRING_END;
    t
};

#[inline]
fn byte_class(b: u8) -> u8 {
    BYTE_CLASSES.get(usize::from(b)).copied().unwrap_or(0)
}

const KEYS: [&[u8]; 3] = [b"AccessKeyId", b"SecretAccessKey", b"Token"];

impl CredentialScanner {
    /// A scanner that looks at no more than `limit` body bytes.
    pub fn new(limit: usize) -> CredentialScanner {
        CredentialScanner {
            state: ScanState::Start,
            depth: 0,
            seen: 0,
            key: [0; 16],
            key_len: 0,
            key_overflow: false,
            in_key_string: false,
            expect_key: false,
            scanned: 0,
            limit,
        }
    }

    /// Whether the body was found to be a credential document.
    pub fn found(&self) -> bool {
        self.state == ScanState::Found
    }

    /// Whether more bytes can change the answer.
    pub fn is_done(&self) -> bool {
        matches!(self.state, ScanState::Found | ScanState::NotADocument)
    }

    /// Feeds the next body bytes.
    pub fn feed(&mut self, data: &[u8]) {
        let mut rest = data;
        while let Some((&b, tail)) = rest.split_first() {
            if self.is_done() {
                return;
            }
            if self.scanned >= self.limit {
                self.state = ScanState::NotADocument;
                return;
            }
            // Most bytes of a JSON body change nothing here: between tokens only structure
            // matters, and inside a string that cannot be one of the keys (a value, a nested
            // key, a key already too long) only a quote or a backslash. Those runs are skipped
            // with a table look-up per byte instead of a trip through the state machine.
            let class = match self.state {
                ScanState::Structure => STRUCTURE,
                ScanState::InString if !self.in_key_string || self.key_overflow => STRING_END,
                _ => 0,
            };
            if class != 0 {
                let room = self.limit - self.scanned;
                let window = rest.get(..room).unwrap_or(rest);
                let skip = window
                    .iter()
                    .position(|&c| byte_class(c) & class != 0)
                    .unwrap_or(window.len());
                if skip > 0 {
                    self.scanned += skip;
                    rest = rest.get(skip..).unwrap_or_default();
                    continue;
                }
            }
            self.scanned += 1;
            self.byte(b);
            rest = tail;
        }
    }

    fn byte(&mut self, b: u8) {
        match self.state {
            ScanState::Start => match b {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b'{' => {
                    self.state = ScanState::Structure;
                    self.depth = 1;
                    self.expect_key = true;
                }
                _ => self.state = ScanState::NotADocument,
            },
            ScanState::Structure => match b {
                b'"' => {
                    self.state = ScanState::InString;
                    self.in_key_string = self.depth == 1 && self.expect_key;
                    self.key_len = 0;
                    self.key_overflow = false;
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    self.expect_key = false;
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        // The top-level object closed without all three keys.
                        self.state = ScanState::NotADocument;
                    }
                }
                b',' if self.depth == 1 => self.expect_key = true,
                b':' => self.expect_key = false,
                _ => {}
            },
            ScanState::InString => match b {
                b'\\' => {
                    self.state = ScanState::Escape;
                    // An escaped key is not one of ours (no real server escapes them).
                    self.key_overflow = true;
                }
                b'"' => {
                    self.state = ScanState::Structure;
                    if self.in_key_string {
                        self.expect_key = false;
                        if !self.key_overflow {
                            let key = self
                                .key
                                .get(..usize::from(self.key_len))
                                .unwrap_or_default();
                            for (i, k) in KEYS.iter().enumerate() {
                                if key == *k {
                                    self.seen |= 1 << i;
                                }
                            }
                            if self.seen == 0b111 {
                                self.state = ScanState::Found;
                            }
                        }
                    }
                }
                _ if self.in_key_string => match self.key.get_mut(usize::from(self.key_len)) {
                    Some(slot) => {
                        *slot = b;
                        self.key_len += 1;
                    }
                    None => self.key_overflow = true,
                },
                _ => {}
            },
            ScanState::Escape => self.state = ScanState::InString,
            ScanState::Found | ScanState::NotADocument => {}
        }
    }
}

/// Whether a `Server` header value is the genuine IMDS's `EC2ws`.
pub fn is_imds_server(value: &[u8]) -> bool {
    crate::http::token::trim_ows(value).eq_ignore_ascii_case(b"EC2ws")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &[u8] = br#"{
  "Code" : "Success",
  "LastUpdated" : "2026-11-30T02:00:00Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAEXAMPLE",
  "SecretAccessKey" : "secret\"with\\escapes",
  "Token" : "IQoJ...",
  "Expiration" : "2026-11-30T08:00:00Z"
}"#;

    fn scan(body: &[u8]) -> bool {
        let mut s = CredentialScanner::new(64 * 1024);
        s.feed(body);
        s.found()
    }

    #[test]
    fn finds_documents_in_any_order_and_spacing() {
        assert!(scan(DOC));
        assert!(scan(
            br#"{"Token":"t","SecretAccessKey":"s","AccessKeyId":"a"}"#
        ));
        assert!(scan(
            b"\r\n  {\"AccessKeyId\":1,\"x\":{\"y\":[1,2]},\"SecretAccessKey\":2,\"Token\":3}"
        ));
    }

    #[test]
    fn every_split_gives_the_same_answer() {
        for split in 0..DOC.len() {
            let mut s = CredentialScanner::new(64 * 1024);
            s.feed(&DOC[..split]);
            s.feed(&DOC[split..]);
            assert!(s.found(), "split {split}");
        }
    }

    /// The scanner as it was before strings were skipped: every byte through `byte`.
    fn byte_at_a_time(limit: usize, pieces: &[&[u8]]) -> (ScanState, usize) {
        let mut s = CredentialScanner::new(limit);
        for &b in pieces.iter().flat_map(|p| p.iter()) {
            if s.is_done() {
                break;
            }
            if s.scanned >= s.limit {
                s.state = ScanState::NotADocument;
                break;
            }
            s.scanned += 1;
            s.byte(b);
        }
        (s.state, s.seen.into())
    }

    proptest::proptest! {
        #[test]
        fn skipping_strings_changes_no_answer(
            picks in proptest::collection::vec(0usize..16, 0..120),
            cut in 0usize..130,
            limit in 0usize..140,
        ) {
            const PARTS: [&[u8]; 16] = [
                b"{", b"}", b"[", b"]", b"\"", b":", b",", b"\\", b" ", b"x",
                b"AccessKeyId", b"SecretAccessKey", b"Token", b"\"Token\"", b"0123456789abcdefXYZ", b"\\\"",
            ];
            // Most bodies open an object, so that the scanner gets past its first byte.
            let open: &[u8] = if picks.len() % 4 == 0 { b"" } else { b"{\"" };
            let body: Vec<u8> = open
                .iter()
                .copied()
                .chain(picks.iter().flat_map(|&i| PARTS[i].iter().copied()))
                .collect();
            let cut = cut.min(body.len());
            let mut s = CredentialScanner::new(limit);
            s.feed(&body[..cut]);
            s.feed(&body[cut..]);
            proptest::prop_assert_eq!(
                (s.state, usize::from(s.seen)),
                byte_at_a_time(limit, &[&body[..cut], &body[cut..]])
            );
        }
    }

    #[test]
    fn quotes_and_near_misses_are_not_documents() {
        let html = [b"<pre>".as_ref(), DOC, b"</pre>"].concat();
        assert!(!scan(&html));
        assert!(!scan(
            br#"{"example": {"AccessKeyId":"a","SecretAccessKey":"s","Token":"t"}}"#
        ));
        assert!(!scan(br#"{"AccessKeyId":"a","SecretAccessKey":"s"}"#));
        assert!(!scan(br#"{"note":"AccessKeyId SecretAccessKey Token"}"#));
        assert!(!scan(br#"["AccessKeyId","SecretAccessKey","Token"]"#));
        assert!(!scan(
            br#"{"accesskeyid":"a","secretaccesskey":"s","token":"t"}"#
        ));
        assert!(!scan(b""));
    }

    #[test]
    fn bounded_prefix() {
        let mut padded = b"{\"pad\":\"".to_vec();
        padded.extend(std::iter::repeat_n(b'x', 100));
        padded.extend_from_slice(br#"","AccessKeyId":"a","SecretAccessKey":"s","Token":"t"}"#);
        let mut s = CredentialScanner::new(50);
        s.feed(&padded);
        assert!(!s.found() && s.is_done());
    }

    #[test]
    fn server_header() {
        assert!(is_imds_server(b"EC2ws"));
        assert!(is_imds_server(b" ec2ws "));
        assert!(!is_imds_server(b"EC2ws/1.0"));
        assert!(!is_imds_server(b"nginx"));
    }
}
