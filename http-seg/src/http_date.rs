//! HTTP-date (RFC 9110 §5.6.7) to Unix seconds and back.

/// Parses an HTTP-date in any of its three forms and returns seconds since the
/// Unix epoch, or `None` when it is not a valid date from 1970 on.
///
/// * IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
/// * obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
/// * ANSI C asctime: `Sun Nov  6 08:49:37 1994`
///
/// The weekday must be a weekday name but is not checked against the date.
/// RFC 850's two-digit years are read as 1970–2069 (RFC 9110 asks for "within
/// 50 years of now"; a fixed window keeps this function free of clocks).
pub fn parse_http_date(text: &str) -> Option<u64> {
    let mut parts = text.split_ascii_whitespace();
    let first = parts.next()?;
    let (year, month, day, time) = if let Some(weekday) = first.strip_suffix(',') {
        if !is_weekday(weekday) {
            return None;
        }
        let second = parts.next()?;
        if second.contains('-') {
            let mut dmy = second.split('-');
            let day = digits(dmy.next()?, 1, 2)?;
            let month = month(dmy.next()?)?;
            let yy = digits(dmy.next()?, 2, 2)?;
            if dmy.next().is_some() {
                return None;
            }
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            (year, month, day, parts.next()?)
        } else {
            let day = digits(second, 1, 2)?;
            let month = month(parts.next()?)?;
            let year = digits(parts.next()?, 4, 4)?;
            (year, month, day, parts.next()?)
        }
    } else {
        if !is_weekday(first) {
            return None;
        }
        let month = month(parts.next()?)?;
        let day = digits(parts.next()?, 1, 2)?;
        let time = parts.next()?;
        let year = digits(parts.next()?, 4, 4)?;
        if parts.next().is_some() {
            return None;
        }
        return to_unix(year, month, day, time);
    };
    // The two comma forms end in "GMT".
    if parts.next() != Some("GMT") || parts.next().is_some() {
        return None;
    }
    to_unix(year, month, day, time)
}

/// Formats Unix seconds as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the
/// form RFC 9110 asks senders to use. Years past 9999 are clamped to its last
/// second, which no server sends and every parser still reads.
pub fn format_http_date(secs: u64) -> String {
    const LAST: u64 = 253_402_300_799; // Fri, 31 Dec 9999 23:59:59 GMT
    let secs = secs.min(LAST);
    let days = secs / 86_400;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let weekday = WEEKDAYS[(days % 7) as usize];
    let rest = secs % 86_400;
    format!(
        "{weekday}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The date `days` after 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    (year, month, day)
}

fn to_unix(year: u64, month: u64, day: u64, time: &str) -> Option<u64> {
    let mut hms = time.split(':');
    let hour = digits(hms.next()?, 2, 2)?;
    let minute = digits(hms.next()?, 2, 2)?;
    let second = digits(hms.next()?, 2, 2)?;
    if hms.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if year < 1970 || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a proleptic Gregorian date on or after it
/// (Howard Hinnant's `days_from_civil`, shifted so years start in March).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        // Gregorian leap years: divisible by 4, and centuries only by 400.
        2 if matches!((year % 4, year % 100, year % 400), (0, 1.., _) | (_, _, 0)) => 29,
        2 => 28,
        _ => 31,
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(name: &str) -> Option<u64> {
    let index = MONTHS.iter().position(|m| *m == name)?;
    Some(index as u64 + 1)
}

fn is_weekday(name: &str) -> bool {
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    DAYS.iter().any(|d| name == *d || name == &d[..3])
}

/// A decimal number of `min..=max` digits.
fn digits(s: &str, min: usize, max: usize) -> Option<u64> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_6_1994: u64 = 784_111_777;

    #[test]
    fn three_forms_agree() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(NOV_6_1994)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(NOV_6_1994)
        );
        assert_eq!(
            parse_http_date("Sun Nov  6 08:49:37 1994"),
            Some(NOV_6_1994)
        );
    }

    #[test]
    fn calendar_edges() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
        assert_eq!(
            parse_http_date("Wed, 31 Dec 2025 23:59:59 GMT"),
            Some(1_767_225_599)
        );
        assert_eq!(
            parse_http_date("Fri, 01 Jan 2038 00:00:00 GMT"),
            Some(2_145_916_800)
        );
        assert_eq!(
            parse_http_date("Thursday, 01-Jan-37 00:00:00 GMT"),
            Some(2_114_380_800)
        );
    }

    #[test]
    fn formatting_gives_imf_fixdate() {
        assert_eq!(
            format_http_date(NOV_6_1994),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            format_http_date(951_782_400),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(format_http_date(u64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    proptest::proptest! {
        #[test]
        fn formatting_round_trips(secs in 0u64..=253_402_300_799) {
            proptest::prop_assert_eq!(parse_http_date(&format_http_date(secs)), Some(secs));
        }
    }

    #[test]
    fn invalid_dates() {
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sun, 30 Feb 2000 00:00:00 GMT",
            "Sun, 29 Feb 1900 00:00:00 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994 GMT",
            "Sun Nov  6 8:49:37 1994",
            "120",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }
}
