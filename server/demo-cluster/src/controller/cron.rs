//! Cron schedules (five fields: minute hour day-of-month month day-of-week) with `*`, `*/n`,
//! numbers, ranges and lists — enough for CronJob schedules.

use std::time::{Duration, SystemTime};

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    fields: [Vec<u32>; 5],
}

fn field(spec: &str, lo: u32, hi: u32) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in spec.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (a.parse().ok()?, b.parse().ok()?)
        } else {
            let v: u32 = range.parse().ok()?;
            (v, if part.contains('/') { hi } else { v })
        };
        if a < lo || b > hi || a > b {
            return None;
        }
        out.extend((a..=b).step_by(step as usize));
    }
    Some(out)
}

impl Schedule {
    /// Parses a five-field schedule (or @hourly / @daily / @weekly / @monthly).
    pub fn parse(s: &str) -> Option<Self> {
        let s = match s.trim() {
            "@hourly" => "0 * * * *",
            "@daily" | "@midnight" => "0 0 * * *",
            "@weekly" => "0 0 * * 0",
            "@monthly" => "0 0 1 * *",
            other => other,
        };
        let parts: Vec<&str> = s.split_whitespace().collect();
        if parts.len() != 5 {
            return None;
        }
        Some(Self {
            fields: [
                field(parts[0], 0, 59)?,
                field(parts[1], 0, 23)?,
                field(parts[2], 1, 31)?,
                field(parts[3], 1, 12)?,
                field(parts[4], 0, 6)?,
            ],
        })
    }

    fn matches(&self, t: SystemTime) -> bool {
        let secs = crate::clock::unix(t) as i64;
        let Ok(d) = time::OffsetDateTime::from_unix_timestamp(secs) else {
            return false;
        };
        let vals = [
            d.minute() as u32,
            d.hour() as u32,
            d.day() as u32,
            d.month() as u32,
            d.weekday().number_days_from_sunday() as u32,
        ];
        self.fields.iter().zip(vals).all(|(f, v)| f.contains(&v))
    }

    /// The `n` most recent schedule times at or before `now`, newest first (looks back a week).
    pub fn last(&self, now: SystemTime, n: usize) -> Vec<SystemTime> {
        let start = crate::clock::unix(now) / 60 * 60;
        let mut out = Vec::new();
        for m in 0..(7 * 24 * 60) {
            let t = SystemTime::UNIX_EPOCH + Duration::from_secs(start - m * 60);
            if self.matches(t) {
                out.push(t);
                if out.len() == n {
                    break;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_two_minutes() {
        let s = Schedule::parse("*/2 * * * *").unwrap_or_else(|| panic!("parse"));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + 59); // 2027-01-15T08:00:59Z (minute 0)
        let last = s.last(now, 3);
        let mins: Vec<u64> = last
            .iter()
            .map(|t| crate::clock::unix(*t) / 60 % 60)
            .collect();
        assert_eq!(mins, vec![0, 58, 56]);
        assert!(Schedule::parse("61 * * * *").is_none());
        assert!(Schedule::parse("* * *").is_none());
        assert_eq!(
            Schedule::parse("@hourly").map(|s| s.last(now, 1).len()),
            Some(1)
        );
    }
}
