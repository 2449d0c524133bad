//! CronJobs (batch/v1): the standard 5-field cron schedule, and what the CronJob
//! controller (`sim/src/controllers/cron_jobs.rs`) needs of each CronJob.
//!
//! The schedule is read as upstream's (`robfig/cron`'s `ParseStandard`, used by
//! `pkg/controller/cronjob/utils.go`): minute, hour, day of month, month, day of week,
//! each `*` (or `?` in the day fields), a number, a range `a-b`, a step `*/s`, `a-b/s` or
//! `a/s`, or a comma-separated list of these; months and days of week may be named
//! (`JAN`, `MON`), Sunday is 0 (and 7); `@yearly`, `@annually`, `@monthly`, `@weekly`,
//! `@daily`, `@midnight` and `@hourly` are accepted. When both day fields are
//! restricted, a day matching either runs (cron's rule). Times are UTC unless the
//! CronJob names a `timeZone` ([`Zone`], an IANA name), in which the schedule is read on
//! the zone's wall clock as robfig/cron v3 reads it in a location: a wall time that a
//! spring-forward gap skips does not run that day, and a wall time that a fall-back
//! repeats runs at both of its instants (robfig's own tests: "1am nightly job (runs
//! twice)"), each a Job of its own (their Unix-minute names differ). The zone rules are
//! the IANA database bundled with the `jiff` crate, not the host's, so every machine lays
//! out the same runs.
//!
//! Simulated time 0 is [`EPOCH_UNIX_MINUTES`]: Monday 1970-01-05 00:00 UTC, the first
//! Monday of the Unix epoch, so `0 9 * * MON-FRI` means what it says and a Job's name
//! suffix is its scheduled time in Unix minutes, as upstream names it
//! (`getTimeHashInMinutes`): the Job scheduled at time 0 of CronJob `report` is
//! `report-5760`.

use crate::time::SimTime;
use schedulers::kubernetes_enum;

/// Simulated time 0 in minutes since the Unix epoch: Monday 1970-01-05 00:00 UTC.
pub const EPOCH_UNIX_MINUTES: u64 = 4 * 24 * 60;

/// How many Jobs one CronJob may schedule within a run's horizon: a schedule that would
/// create more (every minute for weeks) is refused rather than expanded.
pub const MAX_RUNS: usize = 100_000;

kubernetes_enum! {
    /// A CronJob's `concurrencyPolicy`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub enum ConcurrencyPolicy {
        /// Jobs may run concurrently (the default).
        #[default]
        Allow => "Allow",
        /// A scheduled time while a Job is still active is not run then; it runs late when
        /// that Job finishes, unless `startingDeadlineSeconds` have passed.
        Forbid => "Forbid",
        /// The active Job is deleted (with its pods) and the new one created.
        Replace => "Replace",
    }
}

/// One CronJob of a scenario, with its Jobs laid out in advance: one Job workload per
/// scheduled time within the horizon, which the CronJob controller creates (or skips).
#[derive(Debug, Clone, PartialEq)]
pub struct CronJob {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `concurrencyPolicy`.
    pub concurrency_policy: ConcurrencyPolicy,
    /// `startingDeadlineSeconds`: how late a scheduled time may still be run.
    pub starting_deadline: Option<SimTime>,
    /// (scheduled time, the Job's workload index), in time order. Empty when suspended.
    pub runs: Vec<(SimTime, u32)>,
    /// Its Jobs a cluster snapshot shows running (workload indices): active from the
    /// start, so Forbid waits for them and Replace deletes them.
    pub adopted: Vec<u32>,
    /// `schedule`, as written (kept for `schedlab export`).
    pub schedule: String,
    /// `timeZone`, if given.
    pub time_zone: Option<String>,
    /// `suspend`: a suspended CronJob schedules nothing.
    pub suspend: bool,
    /// The pods of its `jobTemplate`, named after the CronJob.
    pub job_template: std::sync::Arc<schedulers::PodTemplate>,
    /// Its `jobTemplate`'s Job spec.
    pub job_spec: super::JobSpec,
    /// How far past [`EPOCH_UNIX_MINUTES`] the wall clock is at simulated time 0: zero,
    /// unless the CronJob comes from a snapshot (`schedlab export`) taken that far into
    /// its run, whose annotation [`SNAPSHOT_TIME_ANNOTATION`] says so; its schedule and
    /// its Jobs' names go on from there.
    pub clock: SimTime,
}

/// The annotation `schedlab export` puts on a CronJob: the wall-clock time (RFC 3339)
/// of the instant written, which a reload takes as its time 0 for that CronJob, so
/// that its next Job comes when it would have in the exported run.
pub const SNAPSHOT_TIME_ANNOTATION: &str = "schedlab.io/snapshot-time";

/// The wall-clock time, RFC 3339 in UTC, of simulated time `t` on a clock that is
/// `clock` past the epoch.
pub fn wall_clock(clock: SimTime, t: SimTime) -> String {
    let micros = EPOCH_UNIX_MINUTES * 60_000_000 + clock.as_micros() + t.as_micros();
    match jiff::Timestamp::from_microsecond(micros as i64) {
        Ok(at) => at.to_string(),
        Err(_) => String::new(),
    }
}

/// How far past the epoch an RFC 3339 time (an annotation's [`wall_clock`]) is, or why
/// it cannot be a snapshot's time.
pub fn parse_wall_clock(text: &str) -> Result<SimTime, String> {
    let at: jiff::Timestamp = text.parse().map_err(|e| {
        format!("expected an RFC 3339 time such as 1970-01-05T00:10:00Z, got {text:?} ({e})")
    })?;
    let epoch = (EPOCH_UNIX_MINUTES * 60_000_000) as i64;
    let past = at.as_microsecond() - epoch;
    u64::try_from(past).map(SimTime::from_micros).map_err(|_| {
        format!("{text} is before simulated time 0 (1970-01-05T00:00:00Z), which no run reaches")
    })
}

/// A parsed 5-field schedule: one bit per allowed value of each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u32,
    days_of_month: u32,
    months: u16,
    days_of_week: u8,
    /// Whether the day-of-month or day-of-week field was `*` (or `?`).
    any_day_of_month: bool,
    any_day_of_week: bool,
}

/// The field names, for messages.
const FIELDS: [&str; 5] = ["minute", "hour", "day of month", "month", "day of week"];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Schedule {
    /// Parses a schedule; the error says which field is wrong and why.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let text = text.trim();
        let expanded = match text {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            t if t.starts_with('@') => {
                return Err(format!(
                    "unknown descriptor {t:?}; expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"
                ));
            }
            t => t,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), got {}",
                fields.len()
            ));
        }
        let field = |i: usize, lo: u32, hi: u32, names: &[&str]| -> Result<u64, String> {
            parse_field(fields[i], lo, hi, names)
                .map_err(|e| format!("{} field {:?}: {e}", FIELDS[i], fields[i]))
        };
        let mut days_of_week = field(4, 0, 7, &DAYS)?;
        // 7 is Sunday too.
        if days_of_week & (1 << 7) != 0 {
            days_of_week = (days_of_week | 1) & 0x7f;
        }
        // As robfig/cron: a day field is unrestricted when it is `*` or `?` (a step above
        // 1 restricts it).
        let any = |f: &str| matches!(f, "*" | "?" | "*/1" | "?/1");
        Ok(Schedule {
            minutes: field(0, 0, 59, &[])?,
            hours: field(1, 0, 23, &[])? as u32,
            days_of_month: field(2, 1, 31, &[])? as u32,
            months: field(3, 1, 12, &MONTHS)? as u16,
            days_of_week: days_of_week as u8,
            any_day_of_month: any(fields[2]),
            any_day_of_week: any(fields[4]),
        })
    }

    /// Whether the schedule names the minute starting `unix_minutes` after the epoch.
    pub fn matches(&self, unix_minutes: u64) -> bool {
        let minute = unix_minutes % 60;
        let hour = (unix_minutes / 60) % 24;
        let days = unix_minutes / (24 * 60);
        if self.minutes & (1 << minute) == 0 || self.hours & (1 << hour) == 0 {
            return false;
        }
        let (month, day) = month_and_day(days);
        if self.months & (1 << month) == 0 {
            return false;
        }
        // 1970-01-01 was a Thursday (4).
        let weekday = (days + 4) % 7;
        let dom = self.days_of_month & (1 << day) != 0;
        let dow = self.days_of_week & (1 << weekday) != 0;
        if self.any_day_of_month || self.any_day_of_week {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The scheduled times in `[0, horizon)` of simulated time, at most `limit` of them
    /// (`None` past the limit), read in UTC.
    pub fn times(&self, horizon: SimTime, limit: usize) -> Option<Vec<SimTime>> {
        self.times_in(None, horizon, limit)
    }

    /// As [`Schedule::times`], the schedule read on `zone`'s wall clock (UTC for `None`):
    /// each minute of simulated time runs when its wall time matches, so a skipped wall
    /// time never runs and a repeated one runs twice, as robfig/cron does.
    pub fn times_in(
        &self,
        zone: Option<&Zone>,
        horizon: SimTime,
        limit: usize,
    ) -> Option<Vec<SimTime>> {
        self.times_from(zone, SimTime::ZERO, horizon, limit)
    }

    /// As [`Schedule::times_in`], on a wall clock `clock` past the epoch at simulated
    /// time 0 (a snapshot's CronJob, see [`CronJob::clock`]): the wall minutes from then
    /// on, as simulated times.
    pub fn times_from(
        &self,
        zone: Option<&Zone>,
        clock: SimTime,
        horizon: SimTime,
        limit: usize,
    ) -> Option<Vec<SimTime>> {
        const MINUTE: u64 = 60_000_000;
        // The first whole wall minute at or after time 0, and how far after time 0 it is.
        let first = clock.as_micros().div_ceil(MINUTE);
        let lead = first * MINUTE - clock.as_micros();
        let minutes = horizon.as_micros().saturating_sub(lead).div_ceil(MINUTE);
        let mut out = Vec::new();
        for m in 0..minutes {
            let utc = EPOCH_UNIX_MINUTES + first + m;
            let wall = match zone {
                Some(z) => utc.saturating_add_signed(z.offset_minutes(utc)),
                None => utc,
            };
            if self.matches(wall) {
                if out.len() == limit {
                    return None;
                }
                out.push(SimTime::from_micros(lead + m * MINUTE));
            }
        }
        Some(out)
    }
}

/// A CronJob's `timeZone`: an IANA time zone from the bundled database.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: jiff::tz::TimeZone,
}

impl Zone {
    /// The zone named `name` (`America/New_York`), or why upstream's validation would
    /// refuse it: an unknown name, or `Local` (not an explicit zone).
    pub fn named(name: &str) -> Result<Zone, String> {
        if name.eq_ignore_ascii_case("local") {
            return Err(
                "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
                    .to_owned(),
            );
        }
        // The bundled database only (jiff's `tzdb-bundle-always`, no zoneinfo feature).
        match jiff::tz::db().get(name) {
            Ok(tz) => Ok(Zone { tz }),
            Err(_) => Err(format!(
                "unknown time zone {name:?} (an IANA name such as \"America/New_York\" or \"Etc/UTC\")"
            )),
        }
    }

    /// The zone's offset from UTC, in minutes rounded down, at `unix_minutes`.
    fn offset_minutes(&self, unix_minutes: u64) -> i64 {
        let Ok(at) = jiff::Timestamp::from_second(unix_minutes as i64 * 60) else {
            return 0;
        };
        i64::from(self.tz.to_offset(at).seconds()).div_euclid(60)
    }
}

/// The name of the Job a CronJob creates for `scheduled` (upstream's
/// `<cronjob>-<scheduled time in Unix minutes>`).
pub fn job_name(cron_job: &str, scheduled: SimTime) -> String {
    job_name_on(cron_job, SimTime::ZERO, scheduled)
}

/// As [`job_name`], on a wall clock `clock` past the epoch at simulated time 0.
pub fn job_name_on(cron_job: &str, clock: SimTime, scheduled: SimTime) -> String {
    format!(
        "{cron_job}-{}",
        EPOCH_UNIX_MINUTES + (clock.as_micros() + scheduled.as_micros()) / 60_000_000
    )
}

/// One field as a bit set over `lo..=hi`.
fn parse_field(text: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .map_err(|_| format!("step {s:?} is not a number"))?;
                if step == 0 {
                    return Err("a step must be at least 1".to_owned());
                }
                (r, Some(step))
            }
            None => (part, None),
        };
        let (from, to) = if range == "*" || range == "?" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, lo, hi, names)?, value(b, lo, hi, names)?)
        } else {
            let v = value(range, lo, hi, names)?;
            // `a/s` runs from a to the end of the range.
            (v, if step.is_some() { hi } else { v })
        };
        if from > to {
            return Err(format!("range {range:?} runs backwards"));
        }
        let step = step.unwrap_or(1);
        let mut v = from;
        while v <= to {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

/// One value of a field: a number in `lo..=hi` or one of `names` (numbered from `lo`,
/// case-insensitive).
fn value(text: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u32, String> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(lo + i as u32);
    }
    match text.parse::<u32>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        Ok(v) => Err(format!("{v} is outside {lo}-{hi}")),
        Err(_) => Err(format!("{text:?} is not a number")),
    }
}

/// The month (1-12) and day of month (1-31) of the day `days` after 1970-01-01, by the
/// proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn month_and_day(days: u64) -> (u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(s: &str, horizon_min: u64) -> Vec<u64> {
        Schedule::parse(s)
            .unwrap()
            .times(SimTime::from_secs(horizon_min * 60), MAX_RUNS)
            .unwrap()
            .into_iter()
            .map(|t| t.as_micros() / 60_000_000)
            .collect()
    }

    #[test]
    fn steps_lists_and_ranges() {
        assert_eq!(minutes("*/10 * * * *", 35), [0, 10, 20, 30]);
        assert_eq!(minutes("5,7-9 * * * *", 60), [5, 7, 8, 9]);
        assert_eq!(minutes("50/5 * * * *", 60), [50, 55]);
        assert_eq!(minutes("0 1-5/2 * * *", 24 * 60), [60, 180, 300]);
        assert_eq!(minutes("@hourly", 150), [0, 60, 120]);
    }

    #[test]
    fn days_follow_the_calendar_from_monday_1970_01_05() {
        assert_eq!(month_and_day(0), (1, 1));
        assert_eq!(month_and_day(31 + 28), (3, 1), "1970 is not a leap year");
        assert_eq!(month_and_day(2 * 365 + 31 + 28), (2, 29), "1972 is");
        let day = 24 * 60;
        // Day 0 is a Monday: weekdays at 09:00 skip days 5 and 6.
        assert_eq!(
            minutes("0 9 * * MON-FRI", 7 * day),
            (0..5).map(|d| d * day + 540).collect::<Vec<_>>()
        );
        assert_eq!(minutes("0 0 * * 0", 7 * day), [6 * day]);
        assert_eq!(minutes("0 0 * * 7", 7 * day), [6 * day], "7 is Sunday");
        // The 5th of January is day 0; either day field matches when both are set.
        assert_eq!(minutes("0 0 6 * SUN", 7 * day), [day, 6 * day]);
        assert_eq!(minutes("0 0 1 feb *", 40 * day), [27 * day]);
    }

    #[test]
    fn bad_fields_are_named() {
        let err = |s: &str| Schedule::parse(s).unwrap_err();
        assert_eq!(err("61 * * * *"), "minute field \"61\": 61 is outside 0-59");
        assert_eq!(
            err("* * *"),
            "expected 5 fields (minute hour day-of-month month day-of-week), got 3"
        );
        assert_eq!(
            err("*/0 * * * *"),
            "minute field \"*/0\": a step must be at least 1"
        );
        assert_eq!(
            err("* * * * 5-1"),
            "day of week field \"5-1\": range \"5-1\" runs backwards"
        );
        assert!(err("@often").starts_with("unknown descriptor"));
    }

    /// The scheduled times within `days` days of schedule `s` in zone `zone`, as
    /// (day, minute of the UTC day).
    fn zoned(s: &str, zone: &str, days: u64) -> Vec<(u64, u64)> {
        let zone = Zone::named(zone).unwrap();
        Schedule::parse(s)
            .unwrap()
            .times_in(Some(&zone), SimTime::from_secs(days * 86_400), MAX_RUNS)
            .unwrap()
            .into_iter()
            .map(|t| t.as_micros() / 60_000_000)
            .map(|m| (m / 1440, m % 1440))
            .collect()
    }

    #[test]
    fn a_time_zone_moves_the_runs_and_follows_its_1970_dst() {
        // New York in January 1970 is EST, UTC-5 (the bundled tzdb): 09:00 is 14:00 UTC.
        assert_eq!(
            zoned("0 9 * * *", "America/New_York", 2),
            [(0, 14 * 60), (1, 14 * 60)]
        );
        assert_eq!(zoned("0 9 * * *", "Etc/UTC", 1), [(0, 9 * 60)]);
        // US DST began on Sunday 1970-04-26 (day 111): 02:00 EST became 03:00 EDT, so
        // 02:30 does not exist that day and does not run; 09:00 EDT is 13:00 UTC.
        let day = 111;
        assert_eq!(month_and_day(4 + day), (4, 26));
        let runs = zoned("30 2 * * *", "America/New_York", day + 2);
        assert_eq!(
            &runs[runs.len() - 2..],
            [(day - 1, 7 * 60 + 30), (day + 1, 6 * 60 + 30)]
        );
        assert_eq!(
            &zoned("0 9 * * *", "America/New_York", day + 1)[day as usize - 1..],
            [(day - 1, 14 * 60), (day, 13 * 60)]
        );
        // Hourly around the gap: 01:00 EST (06:00 UTC), then 03:00 EDT (07:00 UTC).
        let hourly: Vec<(u64, u64)> = zoned("0 * * * *", "America/New_York", day + 1)
            .into_iter()
            .filter(|&(d, m)| d == day && (5 * 60..=8 * 60).contains(&m))
            .collect();
        assert_eq!(
            hourly,
            [(day, 5 * 60), (day, 6 * 60), (day, 7 * 60), (day, 8 * 60)]
        );
        // It ended on Sunday 1970-10-25 (day 293): 02:00 EDT became 01:00 EST, so 01:30
        // comes twice and runs twice, as robfig/cron runs it (05:30 and 06:30 UTC).
        let back = 293;
        assert_eq!(month_and_day(4 + back), (10, 25));
        let runs: Vec<(u64, u64)> = zoned("30 1 * * *", "America/New_York", back + 2)
            .into_iter()
            .filter(|&(d, _)| d >= back - 1)
            .collect();
        assert_eq!(
            runs,
            [
                (back - 1, 5 * 60 + 30),
                (back, 5 * 60 + 30),
                (back, 6 * 60 + 30),
                (back + 1, 6 * 60 + 30)
            ]
        );
    }

    #[test]
    fn unknown_and_local_zones_are_refused() {
        assert_eq!(
            Zone::named("Mars/Olympus").unwrap_err(),
            "unknown time zone \"Mars/Olympus\" (an IANA name such as \"America/New_York\" or \"Etc/UTC\")"
        );
        assert!(
            Zone::named("Local")
                .unwrap_err()
                .contains("explicit time zone")
        );
    }

    #[test]
    fn job_names_are_unix_minutes() {
        assert_eq!(job_name("report", SimTime::ZERO), "report-5760");
        assert_eq!(job_name("report", SimTime::from_secs(600)), "report-5770");
    }

    #[test]
    fn a_snapshot_clock_shifts_the_times_and_the_names() {
        let every_5 = Schedule::parse("*/5 * * * *").unwrap();
        // 7m30s into the day: the next runs are at 10 m, 15 m (2m30s and 7m30s from 0).
        let clock = SimTime::from_secs(450);
        let times = every_5
            .times_from(None, clock, SimTime::from_secs(600), MAX_RUNS)
            .unwrap();
        assert_eq!(times, [SimTime::from_secs(150), SimTime::from_secs(450)]);
        assert_eq!(job_name_on("report", clock, times[0]), "report-5770");
        // On a whole minute, that minute runs at 0.
        let on_the_minute = every_5
            .times_from(
                None,
                SimTime::from_secs(600),
                SimTime::from_secs(60),
                MAX_RUNS,
            )
            .unwrap();
        assert_eq!(on_the_minute, [SimTime::ZERO]);
        assert_eq!(
            every_5.times_from(None, SimTime::ZERO, SimTime::from_secs(600), MAX_RUNS),
            every_5.times(SimTime::from_secs(600), MAX_RUNS)
        );
    }

    #[test]
    fn wall_clock_times_read_back() {
        let clock = SimTime::from_secs(60);
        let written = wall_clock(clock, SimTime::from_millis(30_500));
        assert_eq!(written, "1970-01-05T00:01:30.5Z");
        assert_eq!(parse_wall_clock(&written), Ok(SimTime::from_millis(90_500)));
        assert_eq!(
            parse_wall_clock("1970-01-04T23:59:00Z"),
            Err("1970-01-04T23:59:00Z is before simulated time 0 (1970-01-05T00:00:00Z), which no run reaches".to_owned())
        );
        assert!(parse_wall_clock("yesterday").unwrap_err().starts_with(
            "expected an RFC 3339 time such as 1970-01-05T00:10:00Z, got \"yesterday\""
        ));
    }
}
