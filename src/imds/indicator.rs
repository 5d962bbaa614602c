//! What the matcher can observe (indicators), how far an exchange got (stage), which cloud's
//! metadata service it concerns (provider), and the stable signature table.

use bitflags::bitflags;
use std::fmt;

bitflags! {
    /// Observations that tie traffic to an instance-metadata service (ARCHITECTURE §2).
    ///
    /// Names render in lower case in the EVE `imds.indicators` list (`dst_imds`, ...). The
    /// numeric values cross the C ABI: never renumber, only append.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Indicators: u32 {
        /// L3 destination is the AWS IMDS (169.254.169.254, fd00:ec2::254, or an IPv6 address
        /// embedding 169.254.169.254), any transport, any port: a SYN alone is enough.
        const DST_IMDS = 1 << 0;
        /// Host header, absolute-form target or CONNECT authority names the AWS IMDS in any
        /// spelling (decimal, hex, octal, short forms, IPv6 embeddings, `instance-data`).
        const HOST_IMDS = 1 << 1;
        /// Normalised path under `/latest/` or `/<YYYY-MM-DD>/` and then `meta-data`,
        /// `dynamic` or `user-data` (segment by segment: `/latest/meta-data-guide.html` is not).
        const PATH_METADATA = 1 << 2;
        /// `/latest/api/token`: the IMDSv2 session token request.
        const PATH_TOKEN = 1 << 3;
        /// The `X-aws-ec2-metadata-token` request header, in any case.
        const HDR_TOKEN = 1 << 4;
        /// The `X-aws-ec2-metadata-token-ttl-seconds` request header, in any case.
        const HDR_TOKEN_TTL = 1 << 5;
        /// A 200 answer to a token request: a token was handed out.
        const RESP_TOKEN_GRANTED = 1 << 6;
        /// The response body is a credential document: a JSON object with `AccessKeyId`,
        /// `SecretAccessKey` and `Token` keys.
        const RESP_CREDENTIALS = 1 << 7;
        /// `Server: EC2ws`, the genuine IMDS's server header (an impersonator can copy it).
        const RESP_IMDS_SERVER = 1 << 8;
        /// The ECS task credential endpoint 169.254.170.2 (address, Host, or its paths there).
        const ECS_ENDPOINT = 1 << 9;
        /// The EKS Pod Identity agent 169.254.170.23 / fd00:ec2::23.
        const EKS_POD_IDENTITY = 1 << 10;
        /// Another cloud's metadata service (GCP, Azure, Alibaba, OCI, DigitalOcean, OpenStack,
        /// ...): its address or host together with its path or required header.
        const OTHER_CLOUD = 1 << 11;
        /// Smuggling-grade HTTP anomalies in a transaction that also carries an indicator.
        const FRAMING_ANOMALY = 1 << 12;
        /// The path asks for credentials: `iam/security-credentials[-extended]/`,
        /// `identity-credentials/`, or a provider's credential path.
        const PATH_CREDENTIALS = 1 << 13;
        /// The request path or host was spelled in an evasive encoding (percent / double
        /// encoding, dot segments, non-dotted IPv4, IPv6 embedding, ...).
        const EVASION = 1 << 14;
    }
}

impl Indicators {
    /// Indicators that come from the address alone.
    pub const ADDRESS: Indicators = Indicators::DST_IMDS;
    /// Indicators of the responder, not the requester: what an impersonator looks like.
    pub const RESPONDER: Indicators = Indicators::RESP_TOKEN_GRANTED
        .union(Indicators::RESP_CREDENTIALS)
        .union(Indicators::RESP_IMDS_SERVER);

    /// Lower-case names of the set flags, in bit order.
    pub fn names(self) -> impl Iterator<Item = String> {
        self.iter_names().map(|(n, _)| n.to_ascii_lowercase())
    }

    /// Looks a flag up by its name in any case (`dst_imds`, `DST_IMDS`).
    pub fn from_name_any_case(name: &str) -> Option<Indicators> {
        Indicators::from_name(&name.to_ascii_uppercase())
    }
}

/// How far a metadata exchange got. Ordered: a later stage is more severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Stage {
    /// The address was contacted; nothing more was seen.
    Probe = 0,
    /// A metadata request: a metadata path, a token header, a request to a metadata host.
    Request = 1,
    /// An IMDSv2 token was requested or granted.
    Token = 2,
    /// Credentials were served.
    Credentials = 3,
}

impl Stage {
    /// The name used in output (`probe`, `request`, `token`, `credentials`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Probe => "probe",
            Stage::Request => "request",
            Stage::Token => "token",
            Stage::Credentials => "credentials",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The metadata service concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Provider {
    /// AWS EC2 instance metadata service.
    Aws = 0,
    /// AWS ECS task credential endpoint.
    AwsEcs = 1,
    /// AWS EKS Pod Identity agent.
    AwsEksPodIdentity = 2,
    /// Google Cloud metadata server.
    Gcp = 3,
    /// Azure Instance Metadata Service.
    Azure = 4,
    /// Alibaba Cloud ECS metadata.
    Alibaba = 5,
    /// Oracle Cloud Infrastructure instance metadata.
    Oci = 6,
    /// DigitalOcean droplet metadata.
    DigitalOcean = 7,
    /// OpenStack (Nova) metadata.
    OpenStack = 8,
    /// Hetzner Cloud metadata.
    Hetzner = 9,
}

impl Provider {
    /// Every provider, in numeric order.
    pub const ALL: [Provider; 10] = [
        Provider::Aws,
        Provider::AwsEcs,
        Provider::AwsEksPodIdentity,
        Provider::Gcp,
        Provider::Azure,
        Provider::Alibaba,
        Provider::Oci,
        Provider::DigitalOcean,
        Provider::OpenStack,
        Provider::Hetzner,
    ];

    /// The name used in output and in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::AwsEcs => "aws-ecs",
            Provider::AwsEksPodIdentity => "aws-eks-pod-identity",
            Provider::Gcp => "gcp",
            Provider::Azure => "azure",
            Provider::Alibaba => "alibaba",
            Provider::Oci => "oci",
            Provider::DigitalOcean => "digitalocean",
            Provider::OpenStack => "openstack",
            Provider::Hetzner => "hetzner",
        }
    }

    /// Looks a provider up by its output name.
    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the signature table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// Stable numeric id (EVE `alert.signature_id`).
    pub id: u32,
    /// Revision (EVE `alert.rev`).
    pub rev: u32,
    /// Human-readable name (EVE `alert.signature`).
    pub name: &'static str,
    /// Suricata severity: 1 (high) to 3 (low).
    pub severity: u8,
}

/// Suricata generator id of every imdsguard signature.
pub const GID: u32 = 1;

/// The signature table. Ids are stable: never reuse or renumber one; retire by leaving a gap.
///
/// | id | when | severity |
/// |---|---|---|
/// | 4210001 | a metadata address contacted, no metadata HTTP seen (one per flow) | 3 |
/// | 4210002 | an AWS IMDS metadata request (path, token header, or a request to the IMDS host) | 2 |
/// | 4210003 | an IMDSv2 token requested | 2 |
/// | 4210004 | an IMDSv2 token granted | 1 |
/// | 4210005 | credentials served by an IMDS | 1 |
/// | 4210010 | an ECS credential endpoint request | 2 |
/// | 4210011 | an EKS Pod Identity request | 2 |
/// | 4210020 | another cloud's metadata request | 2 |
/// | 4210030 | an IMDS-like responder: token granted to a token request | 2 |
/// | 4210031 | an IMDS-like responder: credential document served | 1 |
/// | 4210032 | an IMDS-like responder: `Server: EC2ws` | 3 |
pub mod sid {
    use super::Signature;

    /// Address contact only.
    pub const ADDRESS_CONTACT: Signature = Signature {
        id: 4_210_001,
        rev: 1,
        name: "IMDSGUARD metadata service address contacted",
        severity: 3,
    };
    /// AWS IMDS metadata request.
    pub const METADATA_REQUEST: Signature = Signature {
        id: 4_210_002,
        rev: 1,
        name: "IMDSGUARD instance metadata request",
        severity: 2,
    };
    /// IMDSv2 token requested.
    pub const TOKEN_REQUEST: Signature = Signature {
        id: 4_210_003,
        rev: 1,
        name: "IMDSGUARD IMDSv2 token requested",
        severity: 2,
    };
    /// IMDSv2 token granted.
    pub const TOKEN_GRANTED: Signature = Signature {
        id: 4_210_004,
        rev: 1,
        name: "IMDSGUARD IMDSv2 token granted",
        severity: 1,
    };
    /// Credentials served.
    pub const CREDENTIALS_SERVED: Signature = Signature {
        id: 4_210_005,
        rev: 1,
        name: "IMDSGUARD instance credentials served",
        severity: 1,
    };
    /// ECS credential endpoint.
    pub const ECS_REQUEST: Signature = Signature {
        id: 4_210_010,
        rev: 1,
        name: "IMDSGUARD ECS task credential endpoint request",
        severity: 2,
    };
    /// EKS Pod Identity.
    pub const EKS_REQUEST: Signature = Signature {
        id: 4_210_011,
        rev: 1,
        name: "IMDSGUARD EKS Pod Identity credential request",
        severity: 2,
    };
    /// Another cloud's metadata service.
    pub const OTHER_CLOUD_REQUEST: Signature = Signature {
        id: 4_210_020,
        rev: 1,
        name: "IMDSGUARD cloud metadata request (non-AWS provider)",
        severity: 2,
    };
    /// Responder: token granted.
    pub const RESPONDER_TOKEN: Signature = Signature {
        id: 4_210_030,
        rev: 1,
        name: "IMDSGUARD IMDS-like responder granted a token",
        severity: 2,
    };
    /// Responder: credential document.
    pub const RESPONDER_CREDENTIALS: Signature = Signature {
        id: 4_210_031,
        rev: 1,
        name: "IMDSGUARD IMDS-like responder served a credential document",
        severity: 1,
    };
    /// Responder: Server: EC2ws.
    pub const RESPONDER_SERVER: Signature = Signature {
        id: 4_210_032,
        rev: 1,
        name: "IMDSGUARD IMDS-like responder (Server: EC2ws)",
        severity: 3,
    };

    /// Every signature, in id order.
    pub const ALL: [Signature; 11] = [
        ADDRESS_CONTACT,
        METADATA_REQUEST,
        TOKEN_REQUEST,
        TOKEN_GRANTED,
        CREDENTIALS_SERVED,
        ECS_REQUEST,
        EKS_REQUEST,
        OTHER_CLOUD_REQUEST,
        RESPONDER_TOKEN,
        RESPONDER_CREDENTIALS,
        RESPONDER_SERVER,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicator_names_round_trip() {
        for (name, flag) in Indicators::all().iter_names() {
            assert_eq!(
                Indicators::from_name_any_case(&name.to_ascii_lowercase()),
                Some(flag)
            );
        }
        assert_eq!(Indicators::from_name_any_case("nope"), None);
        let n: Vec<_> = (Indicators::DST_IMDS | Indicators::HDR_TOKEN)
            .names()
            .collect();
        assert_eq!(n, ["dst_imds", "hdr_token"]);
    }

    #[test]
    fn provider_names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(Provider::from_name(p.as_str()), Some(p));
        }
    }

    #[test]
    fn signature_ids_are_unique_and_ordered() {
        let ids: Vec<u32> = sid::ALL.iter().map(|s| s.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
        assert!(sid::ALL.iter().all(|s| (1..=3).contains(&s.severity)));
    }

    #[test]
    fn stages_are_ordered() {
        assert!(Stage::Probe < Stage::Request && Stage::Token < Stage::Credentials);
    }
}
