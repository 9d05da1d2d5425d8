//! Values carried in reply text: `213` sizes and times (RFC 3659), `257`
//! directory names (RFC 959), the byte count many servers put in `150`.

use std::time::{Duration, SystemTime};

use super::Reply;

/// The size in a `213` reply to `SIZE`: decimal digits, nothing else but
/// surrounding spaces (RFC 3659 §4.2).
pub(crate) fn size(reply: &Reply) -> Option<u64> {
    let line = reply.lines().next()?;
    let digits = line.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// The time in a `213` reply to `MDTM`: `YYYYMMDDHHMMSS[.F...]` in UTC
/// (RFC 3659 §2.3). Out-of-range fields (month 13, February 30, hour 24)
/// are rejected; second 60 (a leap second) is allowed.
pub(crate) fn modification_time(reply: &Reply) -> Option<SystemTime> {
    let line = reply.lines().next()?.trim_ascii();
    let (whole, fraction) = match line.iter().position(|&b| b == b'.') {
        Some(dot) => (&line[..dot], Some(&line[dot + 1..])),
        None => (line, None),
    };
    if whole.len() != 14 || !whole.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let field = |at: usize, len: usize| {
        whole[at..at + len]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (field(0, 4), field(4, 2), field(6, 2));
    let (hour, minute, second) = (field(8, 2), field(10, 2), field(12, 2));
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let nanos = match fraction {
        None => 0,
        Some(f) if f.is_empty() || !f.iter().all(u8::is_ascii_digit) => return None,
        // Digits past nanoseconds carry nothing a file system can store.
        Some(f) => f
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(9)
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0')),
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    let time = if seconds >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    };
    Some(time + Duration::from_nanos(u64::from(nanos)))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard
/// Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The directory in a `257` reply: the first quoted string of the first
/// line, with `""` standing for one quote (RFC 959 Appendix II).
pub(crate) fn quoted_directory(reply: &Reply) -> Option<Vec<u8>> {
    let line = reply.lines().next()?;
    let open = line.iter().position(|&b| b == b'"')?;
    let mut name = Vec::new();
    let mut bytes = line[open + 1..].iter();
    while let Some(&b) = bytes.next() {
        if b != b'"' {
            name.push(b);
        } else if bytes.as_slice().first() == Some(&b'"') {
            name.push(b'"');
            bytes.next();
        } else {
            return (!name.is_empty()).then_some(name);
        }
    }
    None
}

/// The byte count many servers announce in a `150` reply, e.g. `150 Opening
/// BINARY mode data connection for f.iso (1048576 bytes)`: digits after a
/// `(`, then `bytes`. Not standard, so only a hint.
pub(crate) fn announced_size(reply: &Reply) -> Option<u64> {
    let text = reply.text_bytes();
    text.iter().enumerate().find_map(|(i, &b)| {
        if b != b'(' {
            return None;
        }
        let rest = text[i + 1..].trim_ascii_start();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let unit = rest[digits..].trim_ascii_start();
        if digits == 0 || !unit.get(..5)?.eq_ignore_ascii_case(b"bytes") {
            return None;
        }
        rest[..digits].iter().try_fold(0u64, |n, d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(reply_text: &str) -> Option<(u64, u32)> {
        let time = modification_time(&Reply::new(213, reply_text))?;
        let since = time.duration_since(SystemTime::UNIX_EPOCH).ok()?;
        Some((since.as_secs(), since.subsec_nanos()))
    }

    #[test]
    fn sizes() {
        let size_of = |text: &str| size(&Reply::new(213, text));
        assert_eq!(size_of("1234"), Some(1234));
        assert_eq!(size_of(" 0 "), Some(0));
        assert_eq!(size_of("18446744073709551615"), Some(u64::MAX));
        assert_eq!(size_of("18446744073709551616"), None);
        assert_eq!(size_of(""), None);
        assert_eq!(size_of("12 bytes"), None);
        assert_eq!(size_of("-1"), None);
        assert_eq!(size_of("0x10"), None);
    }

    #[test]
    fn modification_times() {
        assert_eq!(unix("19700101000000"), Some((0, 0)));
        assert_eq!(unix("20240102030405"), Some((1_704_164_645, 0)));
        assert_eq!(unix("20000229235959"), Some((951_868_799, 0)));
        assert_eq!(unix("20240102030405.5"), Some((1_704_164_645, 500_000_000)));
        assert_eq!(
            unix("20240102030405.1234567891"),
            Some((1_704_164_645, 123_456_789))
        );
        assert_eq!(unix("20161231235960"), Some((1_483_228_800, 0)));
        let before_epoch = modification_time(&Reply::new(213, "19691231235959")).unwrap();
        assert_eq!(
            SystemTime::UNIX_EPOCH.duration_since(before_epoch).unwrap(),
            Duration::from_secs(1)
        );
        for bad in [
            "",
            "2024010203040",
            "202401020304055",
            "20241302030405",
            "20240002030405",
            "20230229030405",
            "21000229030405",
            "20240132030405",
            "20240102240405",
            "20240102036005",
            "20240102030461",
            "20240102030405.",
            "20240102030405.x",
            "2024-1-2 3:4:5",
            "191240102030405",
        ] {
            assert_eq!(unix(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn quoted_directories() {
        let dir = |text: &str| quoted_directory(&Reply::new(257, text));
        assert_eq!(
            dir("\"/home/ftp\" is the current directory"),
            Some(b"/home/ftp".to_vec())
        );
        assert_eq!(dir("\"/a \"\"b\"\"\" created"), Some(b"/a \"b\"".to_vec()));
        assert_eq!(dir("PWD: \"/\""), Some(b"/".to_vec()));
        assert_eq!(dir("\"/unterminated"), None);
        assert_eq!(dir("/home/ftp"), None);
        assert_eq!(dir("\"\" empty"), None);
    }

    #[test]
    fn announced_sizes() {
        let announced = |text: &str| announced_size(&Reply::new(150, text));
        assert_eq!(
            announced("Opening BINARY mode data connection for f.iso (1048576 bytes)."),
            Some(1_048_576)
        );
        assert_eq!(announced("Opening (x) for f (  12 Bytes)"), Some(12));
        assert_eq!(announced("Opening data connection"), None);
        assert_eq!(announced("Opening (12 kB)"), None);
        assert_eq!(announced("(99999999999999999999999 bytes)"), None);
    }
}
