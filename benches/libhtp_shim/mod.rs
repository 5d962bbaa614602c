//! libhtp 0.5 (Suricata 7's HTTP parser) as a bench peer, through direct `extern "C"`
//! declarations: no C compiler and no build script needed, only Debian's `libhtp-dev`
//! (`apt-get install libhtp-dev`; 0.5.42 on Debian 12). Compiled only with the bench feature
//! `libhtp` (`cargo bench --features libhtp`).
//!
//! Configured like Suricata 7's defaults: IDS personality, field limits 9,000 / 18,000,
//! response decompression on, request decompression off; one connection parser per flow;
//! transactions freed by libhtp as they complete (`tx_auto_destroy`). The IMDS rule runs in
//! the request-headers callback, on the parsed URI and header table (the peer rule shared
//! with httparse; see `imds_rule` in `flow.rs`).
//!
//! The callback reads two fields of `htp_tx_t` (`request_uri`, `request_headers`). Their
//! offsets (72 and 128 on x86_64 in 0.5.42) were taken with `offsetof` from
//! `/usr/include/htp/htp.h`; [`HtpTx`] mirrors the struct up to them and the offsets are
//! asserted below. The benches check on every corpus that every request and response was
//! parsed and that exactly the IMDS requests matched, which a wrong layout would not pass.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

#[repr(C)]
struct Bstr {
    len: usize,
    size: usize,
    realptr: *mut u8,
}

/// The bytes of a `bstr` (libhtp's `bstr_ptr` / `bstr_len` macros).
///
/// # Safety
/// `b` is null or a valid `bstr` that outlives the returned slice.
unsafe fn bstr_bytes<'a>(b: *const Bstr) -> &'a [u8] {
    if b.is_null() {
        return &[];
    }
    let len = (*b).len;
    let p = if (*b).realptr.is_null() {
        (b as *const u8).add(size_of::<Bstr>())
    } else {
        (*b).realptr as *const u8
    };
    std::slice::from_raw_parts(p, len)
}

#[repr(C)]
struct HtpHeader {
    name: *mut Bstr,
    value: *mut Bstr,
    flags: u64,
}

/// The leading fields of `htp_tx_t` (libhtp 0.5.42, `htp.h`), up to `request_headers`.
#[repr(C)]
struct HtpTx {
    connp: *mut c_void,
    conn: *mut c_void,
    cfg: *mut c_void,
    is_config_shared: c_int,
    user_data: *mut c_void,
    request_ignored_lines: u32,
    request_line: *mut Bstr,
    request_method: *mut Bstr,
    request_method_number: c_int,
    request_uri: *mut Bstr,
    request_protocol: *mut Bstr,
    request_protocol_number: c_int,
    is_protocol_0_9: c_int,
    parsed_uri: *mut c_void,
    parsed_uri_raw: *mut c_void,
    request_message_len: i64,
    request_entity_len: i64,
    request_headers: *mut c_void,
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(std::mem::offset_of!(HtpTx, request_uri) == 72);
    assert!(std::mem::offset_of!(HtpTx, request_headers) == 128);
    assert!(size_of::<Bstr>() == 24);
};

#[repr(C)]
struct Timeval {
    tv_sec: i64,
    tv_usec: i64,
}

type TxCallback = extern "C" fn(*mut HtpTx) -> c_int;

const HTP_OK: c_int = 1;
const HTP_SERVER_IDS: c_int = 2;
const HTP_STREAM_ERROR: c_int = 3;

#[link(name = "htp")]
extern "C" {
    fn htp_config_create() -> *mut c_void;
    fn htp_config_destroy(cfg: *mut c_void);
    fn htp_config_set_server_personality(cfg: *mut c_void, personality: c_int) -> c_int;
    fn htp_config_set_field_limits(cfg: *mut c_void, soft: usize, hard: usize);
    fn htp_config_set_tx_auto_destroy(cfg: *mut c_void, enabled: c_int);
    fn htp_config_set_request_decompression(cfg: *mut c_void, enabled: c_int);
    fn htp_config_set_response_decompression(cfg: *mut c_void, enabled: c_int);
    fn htp_config_register_request_headers(cfg: *mut c_void, cb: TxCallback);
    fn htp_config_register_request_complete(cfg: *mut c_void, cb: TxCallback);
    fn htp_config_register_response_complete(cfg: *mut c_void, cb: TxCallback);
    fn htp_connp_create(cfg: *mut c_void) -> *mut c_void;
    fn htp_connp_destroy_all(connp: *mut c_void);
    fn htp_connp_open(
        connp: *mut c_void,
        client_addr: *const c_char,
        client_port: c_int,
        server_addr: *const c_char,
        server_port: c_int,
        timestamp: *const Timeval,
    );
    fn htp_connp_close(connp: *mut c_void, timestamp: *const Timeval);
    fn htp_connp_req_data(
        connp: *mut c_void,
        timestamp: *const Timeval,
        data: *const c_void,
        len: usize,
    ) -> c_int;
    fn htp_connp_res_data(
        connp: *mut c_void,
        timestamp: *const Timeval,
        data: *const c_void,
        len: usize,
    ) -> c_int;
    fn htp_connp_set_user_data(connp: *mut c_void, user_data: *const c_void);
    fn htp_connp_get_user_data(connp: *const c_void) -> *mut c_void;
    fn htp_table_get_c(table: *const c_void, key: *const c_char) -> *mut c_void;
}

/// What a connection's callbacks counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub requests: usize,
    pub responses: usize,
    /// Requests the IMDS rule matched.
    pub imds: usize,
    /// Calls that returned `HTP_STREAM_ERROR`.
    pub errors: usize,
}

/// The peer IMDS rule on a parsed request: target, `Host` value, whether an IMDSv2 token
/// header (`X-aws-ec2-metadata-token` or `...-ttl-seconds`) is present.
pub type Rule = fn(uri: &[u8], host: Option<&[u8]>, token_header: bool) -> bool;

struct UserData {
    counts: Counts,
    rule: Option<Rule>,
}

fn user_data<'a>(tx: *mut HtpTx) -> &'a mut UserData {
    // SAFETY: every connection parser gets a `UserData` that outlives it (see `Conn`), and
    // libhtp hands back the transaction of that parser.
    unsafe { &mut *(htp_connp_get_user_data((*tx).connp) as *mut UserData) }
}

extern "C" fn on_request_headers(tx: *mut HtpTx) -> c_int {
    let ud = user_data(tx);
    if let Some(rule) = ud.rule {
        // SAFETY: the transaction and its fields are valid during the callback, and the
        // slices do not outlive it. libhtp's table look-ups ignore case.
        let matched = unsafe {
            let uri = bstr_bytes((*tx).request_uri);
            let headers = (*tx).request_headers;
            let get = |name: &CStr| htp_table_get_c(headers, name.as_ptr()) as *const HtpHeader;
            let host = get(c"host");
            let host = (!host.is_null()).then(|| bstr_bytes((*host).value));
            let token = !get(c"x-aws-ec2-metadata-token").is_null()
                || !get(c"x-aws-ec2-metadata-token-ttl-seconds").is_null();
            rule(uri, host, token)
        };
        if matched {
            ud.counts.imds += 1;
        }
    }
    HTP_OK
}

extern "C" fn on_request_complete(tx: *mut HtpTx) -> c_int {
    user_data(tx).counts.requests += 1;
    HTP_OK
}

extern "C" fn on_response_complete(tx: *mut HtpTx) -> c_int {
    user_data(tx).counts.responses += 1;
    HTP_OK
}

/// A libhtp configuration, shared by its connections.
pub struct Config {
    cfg: *mut c_void,
    rule: Option<Rule>,
}

// SAFETY: a configuration is read-only once built (Suricata shares one between threads).
unsafe impl Send for Config {}
unsafe impl Sync for Config {}

impl Config {
    /// A Suricata-7-like configuration; `rule` runs on every request's headers.
    pub fn new(rule: Option<Rule>) -> Config {
        // SAFETY: plain libhtp calls on the configuration just created.
        unsafe {
            let cfg = htp_config_create();
            assert!(!cfg.is_null(), "htp_config_create");
            htp_config_set_server_personality(cfg, HTP_SERVER_IDS);
            htp_config_set_field_limits(cfg, 9000, 18000);
            htp_config_set_tx_auto_destroy(cfg, 1);
            htp_config_set_request_decompression(cfg, 0);
            htp_config_set_response_decompression(cfg, 1);
            htp_config_register_request_headers(cfg, on_request_headers);
            htp_config_register_request_complete(cfg, on_request_complete);
            htp_config_register_response_complete(cfg, on_response_complete);
            Config { cfg, rule }
        }
    }

    /// A connection parser (one per flow).
    pub fn conn(&self) -> Conn {
        let ud = Box::new(UserData {
            counts: Counts::default(),
            rule: self.rule,
        });
        // SAFETY: the configuration outlives the parser (callers keep `Config` alive; the
        // benches hold it for the whole run); the user data is boxed and freed after it.
        unsafe {
            let connp = htp_connp_create(self.cfg);
            assert!(!connp.is_null(), "htp_connp_create");
            htp_connp_set_user_data(connp, &*ud as *const UserData as *const c_void);
            htp_connp_open(
                connp,
                c"10.20.0.1".as_ptr(),
                40000,
                c"93.184.216.34".as_ptr(),
                80,
                &TS,
            );
            Conn { connp, ud }
        }
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        // SAFETY: no connection parser of this configuration is left (they borrow nothing
        // but are dropped before the configuration in every bench).
        unsafe { htp_config_destroy(self.cfg) }
    }
}

const TS: Timeval = Timeval {
    tv_sec: 1_715_000_000,
    tv_usec: 0,
};

/// One connection parser and its callback counts.
pub struct Conn {
    connp: *mut c_void,
    ud: Box<UserData>,
}

impl Conn {
    /// Client bytes.
    pub fn req(&mut self, data: &[u8]) {
        // SAFETY: a valid parser and buffer.
        let rc = unsafe { htp_connp_req_data(self.connp, &TS, data.as_ptr().cast(), data.len()) };
        if rc == HTP_STREAM_ERROR {
            self.ud.counts.errors += 1;
        }
    }

    /// Server bytes.
    pub fn res(&mut self, data: &[u8]) {
        // SAFETY: a valid parser and buffer.
        let rc = unsafe { htp_connp_res_data(self.connp, &TS, data.as_ptr().cast(), data.len()) };
        if rc == HTP_STREAM_ERROR {
            self.ud.counts.errors += 1;
        }
    }

    /// Ends both directions.
    pub fn close(&mut self) {
        // SAFETY: a valid parser.
        unsafe { htp_connp_close(self.connp, &TS) }
    }

    pub fn counts(&self) -> Counts {
        self.ud.counts
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: the parser is valid and not used again; the user data is freed after it.
        unsafe { htp_connp_destroy_all(self.connp) };
        self.connp = ptr::null_mut();
    }
}
