//! Alerts as C sees them, shared by flows and trackers.

use super::status::imdsguard_status::{self, *};
use super::types::{
    imdsguard_event, imdsguard_str, IMDSGUARD_DECISION_ALERT, IMDSGUARD_DECISION_SUPPRESSED,
};
use crate::event::{Alert, HttpInfo};
use crate::imds::{sid, Provider, Stage};
use crate::policy::Decision;
use once_cell::sync::Lazy;
use std::ffi::{c_char, CStr, CString};

/// Signature names as static C strings, built once.
static SIGNATURE_NAMES: Lazy<Vec<(u32, CString)>> = Lazy::new(|| {
    sid::ALL
        .iter()
        .filter_map(|s| CString::new(s.name).ok().map(|c| (s.id, c)))
        .collect()
});

fn signature_name(id: u32) -> *const c_char {
    SIGNATURE_NAMES
        .iter()
        .find(|(i, _)| *i == id)
        .map_or(c"".as_ptr(), |(_, c)| c.as_ptr())
}

fn stage_name(stage: Stage) -> &'static CStr {
    match stage {
        Stage::Probe => c"probe",
        Stage::Request => c"request",
        Stage::Token => c"token",
        Stage::Credentials => c"credentials",
    }
}

fn provider_name(p: Provider) -> &'static CStr {
    match p {
        Provider::Aws => c"aws",
        Provider::AwsEcs => c"aws-ecs",
        Provider::AwsEksPodIdentity => c"aws-eks-pod-identity",
        Provider::Gcp => c"gcp",
        Provider::Azure => c"azure",
        Provider::Alibaba => c"alibaba",
        Provider::Oci => c"oci",
        Provider::DigitalOcean => c"digitalocean",
        Provider::OpenStack => c"openstack",
        Provider::Hetzner => c"hetzner",
    }
}

/// The C view of an alert; its `imdsguard_str` fields borrow from `a`.
pub(crate) fn event_of(a: &Alert) -> imdsguard_event {
    let http = a.http.as_ref();
    let s = |pick: fn(&HttpInfo) -> &[u8]| {
        http.map_or(imdsguard_str::empty(), |h| imdsguard_str::of(pick(h)))
    };
    imdsguard_event {
        timestamp_us: a.timestamp_us,
        tx_id: a.tx.unwrap_or(0),
        has_tx: a.tx.is_some(),
        signature_id: a.signature.id,
        signature_rev: a.signature.rev,
        signature: signature_name(a.signature.id),
        severity: a.signature.severity,
        stage: a.stage as u8,
        stage_name: stage_name(a.stage).as_ptr(),
        provider: a.provider as u8,
        provider_name: provider_name(a.provider).as_ptr(),
        indicators: a.indicators.bits(),
        http_anomalies: a.anomalies.bits(),
        decision: match a.decision {
            Decision::Alert => IMDSGUARD_DECISION_ALERT,
            Decision::Suppressed { .. } => IMDSGUARD_DECISION_SUPPRESSED,
        },
        suppressed_by: match &a.decision {
            Decision::Suppressed { rule } => imdsguard_str::of(rule.as_bytes()),
            Decision::Alert => imdsguard_str::empty(),
        },
        has_http: http.is_some(),
        http_hostname: s(|h| &h.hostname),
        http_url: s(|h| &h.url),
        http_method: s(|h| &h.method),
        http_user_agent: s(|h| &h.user_agent),
        http_protocol: s(|h| &h.protocol),
        http_status: http.and_then(|h| h.status).unwrap_or(0),
        has_responder_ttl: a.responder.ttl.is_some(),
        responder_ttl: a.responder.ttl.unwrap_or(0),
    }
}

/// Renders `alert` as one EVE-JSON object into `buf` (NUL-terminated, no newline), or says
/// how much room it needs.
///
/// # Safety
/// `buf` points to `cap` writable bytes when `cap` > 0; `needed` is writable.
pub(crate) unsafe fn render_eve(
    alert: Option<&Alert>,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> imdsguard_status {
    let Some(alert) = alert else {
        return IMDSGUARD_NO_EVENT;
    };
    let mut line = Vec::with_capacity(1024);
    if crate::event::write_eve_line(alert, &mut line).is_err() {
        return IMDSGUARD_PANIC;
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    // SAFETY: writable per the contract.
    unsafe { needed.write(line.len() + 1) };
    if cap < line.len() + 1 {
        return IMDSGUARD_BUFFER_TOO_SMALL;
    }
    // SAFETY: `buf` holds `cap` >= len + 1 writable bytes per the contract.
    unsafe {
        std::ptr::copy_nonoverlapping(line.as_ptr(), buf.cast::<u8>(), line.len());
        buf.add(line.len()).write(0);
    }
    IMDSGUARD_OK
}
