//! Parsing of sizes, durations, token counts, money and budgets, exactly as documented in the README.
//!
//! * Sizes: a number and a unit. `KB MB GB TB` (and `K M G T`) are decimal (10^3…), `KiB MiB GiB
//!   TiB` binary (2^10…). A bare number is rejected: "24" could mean bytes or GB.
//! * Durations: `ms`, `s`, `m`, `h` (`200ms`, `1.5s`). A bare number is rejected.
//! * Token counts: a whole number, or with `k` (×1024) / `m` (×1024²): `64k` = 65,536, as context
//!   lengths are quoted ("128K" = 131,072).
//! * Budgets: `3/h`, `2000/month` (730 h), `50/day`, or a tier name from data/tasks.toml.
//! * Request rates: `2/s`, `120/min`, `300/h`, `100k/day` (k = 1000 here: requests are counted,
//!   not sized). A bare number is rejected: "5" could be per second or per minute.
//! * Percentiles: `p50`, `p90`, `p99`, or a number strictly between 0 and 100 (`95`, `99.9`).
//! * Length spreads: a token count, or `MIN..MAX` (`512..4k`) with MIN ≤ MAX.

/// The largest size r1pick accepts: 1 EiB.
const MAX_BYTES: f64 = (1u64 << 60) as f64;

pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size; write e.g. 24GiB, 80GB or 512MiB"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" => {
            return Err(format!(
                "'{s}' needs a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
            ));
        }
        "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => (1u64 << 30) as f64,
        "tib" => (1u64 << 40) as f64,
        other => {
            return Err(format!(
                "unknown size unit '{other}' in '{s}' (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
            ));
        }
    };
    let bytes = value * mult;
    if !bytes.is_finite() {
        return Err(format!(
            "'{s}' is not a size; write e.g. 24GiB, 80GB or 512MiB"
        ));
    }
    if bytes <= 0.0 {
        return Err(format!("size '{s}' must be greater than zero"));
    }
    if bytes < 1.0 {
        return Err(format!("size '{s}' is less than one byte"));
    }
    if bytes > MAX_BYTES {
        return Err(format!("size '{s}' is absurdly large (more than 1 EiB)"));
    }
    Ok(bytes.round() as u64)
}

/// Milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration; write e.g. 200ms or 1.5s"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" => return Err(format!("'{s}' needs a unit: ms, s, m or h (e.g. 200ms)")),
        "ms" => 1.0,
        "s" | "sec" => 1000.0,
        "m" | "min" => 60_000.0,
        "h" | "hr" => 3_600_000.0,
        other => {
            return Err(format!(
                "unknown duration unit '{other}' in '{s}' (ms, s, m, h)"
            ));
        }
    };
    let ms = value * mult;
    if !ms.is_finite() {
        return Err(format!("'{s}' is not a duration; write e.g. 200ms or 1.5s"));
    }
    if ms <= 0.0 {
        return Err(format!("duration '{s}' must be greater than zero"));
    }
    if ms > 86_400_000.0 {
        return Err(format!("duration '{s}' is longer than a day"));
    }
    Ok(ms)
}

/// The most tokens any count may hold (16M), far above any model's context.
pub const MAX_TOKENS: u64 = 1 << 24;

pub fn parse_tokens(s: &str) -> Result<u32, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = if let Some(n) = t.strip_suffix('k') {
        (n, 1024.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 1024.0 * 1024.0)
    } else {
        (t.as_str(), 1.0)
    };
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a token count; write e.g. 8192 or 64k"))?;
    let tokens = value * mult;
    if !tokens.is_finite() {
        return Err(format!(
            "'{s}' is not a token count; write e.g. 8192 or 64k"
        ));
    }
    if tokens < 1.0 {
        return Err(format!("token count '{s}' must be at least 1"));
    }
    if tokens > MAX_TOKENS as f64 {
        return Err(format!("token count '{s}' is above {MAX_TOKENS}"));
    }
    Ok(tokens.round() as u32)
}

/// A whole count ≥ 1 (sequences, GPUs).
pub fn parse_count(s: &str) -> Result<u32, String> {
    let n: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a whole number"))?;
    if n < 1 {
        return Err(format!("'{s}' must be at least 1"));
    }
    if n > 1_000_000 {
        return Err(format!("'{s}' is absurdly large (at most 1000000)"));
    }
    Ok(n as u32)
}

/// US dollars ≥ 0, e.g. `2.99` or `$2.99`.
pub fn parse_usd(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_start_matches('$')
        .parse()
        .map_err(|_| format!("'{s}' is not an amount in USD (e.g. 2.99)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("'{s}' must be zero or more USD"));
    }
    if v > 1e9 {
        return Err(format!("'{s}' is absurdly large"));
    }
    Ok(v)
}

/// GB/s > 0.
pub fn parse_bandwidth(s: &str) -> Result<f64, String> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.trim_end_matches("gb/s").trim_end_matches("gbps");
    let v: f64 = t
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a bandwidth in GB/s (e.g. 90 or 90GB/s)"))?;
    if !v.is_finite() || v <= 0.0 || v > 100_000.0 {
        return Err(format!("bandwidth '{s}' must be between 0 and 100000 GB/s"));
    }
    Ok(v)
}

/// A benchmark score floor in percent (0–100) or a Codeforces rating (up to 4000).
pub fn parse_score(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("'{s}' is not a score (e.g. 55 or 55%)"))?;
    if !v.is_finite() || !(0.0..=4000.0).contains(&v) {
        return Err(format!(
            "score '{s}' must be between 0 and 100 (or a rating up to 4000)"
        ));
    }
    Ok(v)
}

/// Tokens per second > 0, e.g. `30` or `30tok/s`.
pub fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches("tok/s")
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a speed in tokens/s (e.g. 30)"))?;
    if !v.is_finite() || v <= 0.0 || v > 1e6 {
        return Err(format!(
            "speed '{s}' must be between 0 and 1000000 tokens/s"
        ));
    }
    Ok(v)
}

/// A switch from the environment or a config file: `1 true yes on` / `0 false no off`.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!(
            "'{s}' is not a switch (true/false, 1/0, yes/no, on/off)"
        )),
    }
}

/// Hours in a month of continuous service (8760 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// A budget spelled as money per period, in USD per hour. Tier names are resolved by the caller.
pub fn parse_budget_rate(s: &str) -> Option<Result<f64, String>> {
    let t = s.trim().to_ascii_lowercase();
    let (amount, period) = t.split_once('/')?;
    let hours = match period.trim() {
        "h" | "hr" | "hour" => 1.0,
        "d" | "day" => 24.0,
        "mo" | "month" => HOURS_PER_MONTH,
        "y" | "yr" | "year" => HOURS_PER_MONTH * 12.0,
        other => {
            return Some(Err(format!(
                "unknown budget period '/{other}' in '{s}' (use /h, /day, /month or /year)"
            )));
        }
    };
    Some(parse_usd(amount).and_then(|usd| {
        if usd <= 0.0 {
            Err(format!("budget '{s}' must be more than zero"))
        } else {
            Ok(usd / hours)
        }
    }))
}

/// A request rate in requests per second: `2/s`, `120/min`, `300/h`, `100k/day`.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    const FORMS: &str = "e.g. 2/s, 120/min or 100k/day";
    let t = s.trim().to_ascii_lowercase();
    let Some((amount, period)) = t.split_once('/') else {
        return Err(format!(
            "rate '{s}' needs a period: {}/s, {0}/min or {0}/day",
            s.trim()
        ));
    };
    let seconds = match period.trim() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hr" | "hour" => 3600.0,
        "d" | "day" => 86_400.0,
        other => {
            return Err(format!(
                "unknown rate period '/{other}' in '{s}' (use /s, /min, /h or /day; {FORMS})"
            ));
        }
    };
    let amount = amount.trim();
    let (num, mult) = match amount.strip_suffix('k') {
        Some(n) => (n, 1e3),
        None => match amount.strip_suffix('m') {
            Some(n) => (n, 1e6),
            None => (amount, 1.0),
        },
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a request rate; write {FORMS}"))?;
    let per_s = n * mult / seconds;
    if !per_s.is_finite() || per_s <= 0.0 {
        return Err(format!("rate '{s}' must be more than zero ({FORMS})"));
    }
    Ok(per_s)
}

/// A percentile in percent: `p50`, `p90`, `p99`, or a number in (0, 100) such as `95`.
pub fn parse_percentile(s: &str) -> Result<f64, String> {
    let t = s.trim().to_ascii_lowercase();
    let num = t.strip_prefix('p').unwrap_or(&t);
    let v: f64 = num.trim().parse().map_err(|_| {
        format!("'{s}' is not a percentile; write p50, p90, p99 or a number such as 95")
    })?;
    if !(v > 0.0 && v < 100.0) {
        return Err(format!(
            "percentile '{s}' must be above 0 and below 100 (p50, p90, p99, or e.g. 95)"
        ));
    }
    Ok(v)
}

/// Requests per day for `--daily`: a count with `k` (10^3) or `m` (10^6), as rates count them:
/// `100k`, `2.5m`, `40000`.
pub fn parse_daily(s: &str) -> Result<f64, String> {
    let t = s.trim().to_ascii_lowercase();
    if t.contains('/') {
        return Err(format!(
            "--daily '{s}' is requests per day already: write a count such as 100k (or use --rate {s})"
        ));
    }
    let (num, mult) = match (t.strip_suffix('k'), t.strip_suffix('m')) {
        (Some(n), _) => (n, 1e3),
        (_, Some(n)) => (n, 1e6),
        _ => (t.as_str(), 1.0),
    };
    let n: f64 = num.trim().parse().map_err(|_| {
        format!("'{s}' is not a count of requests per day; write e.g. 100k or 2.5m")
    })?;
    let per_day = n * mult;
    if !per_day.is_finite() || per_day <= 0.0 {
        return Err(format!("--daily '{s}' must be more than zero requests"));
    }
    if per_day / 86_400.0 > MAX_FLEET_RATE_PER_S {
        return Err(format!(
            "--daily '{s}' is absurdly large (at most {} requests a day)",
            MAX_FLEET_RATE_PER_S * 86_400.0
        ));
    }
    Ok(per_day)
}

/// The highest fleet-wide rate `--daily` accepts, per second: the serving model's own bound.
const MAX_FLEET_RATE_PER_S: f64 = 1e6;

/// A utilization target strictly between 0 and 1: `0.7` or `70%`.
pub fn parse_headroom(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (t, 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map(|v: f64| v / scale)
        .map_err(|_| format!("--headroom '{s}' is not a utilization; write e.g. 0.7 or 70%"))?;
    if !(v > 0.0 && v < 1.0) {
        return Err(format!(
            "--headroom '{s}' must be above 0 and below 1 (the share of each replica's highest sustainable rate it may run at, e.g. 0.7)"
        ));
    }
    Ok(v)
}

/// The busiest hour's rate over the day's mean, at least 1 and at most 24 (all of a day's requests
/// in one hour).
pub fn parse_peak_factor(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches(['x', '×'])
        .parse()
        .map_err(|_| format!("--peak-factor '{s}' is not a number; write e.g. 2 or 3.5"))?;
    if !(1.0..=24.0).contains(&v) {
        return Err(format!(
            "--peak-factor '{s}' must be from 1 (flat traffic) to 24 (the whole day in one hour)"
        ));
    }
    Ok(v)
}

/// A whole number that may be zero (`--spares 0`), at most 1000.
pub fn parse_count_or_zero(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if (0..=1000).contains(&n) => Ok(n as u32),
        Ok(_) => Err(format!("'{s}' must be from 0 to 1000")),
        Err(_) => Err(format!("'{s}' is not a whole number")),
    }
}

/// A dataset's token count in decimal units (K = 10^3, M = 10^6, B = 10^9, T = 10^12), as datasets
/// are quoted.
pub fn parse_dataset_tokens(s: &str) -> Result<f64, String> {
    let t = s.trim().to_ascii_uppercase();
    let (num, mult) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('B') | Some('G') => (&t[..t.len() - 1], 1e9),
        Some('T') => (&t[..t.len() - 1], 1e12),
        _ => (t.as_str(), 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a token count; write e.g. 50M or 2B"))?;
    let tokens = v * mult;
    if !tokens.is_finite() || !(1.0..=1e15).contains(&tokens) {
        return Err(format!("token count '{s}' must be between 1 and 1000T"));
    }
    Ok(tokens)
}

pub fn parse_epochs(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of epochs"))?;
    if !v.is_finite() || v <= 0.0 || v > 10_000.0 {
        return Err(format!("epochs '{s}' must be above 0 and at most 10000"));
    }
    Ok(v)
}

/// A length that is fixed (`4k`) or a uniform spread `MIN..MAX` (`512..4k`), as (min, max).
pub fn parse_span(s: &str) -> Result<(u32, u32), String> {
    let Some((lo, hi)) = s.split_once("..") else {
        let n = parse_tokens(s)?;
        return Ok((n, n));
    };
    let (lo, hi) = (parse_tokens(lo)?, parse_tokens(hi)?);
    if lo > hi {
        return Err(format!(
            "spread '{s}' runs backwards ({lo} > {hi}): write N or MIN..MAX with MIN ≤ MAX, e.g. 512..4k"
        ));
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    /// Tests return errors with `?` instead of unwrapping.
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;

    #[test]
    fn sizes_read_decimal_and_binary_units() -> TestResult {
        assert_eq!(parse_size("24GiB"), Ok(25_769_803_776));
        assert_eq!(parse_size("80GB"), Ok(80_000_000_000));
        assert_eq!(parse_size("1.5TiB"), Ok(1_649_267_441_664));
        assert_eq!(parse_size("512 MiB"), Ok(536_870_912));
        assert!(parse_size("24").unwrap_err().contains("needs a unit"));
        assert!(
            parse_size("24XB")
                .unwrap_err()
                .contains("unknown size unit")
        );
        assert!(parse_size("0GiB").is_err());
        assert!(parse_size("-4GiB").is_err());
        assert!(parse_size("99999999TiB").unwrap_err().contains("absurdly"));
        Ok(())
    }

    #[test]
    fn durations_need_a_unit() -> TestResult {
        assert_eq!(parse_duration_ms("200ms"), Ok(200.0));
        assert_eq!(parse_duration_ms("1.5s"), Ok(1500.0));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000.0));
        assert_eq!(parse_duration_ms("1h"), Ok(3_600_000.0));
        assert!(parse_duration_ms("200").is_err());
        assert!(parse_duration_ms("0ms").is_err());
        assert!(parse_duration_ms("-5ms").is_err());
        Ok(())
    }

    #[test]
    fn token_counts_read_k_as_1024() -> TestResult {
        assert_eq!(parse_tokens("64k"), Ok(65_536));
        assert_eq!(parse_tokens("128K"), Ok(131_072));
        assert_eq!(parse_tokens("8192"), Ok(8192));
        assert!(parse_tokens("0").is_err());
        assert!(parse_tokens("10000000000").is_err());
        assert!(parse_tokens("lots").is_err());
        Ok(())
    }

    #[test]
    fn budgets_convert_to_usd_per_hour() -> TestResult {
        assert_eq!(parse_budget_rate("3/h"), Some(Ok(3.0)));
        assert_eq!(parse_budget_rate("730/month"), Some(Ok(1.0)));
        assert_eq!(parse_budget_rate("48/day"), Some(Ok(2.0)));
        assert!(matches!(parse_budget_rate("-3/h"), Some(Err(_))));
        assert!(matches!(parse_budget_rate("3/week"), Some(Err(_))));
        assert_eq!(parse_budget_rate("startup"), None);
        Ok(())
    }

    #[test]
    fn rates_need_a_period_and_read_k_as_1000() -> TestResult {
        assert_eq!(parse_rate("2/s"), Ok(2.0));
        assert_eq!(parse_rate("120/min"), Ok(2.0));
        assert_eq!(parse_rate("7200/h"), Ok(2.0));
        assert_eq!(parse_rate("86.4k/day"), Ok(1.0));
        assert!(parse_rate("5").unwrap_err().contains("needs a period"));
        assert!(parse_rate("0/s").unwrap_err().contains("more than zero"));
        assert!(parse_rate("-2/s").unwrap_err().contains("more than zero"));
        assert!(parse_rate("2/week").unwrap_err().contains("'/week'"));
        assert!(parse_rate("many/s").is_err());
        Ok(())
    }

    #[test]
    fn percentiles_lie_strictly_between_0_and_100() -> TestResult {
        assert_eq!(parse_percentile("p90"), Ok(90.0));
        assert_eq!(parse_percentile("P99"), Ok(99.0));
        assert_eq!(parse_percentile("99.9"), Ok(99.9));
        assert!(parse_percentile("0").is_err());
        assert!(parse_percentile("100").is_err());
        assert!(parse_percentile("100.5").unwrap_err().contains("'100.5'"));
        assert!(parse_percentile("median").is_err());
        Ok(())
    }

    #[test]
    fn spreads_are_fixed_or_min_to_max() -> TestResult {
        assert_eq!(parse_span("4k"), Ok((4096, 4096)));
        assert_eq!(parse_span("512..4k"), Ok((512, 4096)));
        assert!(parse_span("4k..512").unwrap_err().contains("backwards"));
        assert!(parse_span("0..512").is_err());
        Ok(())
    }
}
