//! Where metadata services live: addresses, host names, and the per-provider profiles.
//!
//! Sources: EC2 User Guide (`instancedata-data-retrieval`), botocore `utils.py`
//! (`METADATA_BASE_URL[_IPv6]`, `ContainerMetadataFetcher`), cloud-init datasources
//! (`DataSourceGCE`, `DataSourceAzure`, `DataSourceAliYun`, `DataSourceOracle`,
//! `DataSourceDigitalOcean`, `DataSourceOpenStack`, `DataSourceHetzner`), google-auth
//! `_metadata.py`; summarised in shared/research/mission-anchors.md §1-§2.

use super::{Indicators, Provider};
use crate::normalize::embedded_ipv4;
use ipnet::IpNet;
use once_cell::sync::Lazy;
use std::net::{IpAddr, Ipv4Addr};

/// A metadata endpoint an address or host name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// Whose service it is. For 169.254.169.254, which many clouds share, this is AWS until
    /// a request names another provider by its path or headers.
    pub provider: Provider,
    /// The indicator contact with it raises.
    pub indicator: Indicators,
}

const fn ep(provider: Provider, indicator: Indicators) -> Endpoint {
    Endpoint {
        provider,
        indicator,
    }
}

/// Metadata addresses. Ordered most specific first; all are host routes.
static ADDRESSES: Lazy<Vec<(IpNet, Endpoint)>> = Lazy::new(|| {
    let table: &[(&str, Endpoint)] = &[
        // AWS IMDS, IPv4 and (Nitro) IPv6.
        (
            "169.254.169.254/32",
            ep(Provider::Aws, Indicators::DST_IMDS),
        ),
        ("fd00:ec2::254/128", ep(Provider::Aws, Indicators::DST_IMDS)),
        // ECS task metadata and credentials.
        (
            "169.254.170.2/32",
            ep(Provider::AwsEcs, Indicators::ECS_ENDPOINT),
        ),
        // EKS Pod Identity agent.
        (
            "169.254.170.23/32",
            ep(Provider::AwsEksPodIdentity, Indicators::EKS_POD_IDENTITY),
        ),
        (
            "fd00:ec2::23/128",
            ep(Provider::AwsEksPodIdentity, Indicators::EKS_POD_IDENTITY),
        ),
        // Alibaba Cloud ECS metadata.
        (
            "100.100.100.200/32",
            ep(Provider::Alibaba, Indicators::OTHER_CLOUD),
        ),
        // GCP metadata over IPv6 (listed in SSRF deny-lists; not in GCP's docs).
        (
            "fd20:ce::254/128",
            ep(Provider::Gcp, Indicators::OTHER_CLOUD),
        ),
        // OCI over IPv6, and OCI's legacy address.
        (
            "fd00:c1::a9fe:a9fe/128",
            ep(Provider::Oci, Indicators::OTHER_CLOUD),
        ),
        ("192.0.0.192/32", ep(Provider::Oci, Indicators::OTHER_CLOUD)),
    ];
    table
        .iter()
        .filter_map(|(net, e)| net.parse::<IpNet>().ok().map(|n| (n, *e)))
        .collect()
});

/// Host names that resolve to a metadata service.
static NAMES: &[(&[u8], Endpoint)] = &[
    (b"instance-data", ep(Provider::Aws, Indicators::HOST_IMDS)),
    (
        b"instance-data.ec2.internal",
        ep(Provider::Aws, Indicators::HOST_IMDS),
    ),
    (
        b"metadata.google.internal",
        ep(Provider::Gcp, Indicators::OTHER_CLOUD),
    ),
    (b"metadata.goog", ep(Provider::Gcp, Indicators::OTHER_CLOUD)),
];

/// Whether `ip` is a metadata address ([`endpoint_of_address`] is `Some`); inlined into the
/// per-packet fast path, where an ordinary IPv4 address costs one bit test.
#[inline(always)]
pub fn is_metadata_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) if !may_be_metadata_v4(v4) => false,
        _ => endpoint_of_address(ip).is_some(),
    }
}

/// The metadata endpoint an address belongs to, looking through IPv6 forms that embed an
/// IPv4 address (`::ffff:169.254.169.254`, NAT64 `64:ff9b::a9fe:a9fe`, ...).
///
/// Called for every packet of a tracker, so the common answer ("no") is a few integer
/// compares: the table holds host addresses only, compared as integers before any lookup.
#[inline]
pub fn endpoint_of_address(ip: IpAddr) -> Option<Endpoint> {
    match ip {
        IpAddr::V4(v4) => endpoint_of_v4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            if let Some(e) = ADDRESSES_V6
                .iter()
                .find(|(a, _)| *a == bits)
                .map(|(_, e)| *e)
            {
                return Some(e);
            }
            // Only an address that can embed IPv4 needs the slower look.
            match v6.segments()[0] {
                0 | 0x64 | 0x2002 => embedded_ipv4(&v6).and_then(|(v4, _)| endpoint_of_v4(v4)),
                _ => None,
            }
        }
    }
}

#[inline]
fn endpoint_of_v4(v4: Ipv4Addr) -> Option<Endpoint> {
    if !may_be_metadata_v4(v4) {
        return None;
    }
    let bits = u32::from(v4);
    ADDRESSES_V4
        .iter()
        .find(|(a, _)| *a == bits)
        .map(|(_, e)| *e)
}

/// The first octets of the IPv4 metadata addresses (169, 100, 192), as a 256-bit set.
/// A unit test holds it to [`ADDRESSES`]. (Indexing in a const item: an index out of bounds
/// fails the build, it cannot panic at run time.)
#[allow(clippy::indexing_slicing)]
const V4_FIRST_OCTETS: [u64; 4] = {
    let mut set = [0u64; 4];
    let firsts: [u8; 3] = [169, 100, 192];
    let mut i = 0;
    while i < firsts.len() {
        let f = firsts[i];
        set[(f >> 6) as usize] |= 1u64 << (f & 63);
        i += 1;
    }
    set
};

/// Whether `v4` can be a metadata address at all: one bit test on its first octet, false
/// for almost every address (the per-packet check's fast answer).
#[inline]
pub fn may_be_metadata_v4(v4: Ipv4Addr) -> bool {
    let [first, ..] = v4.octets();
    V4_FIRST_OCTETS
        .get(usize::from(first >> 6))
        .is_some_and(|w| w & (1u64 << (first & 63)) != 0)
}

/// [`ADDRESSES`] split by family as integers, for the per-packet check.
static ADDRESSES_V4: Lazy<Vec<(u32, Endpoint)>> = Lazy::new(|| {
    ADDRESSES
        .iter()
        .filter_map(|(net, e)| match net {
            IpNet::V4(n) if n.prefix_len() == 32 => Some((u32::from(n.addr()), *e)),
            _ => None,
        })
        .collect()
});

/// See [`ADDRESSES_V4`].
static ADDRESSES_V6: Lazy<Vec<(u128, Endpoint)>> = Lazy::new(|| {
    ADDRESSES
        .iter()
        .filter_map(|(net, e)| match net {
            IpNet::V6(n) if n.prefix_len() == 128 => Some((u128::from(n.addr()), *e)),
            _ => None,
        })
        .collect()
});

/// The metadata endpoint a (normalised, lower-case) host name belongs to.
pub fn endpoint_of_name(name: &[u8]) -> Option<Endpoint> {
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// Whether `name` is one of the metadata host names, ignoring ASCII case.
pub fn is_metadata_name_ignore_case(name: &[u8]) -> bool {
    NAMES.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// The endpoint an address names when it appears in a Host header or a target rather than
/// as the L3 destination: the AWS IMDS becomes `HOST_IMDS`.
pub fn host_endpoint_of_address(ip: IpAddr) -> Option<Endpoint> {
    endpoint_of_address(ip).map(|mut e| {
        if e.indicator == Indicators::DST_IMDS {
            e.indicator = Indicators::HOST_IMDS;
        }
        e
    })
}

/// A request header that identifies a provider's metadata client.
#[derive(Debug, Clone, Copy)]
pub struct HeaderSign {
    /// Lower-case header name.
    pub name: &'static [u8],
    /// Required value (ASCII case-insensitive), or `None` for any value.
    pub value: Option<&'static [u8]>,
    /// The provider it identifies.
    pub provider: Provider,
}

/// Headers only metadata clients send.
pub static HEADER_SIGNS: &[HeaderSign] = &[
    HeaderSign {
        name: b"metadata-flavor",
        value: Some(b"google"),
        provider: Provider::Gcp,
    },
    HeaderSign {
        name: b"x-google-metadata-request",
        value: Some(b"true"),
        provider: Provider::Gcp,
    },
    HeaderSign {
        name: b"metadata",
        value: Some(b"true"),
        provider: Provider::Azure,
    },
    HeaderSign {
        name: b"authorization",
        value: Some(b"bearer oracle"),
        provider: Provider::Oci,
    },
    HeaderSign {
        name: b"x-aliyun-ecs-metadata-token",
        value: None,
        provider: Provider::Alibaba,
    },
    HeaderSign {
        name: b"x-aliyun-ecs-metadata-token-ttl-seconds",
        value: None,
        provider: Provider::Alibaba,
    },
];

/// Path prefixes of other providers' metadata APIs (on normalised paths). A prefix alone
/// is too common on ordinary web servers to alert on: it counts together with the
/// provider's address, host name or client header.
pub static PATH_PREFIXES: &[(&[u8], Provider)] = &[
    (b"/computeMetadata/v1", Provider::Gcp),
    (b"/computeMetadata/v1beta1", Provider::Gcp),
    (b"/metadata/instance", Provider::Azure),
    (b"/metadata/identity", Provider::Azure),
    (b"/metadata/attested", Provider::Azure),
    (b"/metadata/scheduledevents", Provider::Azure),
    (b"/opc/v1", Provider::Oci),
    (b"/opc/v2", Provider::Oci),
    (b"/metadata/v1", Provider::DigitalOcean),
    (b"/openstack", Provider::OpenStack),
    (b"/hetzner/v1", Provider::Hetzner),
];

/// Credential paths of other providers (under the prefixes above).
pub static CREDENTIAL_PATHS: &[&[u8]] = &[
    b"/computeMetadata/v1/instance/service-accounts",
    b"/metadata/identity/oauth2/token",
    b"/opc/v2/identity",
    b"/opc/v1/identity",
];

/// Whether `path` starts with `prefix` on a segment boundary (`/opc/v2` matches `/opc/v2/x`
/// but not `/opc/v20`). A `.json` suffix counts as a boundary for DigitalOcean's and
/// UpCloud's `/metadata/v1.json`.
pub fn has_segment_prefix(path: &[u8], prefix: &[u8]) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with(b"/") || rest.starts_with(b".json"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn first_octet_set_covers_every_ipv4_address() {
        for (net, _) in ADDRESSES.iter() {
            if let IpNet::V4(n) = net {
                assert!(may_be_metadata_v4(n.addr()), "{n}");
            }
        }
        assert!(!may_be_metadata_v4("10.0.0.1".parse().unwrap()));
        assert!(!may_be_metadata_v4("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn addresses_and_embeddings() {
        assert_eq!(
            endpoint_of_address(ip("169.254.169.254")).map(|e| e.indicator),
            Some(Indicators::DST_IMDS)
        );
        for v6 in [
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert_eq!(
                endpoint_of_address(ip(v6)).map(|e| e.provider),
                Some(Provider::Aws),
                "{v6}"
            );
        }
        assert_eq!(
            endpoint_of_address(ip("169.254.170.2")).map(|e| e.indicator),
            Some(Indicators::ECS_ENDPOINT)
        );
        assert_eq!(
            endpoint_of_address(ip("fd00:ec2::23")).map(|e| e.indicator),
            Some(Indicators::EKS_POD_IDENTITY)
        );
        assert_eq!(
            endpoint_of_address(ip("100.100.100.200")).map(|e| e.provider),
            Some(Provider::Alibaba)
        );
        for miss in [
            "169.254.169.253",
            "169.254.169.25",
            "10.0.0.1",
            "fd00:ec2::255",
        ] {
            assert_eq!(endpoint_of_address(ip(miss)), None, "{miss}");
        }
        assert_eq!(
            host_endpoint_of_address(ip("169.254.169.254")).map(|e| e.indicator),
            Some(Indicators::HOST_IMDS)
        );
    }

    #[test]
    fn names() {
        assert_eq!(
            endpoint_of_name(b"instance-data.ec2.internal").map(|e| e.indicator),
            Some(Indicators::HOST_IMDS)
        );
        assert_eq!(
            endpoint_of_name(b"metadata.google.internal").map(|e| e.provider),
            Some(Provider::Gcp)
        );
        assert_eq!(endpoint_of_name(b"instance-data.example.com"), None);
    }

    #[test]
    fn segment_prefixes() {
        assert!(has_segment_prefix(b"/opc/v2/instance/", b"/opc/v2"));
        assert!(has_segment_prefix(b"/opc/v2", b"/opc/v2"));
        assert!(!has_segment_prefix(b"/opc/v20", b"/opc/v2"));
        assert!(has_segment_prefix(b"/metadata/v1.json", b"/metadata/v1"));
        assert!(!has_segment_prefix(b"/openstackish", b"/openstack"));
    }
}
