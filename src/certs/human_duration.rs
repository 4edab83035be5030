//! Residual time in the short form `kubeadm certs check-expiration` prints.
//!
//! kubeadm formats it with apimachinery's `duration.ShortHumanDuration`
//! (k8s.io/apimachinery/pkg/util/duration/duration.go). Every step truncates towards zero, and
//! a value down to one second in the past still counts as "now" to tolerate clock skew.

/// Formats a residual time in whole seconds: `<invalid>` below -1s, `0s` for -1s, then the
/// largest of seconds, minutes, hours, days (below 365 days) or years, truncated.
pub fn short_human_duration(seconds: i64) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    const YEAR: i64 = 365 * DAY;

    if seconds < -1 {
        "<invalid>".to_string()
    } else if seconds < 0 {
        "0s".to_string()
    } else if seconds < MINUTE {
        format!("{seconds}s")
    } else if seconds < HOUR {
        format!("{}m", seconds / MINUTE)
    } else if seconds < DAY {
        format!("{}h", seconds / HOUR)
    } else if seconds < YEAR {
        format!("{}d", seconds / DAY)
    } else {
        format!("{}y", seconds / YEAR)
    }
}

#[cfg(test)]
mod tests {
    use super::short_human_duration;

    const DAY: i64 = 86_400;

    #[test]
    fn past_beyond_one_second_is_invalid() {
        assert_eq!(short_human_duration(-2), "<invalid>");
        assert_eq!(short_human_duration(-400 * DAY), "<invalid>");
    }

    #[test]
    fn one_second_past_is_zero() {
        assert_eq!(short_human_duration(-1), "0s");
    }

    #[test]
    fn seconds_below_one_minute() {
        assert_eq!(short_human_duration(0), "0s");
        assert_eq!(short_human_duration(59), "59s");
    }

    #[test]
    fn minutes_below_one_hour() {
        assert_eq!(short_human_duration(60), "1m");
        assert_eq!(short_human_duration(3599), "59m");
    }

    #[test]
    fn hours_below_one_day() {
        assert_eq!(short_human_duration(3600), "1h");
        assert_eq!(short_human_duration(DAY - 1), "23h");
    }

    #[test]
    fn days_below_one_year() {
        assert_eq!(short_human_duration(DAY), "1d");
        assert_eq!(short_human_duration(365 * DAY - 1), "364d");
    }

    #[test]
    fn years_truncate() {
        assert_eq!(short_human_duration(365 * DAY), "1y");
        assert_eq!(short_human_duration(2 * 365 * DAY - 1), "1y");
        assert_eq!(short_human_duration(3650 * DAY - 3 * DAY), "9y");
    }
}
