//! Publication times: RFC 3339 (Metalink 4) and RFC 822 (Metalink 3) dates.
//!
//! The crate never reads a clock; it only converts the dates a document carries.

use std::fmt;

/// A moment in UTC, to the second, between years 1 and 9999.
///
/// Metalink 4 writes `2010-05-01T12:15:02Z`; Metalink 3 writes
/// `Mon, 15 May 2006 00:00:01 GMT`. Both parse into this type; fractions of a second
/// are dropped and offsets are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Seconds from 1970-01-01 to 0001-01-01T00:00:00Z.
const MIN_UNIX: i64 = -62_135_596_800;
/// Seconds from 1970-01-01 to 9999-12-31T23:59:59Z.
const MAX_UNIX: i64 = 253_402_300_799;

impl Timestamp {
    /// The moment `seconds` after 1970-01-01T00:00:00Z, if it falls in years 1 to 9999.
    pub fn from_unix_seconds(seconds: i64) -> Option<Timestamp> {
        (MIN_UNIX..=MAX_UNIX)
            .contains(&seconds)
            .then_some(Timestamp(seconds))
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_seconds(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 date-time (`2010-05-01T12:15:02Z`, `…+02:00`, `….5Z`).
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let b = text.trim().as_bytes();
        let year = digits(b.get(0..4)?)?;
        if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || b.get(13) != Some(&b':') {
            return None;
        }
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(16) != Some(&b':') {
            return None;
        }
        let month = digits(b.get(5..7)?)?;
        let day = digits(b.get(8..10)?)?;
        let hour = digits(b.get(11..13)?)?;
        let minute = digits(b.get(14..16)?)?;
        let second = digits(b.get(17..19)?)?;
        let mut rest = b.get(19..)?;
        if let Some((b'.', frac)) = rest.split_first() {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            rest = &frac[n..];
        }
        let offset = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let minutes = digits(&[*h1, *h2])? * 60 + digits(&[*m1, *m2])?;
                if *sign == b'-' { -minutes } else { minutes }
            }
            _ => return None,
        };
        from_parts(year, month, day, hour, minute, second, offset)
    }

    /// Parses an RFC 822 / RFC 1123 date (`Mon, 15 May 2006 00:00:01 GMT`), as
    /// Metalink 3's `pubdate` and `refreshdate` carry. The weekday is optional and not
    /// checked; two-digit years mean 1950–2049.
    pub fn parse_rfc822(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        let text = match text.split_once(',') {
            Some((weekday, rest)) if weekday.len() <= 9 => rest,
            Some(_) => return None,
            None => text,
        };
        let mut words = text.split_ascii_whitespace();
        let day = digits(words.next()?.as_bytes())?;
        let month = month_number(words.next()?)?;
        let year_word = words.next()?.as_bytes();
        let year = match year_word.len() {
            2 => {
                let y = digits(year_word)?;
                if y < 50 { 2000 + y } else { 1900 + y }
            }
            4 => digits(year_word)?,
            _ => return None,
        };
        let mut clock = words.next()?.split(':');
        let hour = digits(clock.next()?.as_bytes())?;
        let minute = digits(clock.next()?.as_bytes())?;
        let second = match clock.next() {
            Some(s) => digits(s.as_bytes())?,
            None => 0,
        };
        if clock.next().is_some() {
            return None;
        }
        let offset = zone_offset_minutes(words.next()?)?;
        if words.next().is_some() {
            return None;
        }
        from_parts(year, month, day, hour, minute, second, offset)
    }

    /// Parses either format, RFC 3339 first.
    pub fn parse_any(text: &str) -> Option<Timestamp> {
        Timestamp::parse_rfc3339(text).or_else(|| Timestamp::parse_rfc822(text))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC: `2010-05-01T12:15:02Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
}

fn month_number(name: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.to_ascii_lowercase();
    let index = MONTHS.iter().position(|m| *m == lower)?;
    Some(index as i64 + 1)
}

fn zone_offset_minutes(zone: &str) -> Option<i64> {
    let upper = zone.to_ascii_uppercase();
    let hours = match upper.as_str() {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        _ => {
            let b = upper.as_bytes();
            let (sign, rest) = b.split_first()?;
            if rest.len() != 4 {
                return None;
            }
            let minutes = digits(&rest[..2])? * 60 + digits(&rest[2..])?;
            return match sign {
                b'+' => Some(minutes),
                b'-' => Some(-minutes),
                _ => None,
            };
        }
    };
    Some(hours * 60)
}

fn from_parts(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    offset_minutes: i64,
) -> Option<Timestamp> {
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // 60 admits a leap second, which lands on the next minute's first second.
    if hour > 23 || minute > 59 || second > 60 || offset_minutes.abs() >= 24 * 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Timestamp::from_unix_seconds(seconds)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_forms() {
        let t = Timestamp::parse_rfc3339("2010-05-01T12:15:02Z").unwrap();
        assert_eq!(t.unix_seconds(), 1_272_716_102);
        assert_eq!(t.to_string(), "2010-05-01T12:15:02Z");
        assert_eq!(
            Timestamp::parse_rfc3339("2010-05-01T14:15:02.75+02:00"),
            Some(t)
        );
        assert_eq!(Timestamp::parse_rfc3339("2010-05-01T12:15:02"), None);
        assert_eq!(Timestamp::parse_rfc3339("2010-02-30T12:15:02Z"), None);
        assert_eq!(Timestamp::parse_rfc3339("2010-05-01T24:00:00Z"), None);
    }

    #[test]
    fn rfc822_forms() {
        let t = Timestamp::parse_rfc822("Tue, 06 Nov 2012 14:23:40 GMT").unwrap();
        assert_eq!(t.to_string(), "2012-11-06T14:23:40Z");
        assert_eq!(Timestamp::parse_rfc822("6 Nov 12 15:23:40 +0100"), Some(t));
        assert_eq!(Timestamp::parse_rfc822("06 Nov 2012 09:23 EST"), {
            Timestamp::from_unix_seconds(t.unix_seconds() - 40)
        });
        assert_eq!(Timestamp::parse_rfc822("Tue, 06 Nov 2012 14:23:40"), None);
        assert_eq!(
            Timestamp::parse_rfc822("Tue, 06 Foo 2012 14:23:40 GMT"),
            None
        );
    }

    #[test]
    fn calendar_conversion_round_trips_across_the_range() {
        for days in (-719_162..=2_932_896).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(
            Timestamp::from_unix_seconds(MIN_UNIX).unwrap().to_string(),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_unix_seconds(MAX_UNIX).unwrap().to_string(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(Timestamp::from_unix_seconds(MAX_UNIX + 1), None);
        assert_eq!(Timestamp::parse_rfc3339("0001-01-01T00:00:00+00:01"), None);
    }
}
