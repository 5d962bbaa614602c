//! From indicators to a stage and a signature (ARCHITECTURE §2).

use super::{sid, Indicators, Signature, Stage};

/// Indicators that say the traffic was addressed to a metadata endpoint (by address or
/// name), as opposed to an ordinary host that merely behaves like one.
const ADDRESSED: Indicators = Indicators::DST_IMDS
    .union(Indicators::HOST_IMDS)
    .union(Indicators::ECS_ENDPOINT)
    .union(Indicators::EKS_POD_IDENTITY)
    .union(Indicators::OTHER_CLOUD);

/// Indicators of a metadata *request* (besides the address).
const REQUEST: Indicators = Indicators::HOST_IMDS
    .union(Indicators::PATH_METADATA)
    .union(Indicators::PATH_TOKEN)
    .union(Indicators::HDR_TOKEN)
    .union(Indicators::HDR_TOKEN_TTL)
    .union(Indicators::PATH_CREDENTIALS)
    .union(Indicators::ECS_ENDPOINT)
    .union(Indicators::EKS_POD_IDENTITY)
    .union(Indicators::OTHER_CLOUD);

/// The stage an HTTP transaction reached. `http` tells whether an HTTP request was seen: a
/// request of any kind to a metadata address is at least the `request` stage; `probe` is
/// contact without HTTP.
pub fn stage(indicators: Indicators, http: bool) -> Stage {
    if indicators.contains(Indicators::RESP_CREDENTIALS) {
        Stage::Credentials
    } else if indicators.intersects(
        Indicators::RESP_TOKEN_GRANTED | Indicators::PATH_TOKEN | Indicators::HDR_TOKEN_TTL,
    ) {
        Stage::Token
    } else if http && !indicators.is_empty() {
        Stage::Request
    } else {
        Stage::Probe
    }
}

/// Whether a transaction with these indicators is worth an alert at all: the bulletin's floor
/// (`1 of ip_* or 1 of http_*`) plus each responder indicator on its own.
pub fn is_alert_worthy(indicators: Indicators) -> bool {
    indicators.intersects(ADDRESSED | REQUEST | Indicators::RESPONDER)
}

/// The signature for a transaction (or, with `http == false`, an address-only contact).
///
/// A responder that behaves like an IMDS (grants a token, serves a credential document,
/// calls itself `EC2ws`) on an address that is no metadata endpoint is what an impersonator
/// looks like: it gets the responder signatures, at a severity that reflects how much the
/// indicator proves.
pub fn signature(indicators: Indicators, http: bool) -> Signature {
    let addressed = indicators.intersects(ADDRESSED);
    match stage(indicators, http) {
        Stage::Probe => sid::ADDRESS_CONTACT,
        Stage::Credentials if addressed => sid::CREDENTIALS_SERVED,
        Stage::Credentials => sid::RESPONDER_CREDENTIALS,
        Stage::Token if indicators.contains(Indicators::RESP_TOKEN_GRANTED) => {
            if addressed {
                sid::TOKEN_GRANTED
            } else {
                sid::RESPONDER_TOKEN
            }
        }
        Stage::Token => sid::TOKEN_REQUEST,
        Stage::Request => {
            if indicators.contains(Indicators::OTHER_CLOUD) {
                sid::OTHER_CLOUD_REQUEST
            } else if indicators.contains(Indicators::EKS_POD_IDENTITY) {
                sid::EKS_REQUEST
            } else if indicators.contains(Indicators::ECS_ENDPOINT) {
                sid::ECS_REQUEST
            } else if !indicators.intersects(REQUEST | Indicators::DST_IMDS)
                && indicators.contains(Indicators::RESP_IMDS_SERVER)
            {
                sid::RESPONDER_SERVER
            } else {
                sid::METADATA_REQUEST
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Indicators as I;

    #[test]
    fn stages() {
        assert_eq!(stage(I::DST_IMDS, false), Stage::Probe);
        assert_eq!(stage(I::DST_IMDS, true), Stage::Request);
        assert_eq!(stage(I::PATH_METADATA, true), Stage::Request);
        assert_eq!(stage(I::PATH_TOKEN | I::HDR_TOKEN_TTL, true), Stage::Token);
        assert_eq!(
            stage(I::PATH_TOKEN | I::RESP_TOKEN_GRANTED, true),
            Stage::Token
        );
        assert_eq!(
            stage(I::HDR_TOKEN | I::RESP_CREDENTIALS, true),
            Stage::Credentials
        );
    }

    #[test]
    fn signatures() {
        assert_eq!(signature(I::DST_IMDS, false), sid::ADDRESS_CONTACT);
        assert_eq!(
            signature(I::DST_IMDS | I::PATH_METADATA, true),
            sid::METADATA_REQUEST
        );
        assert_eq!(signature(I::PATH_METADATA, true), sid::METADATA_REQUEST);
        assert_eq!(
            signature(I::DST_IMDS | I::PATH_TOKEN, true),
            sid::TOKEN_REQUEST
        );
        assert_eq!(
            signature(I::DST_IMDS | I::PATH_TOKEN | I::RESP_TOKEN_GRANTED, true),
            sid::TOKEN_GRANTED
        );
        assert_eq!(
            signature(I::PATH_TOKEN | I::RESP_TOKEN_GRANTED, true),
            sid::RESPONDER_TOKEN
        );
        assert_eq!(
            signature(I::HOST_IMDS | I::RESP_CREDENTIALS, true),
            sid::CREDENTIALS_SERVED
        );
        assert_eq!(
            signature(I::RESP_CREDENTIALS, true),
            sid::RESPONDER_CREDENTIALS
        );
        assert_eq!(signature(I::RESP_IMDS_SERVER, true), sid::RESPONDER_SERVER);
        assert_eq!(signature(I::ECS_ENDPOINT, true), sid::ECS_REQUEST);
        assert_eq!(signature(I::EKS_POD_IDENTITY, true), sid::EKS_REQUEST);
        assert_eq!(
            signature(I::OTHER_CLOUD | I::DST_IMDS, true),
            sid::OTHER_CLOUD_REQUEST
        );
    }

    #[test]
    fn worthiness() {
        assert!(!is_alert_worthy(I::empty()));
        assert!(!is_alert_worthy(I::EVASION | I::FRAMING_ANOMALY));
        assert!(is_alert_worthy(I::RESP_IMDS_SERVER));
        assert!(is_alert_worthy(I::HDR_TOKEN));
    }
}
