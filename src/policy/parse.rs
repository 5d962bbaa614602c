//! The policy file format (docs/policy.md): one rule per line, `#` comments, errors that name
//! the line.
//!
//! ```text
//! suppress src 10.20.0.0/16             # cloud VPC reached over VPN
//! suppress outer-vlan 100 inner-vlan 200
//! alert src 10.20.5.0/24                # exception: must come before the broader rule
//! ```
//!
//! The parser stops at the first error: a policy that loads half-way would suppress more or
//! less than the operator wrote, so a bad file is refused as a whole.

#![forbid(unsafe_code)]

use std::fmt;

use ipnet::IpNet;

use super::rule::{parse_net, quote, Action, Condition, Rule, ValueError, VlanId};
use crate::imds::{Indicators, Provider};

/// Why a policy did not load: where (source, line, column) and what.
///
/// Displays as `policy.conf:3: invalid CIDR "10.0.0.0/33": prefix length 33 is longer than 32`,
/// the `file:line:` form editors and CI logs link to. Line 0 means the file as a whole (it
/// could not be read, for instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    source_name: String,
    line: usize,
    column: Option<usize>,
    message: String,
}

impl PolicyError {
    /// An error at `line` (0: the whole source, e.g. a file that cannot be read).
    pub(super) fn new(source_name: &str, line: usize, message: String) -> PolicyError {
        PolicyError {
            source_name: source_name.to_owned(),
            line,
            column: None,
            message,
        }
    }

    /// The name of the policy source, as given to [`Policy::parse`](super::Policy::parse)
    /// (usually a file path).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The 1-based line number, or 0 when the error concerns the whole source.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column (in characters) of the offending word, when there is one.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.source_name, self.message)
        } else {
            write!(f, "{}:{}: {}", self.source_name, self.line, self.message)
        }
    }
}

impl std::error::Error for PolicyError {}

/// The condition keywords, in the order error messages list them.
const KEYWORDS: [&str; 7] = [
    "src",
    "dst",
    "vlan",
    "outer-vlan",
    "inner-vlan",
    "provider",
    "indicator",
];

/// One line being parsed: enough context to turn an offset into a positioned error.
struct Line<'a> {
    source_name: &'a str,
    number: usize,
    /// The line without its comment.
    content: &'a str,
}

impl Line<'_> {
    /// An error at byte offset `at` of the content.
    fn error(&self, at: usize, message: String) -> PolicyError {
        // Offsets come from char_indices / split on ASCII commas, so they are char boundaries;
        // `get` keeps this panic-free even if that ever changed.
        let column = self.content.get(..at).map(|s| s.chars().count() + 1);
        PolicyError {
            source_name: self.source_name.to_owned(),
            line: self.number,
            column,
            message,
        }
    }
}

/// Splits on whitespace, keeping each word's byte offset for error columns.
fn words(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(b)) => {
                out.push((b, &s[b..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(b) = start {
        out.push((b, &s[b..]));
    }
    out
}

/// Parses a whole policy text into rules, in file order.
pub(super) fn parse_rules(text: &str, source_name: &str) -> Result<Vec<Rule>, PolicyError> {
    // A byte-order mark from a Windows editor is not part of the first rule.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rules = Vec::new();
    // `lines` splits on "\n" and strips a "\r" before it: CRLF files read like LF files. A lone
    // "\r" elsewhere is whitespace to `words`.
    for (index, raw) in text.lines().enumerate() {
        let content = raw.split_once('#').map_or(raw, |(before, _)| before);
        let line = Line {
            source_name,
            number: index + 1,
            content,
        };
        if let Some(rule) = parse_line(&line)? {
            rules.push(rule);
        }
    }
    Ok(rules)
}

/// Parses one line: `Ok(None)` for a blank or comment-only line.
fn parse_line(line: &Line<'_>) -> Result<Option<Rule>, PolicyError> {
    let words = words(line.content);
    let Some(&(action_at, action_word)) = words.first() else {
        return Ok(None);
    };
    let action = Action::from_keyword(action_word).ok_or_else(|| {
        line.error(
            action_at,
            format!(
                "unknown action {} (a rule starts with \"suppress\" or \"alert\")",
                quote(action_word)
            ),
        )
    })?;

    let mut conditions: Vec<Condition> = Vec::new();
    let mut rest = words.iter().skip(1);
    while let Some(&(key_at, key)) = rest.next() {
        let keyword = KEYWORDS
            .into_iter()
            .find(|k| k.eq_ignore_ascii_case(key))
            .ok_or_else(|| line.error(key_at, unknown_keyword(key)))?;
        let &(value_at, value) = rest.next().ok_or_else(|| {
            line.error(
                key_at,
                format!(
                    "{} needs a value, e.g. {}",
                    quote(keyword),
                    example(keyword)
                ),
            )
        })?;
        if conditions.iter().any(|c| c.keyword() == keyword) {
            return Err(line.error(
                key_at,
                format!(
                    "duplicate condition {} in one rule (list several values with commas: {})",
                    quote(keyword),
                    example(keyword)
                ),
            ));
        }
        conditions.push(parse_condition(line, keyword, value_at, value)?);
    }

    let name = format!(
        "{}:{}: {}",
        line.source_name,
        line.number,
        line.content.trim()
    );
    Rule::new(action, name, conditions)
        .map(Some)
        .ok_or_else(|| {
            line.error(
                action_at,
                format!(
                "rule {} has no condition (to match every alert, write \"{} src 0.0.0.0/0,::/0\")",
                quote(action_word),
                action.as_str()
            ),
            )
        })
}

/// The message for a word where a condition keyword was expected, with a hint when the word
/// looks like a value: `src 10.0.0.0/8, 10.1.0.0/16` (a space after the comma) is the likely
/// mistake.
fn unknown_keyword(word: &str) -> String {
    let looks_like_value = parse_net(word.trim_matches(',')).is_ok()
        || word.trim_matches(',').parse::<VlanId>().is_ok()
        || word.starts_with(',');
    let hint = if looks_like_value {
        "; list items are separated by commas without spaces"
    } else {
        ""
    };
    format!(
        "unknown condition {} (expected one of: {}){hint}",
        quote(word),
        KEYWORDS.join(", ")
    )
}

/// A sample of a condition, for error messages.
fn example(keyword: &str) -> &'static str {
    match keyword {
        "src" => "src 10.20.0.0/16,2001:db8::/32",
        "dst" => "dst 169.254.170.2",
        "vlan" => "vlan 300,301",
        "outer-vlan" => "outer-vlan 100",
        "inner-vlan" => "inner-vlan 200",
        "provider" => "provider gcp,azure",
        _ => "indicator resp_imds_server",
    }
}

/// The comma-separated items of a value, each with its byte offset in the line. An empty item
/// (`a,,b`, a trailing comma) is an error: it is usually a value lost in editing.
fn items<'a>(
    line: &Line<'_>,
    value_at: usize,
    value: &'a str,
) -> Result<Vec<(usize, &'a str)>, PolicyError> {
    let mut out = Vec::new();
    let mut at = value_at;
    for item in value.split(',') {
        if item.is_empty() && at == value_at + value.len() {
            // `src 10.0.0.0/8, 10.1.0.0/16`: the likely cause is a space after the comma.
            return Err(line.error(
                at.saturating_sub(1),
                format!(
                    "the list {} ends with a comma (list items are separated by commas \
                     without spaces)",
                    quote(value)
                ),
            ));
        }
        if item.is_empty() {
            return Err(line.error(at, format!("empty item in the list {}", quote(value))));
        }
        out.push((at, item));
        at += item.len() + 1;
    }
    Ok(out)
}

/// Parses the value of one condition.
fn parse_condition(
    line: &Line<'_>,
    keyword: &str,
    value_at: usize,
    value: &str,
) -> Result<Condition, PolicyError> {
    let items = items(line, value_at, value)?;
    let positioned = |at: usize| move |e: ValueError| line.error(at, e.message().to_owned());
    let nets = || -> Result<Vec<IpNet>, PolicyError> {
        items
            .iter()
            .map(|&(at, item)| parse_net(item).map_err(positioned(at)))
            .collect()
    };
    let vlans = || -> Result<Vec<VlanId>, PolicyError> {
        items
            .iter()
            .map(|&(at, item)| item.parse::<VlanId>().map_err(positioned(at)))
            .collect()
    };
    Ok(match keyword {
        "src" => Condition::Src(nets()?),
        "dst" => Condition::Dst(nets()?),
        "vlan" => Condition::Vlan(vlans()?),
        "outer-vlan" => Condition::OuterVlan(vlans()?),
        "inner-vlan" => Condition::InnerVlan(vlans()?),
        "provider" => Condition::Provider(
            items
                .iter()
                .map(|&(at, item)| {
                    Provider::from_name(item).ok_or_else(|| {
                        let known: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
                        line.error(
                            at,
                            format!(
                                "unknown provider {} (known: {})",
                                quote(item),
                                known.join(", ")
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => {
            let mut set = Indicators::empty();
            for &(at, item) in &items {
                let flag = Indicators::from_name_any_case(item).ok_or_else(|| {
                    let known: Vec<String> = Indicators::all().names().collect();
                    line.error(
                        at,
                        format!(
                            "unknown indicator {} (known: {})",
                            quote(item),
                            known.join(", ")
                        ),
                    )
                })?;
                set |= flag;
            }
            Condition::Indicator(set)
        }
    })
}
