//! Time as the API server writes it: RFC 3339 with second precision, UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The current time.
pub fn now() -> SystemTime {
    SystemTime::now()
}

/// `2026-11-24T10:00:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// `2026-11-24T10:00:00.123456789Z`, as the kubelet stamps log lines.
pub fn rfc3339_nanos(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let base = rfc3339(UNIX_EPOCH + Duration::from_secs(d.as_secs()));
    format!("{}.{:09}Z", base.trim_end_matches('Z'), d.subsec_nanos())
}

/// Parses an RFC 3339 time.
pub fn parse(s: &str) -> Option<SystemTime> {
    let d = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    let secs = u64::try_from(d.unix_timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_nanos(u64::from(d.nanosecond())))
}

/// Seconds since the epoch.
pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
