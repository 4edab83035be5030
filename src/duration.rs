//! Durations on the command line, such as `30d`, `720h` or `1w2d`.

use std::time::Duration;

/// Parses a sequence of number-unit pairs. Units: s, m, h, d (24h), w (7d).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration; use a value such as 30d or 720h".to_string());
    }

    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit_seconds = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {c:?}; use s, m, h, d or w"
                ));
            }
        };
        if number.is_empty() {
            return Err(format!(
                "invalid duration {text:?}: a number must come before {c:?}"
            ));
        }
        let value: u64 = number
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: too large"))?;
        number.clear();
        total = value
            .checked_mul(unit_seconds)
            .and_then(|seconds| total.checked_add(seconds))
            .ok_or_else(|| format!("invalid duration {text:?}: too large"))?;
    }
    if !number.is_empty() {
        return Err(format!(
            "invalid duration {text:?}: {number} needs a unit, such as {number}d"
        ));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_hours_combine() {
        assert_eq!(
            parse_duration("1d12h").unwrap(),
            Duration::from_secs(36 * 3600)
        );
    }

    #[test]
    fn bare_number_is_rejected() {
        assert!(parse_duration("30").unwrap_err().contains("needs a unit"));
    }

    #[test]
    fn overflowing_number_is_too_large() {
        let error = parse_duration("99999999999999999999d").unwrap_err();

        assert!(error.contains("too large"), "{error}");
    }

    #[test]
    fn unit_without_number_is_rejected() {
        let error = parse_duration("d").unwrap_err();

        assert!(error.contains("a number must come before"), "{error}");
    }

    #[test]
    fn unknown_unit_is_rejected() {
        assert!(parse_duration("3y").unwrap_err().contains("unknown unit"));
    }
}
