//! The values of single variables: integers, ratios and the names of samplers, protocols and
//! compressions. Each parser is given the trimmed value and says why it refuses one.

use super::{Compression, Protocol, SamplerConfig};

/// The largest integer accepted anywhere: 2³¹ − 1, the range the specification asks every SDK to
/// support. Larger values are rejected, which also keeps every duration far from overflowing an
/// `Instant`.
pub(super) const MAX_INTEGER: u64 = 2_147_483_647;

/// The non-blank entries of a comma-separated list, trimmed.
pub(super) fn list_entries(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|e| !e.is_empty())
}

/// An integer in `min..=`[`MAX_INTEGER`]; `what` names it in the error.
pub(super) fn integer(value: &str, min: u64, what: &str) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if (min..=MAX_INTEGER).contains(&n) => Ok(n),
        _ => Err(format!("not {what} from {min} to {MAX_INTEGER}")),
    }
}

/// A queue or batch size: a positive integer.
pub(super) fn size(value: &str) -> Result<usize, String> {
    let n = integer(value, 1, "an integer")?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub(super) fn ratio(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        // `abs` only turns -0.0 into 0.0.
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio.abs()),
        _ => Err("not a ratio in [0, 1]".to_owned()),
    }
}

pub(super) fn sampler(value: &str) -> Option<SamplerConfig> {
    const SAMPLERS: [(&str, SamplerConfig); 6] = [
        ("always_on", SamplerConfig::AlwaysOn),
        ("always_off", SamplerConfig::AlwaysOff),
        ("traceidratio", SamplerConfig::TraceIdRatio(1.0)),
        ("parentbased_always_on", SamplerConfig::ParentBasedAlwaysOn),
        (
            "parentbased_always_off",
            SamplerConfig::ParentBasedAlwaysOff,
        ),
        (
            "parentbased_traceidratio",
            SamplerConfig::ParentBasedTraceIdRatio(1.0),
        ),
    ];
    SAMPLERS
        .iter()
        .find(|(name, _)| value.eq_ignore_ascii_case(name))
        .map(|(_, sampler)| *sampler)
}

pub(super) fn protocol(value: &str) -> Result<Protocol, String> {
    if value.eq_ignore_ascii_case("grpc") {
        Ok(Protocol::Grpc)
    } else if value.eq_ignore_ascii_case("http/protobuf") {
        Ok(Protocol::HttpProtobuf)
    } else if value.eq_ignore_ascii_case("http/json") {
        Ok(Protocol::HttpJson)
    } else {
        Err("unknown protocol (grpc, http/protobuf or http/json)".to_owned())
    }
}

/// `Ok(None)` is an explicit `none`.
pub(super) fn compression(value: &str) -> Result<Option<Compression>, String> {
    if value.eq_ignore_ascii_case("gzip") {
        Ok(Some(Compression::Gzip))
    } else if value.eq_ignore_ascii_case("none") {
        Ok(None)
    } else {
        Err("unknown compression (gzip or none)".to_owned())
    }
}
