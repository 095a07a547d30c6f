//! On-demand GPU prices (data/prices.toml), one dated row per GPU per provider, and the rule that
//! turns them into each GPU's price: the median of its rows. A user's `--prices FILE` (same format)
//! replaces every row of each GPU it names, so negotiated prices win.

use serde::Deserialize;

use super::gpu::GpuSpec;
use super::{Format, check_schema_version, parse_data};
use crate::error::{Error, Result, edit_distance};

/// The price table compiled into the binary: data/prices.toml as build.rs converted it to JSON.
pub const EMBEDDED: &str = super::embedded_json!("prices");

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceRow {
    /// Catalog GPU id.
    pub gpu: String,
    pub provider: String,
    /// On-demand list price of one GPU for one hour (an 8-GPU instance's price / 8).
    pub usd_per_gpu_hour: f64,
    /// When the price was read or published ("2026-05-28", "2025").
    pub date: String,
    /// The page a user can open to check it.
    pub url: String,
    #[serde(default)]
    pub instance: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    schema_version: Option<u32>,
    #[serde(default)]
    price: Vec<PriceRow>,
}

/// Parse a price table; `name` locates errors. Every row must name a catalog GPU and carry a
/// price of zero or more (finite), a provider, a date and a URL.
pub fn parse(name: &str, text: &str, gpus: &[GpuSpec]) -> Result<Vec<PriceRow>> {
    parse_as(name, text, Format::Toml, gpus)
}

pub(super) fn parse_as(
    name: &str,
    text: &str,
    format: Format,
    gpus: &[GpuSpec],
) -> Result<Vec<PriceRow>> {
    let file: PriceFile = parse_data(name, text, format)?;
    check_schema_version(name, file.schema_version)?;
    for row in &file.price {
        if !gpus.iter().any(|g| g.id == row.gpu) {
            // Nearest by id or alias, so "h1000" suggests h100-sxm (alias "h100").
            let distance = |g: &GpuSpec| {
                std::iter::once(&g.id)
                    .chain(&g.aliases)
                    .map(|n| edit_distance(&row.gpu.to_lowercase(), &n.to_lowercase()))
                    .min()
                    .unwrap_or(usize::MAX)
            };
            let mut ranked: Vec<&GpuSpec> = gpus.iter().collect();
            ranked.sort_by_key(|g| distance(g));
            let near: Vec<&str> = ranked.iter().take(5).map(|g| g.id.as_str()).collect();
            return Err(Error::input(format!(
                "{name}: price row for unknown GPU '{}'; closest ids: {} (see `r1pick gpus`)",
                row.gpu,
                near.join(", ")
            )));
        }
        if !(row.usd_per_gpu_hour >= 0.0 && row.usd_per_gpu_hour <= MAX_PRICE) {
            return Err(Error::input(format!(
                "{name}: price of '{}' from {} is {} (USD per GPU-hour, 0..{MAX_PRICE})",
                row.gpu, row.provider, row.usd_per_gpu_hour
            )));
        }
        for (field, value) in [
            ("provider", &row.provider),
            ("date", &row.date),
            ("url", &row.url),
        ] {
            if value.trim().is_empty() {
                return Err(Error::input(format!(
                    "{name}: price row for '{}' needs a {field}",
                    row.gpu
                )));
            }
        }
    }
    Ok(file.price)
}

/// Highest USD per GPU-hour a row may claim (the catalog's bound on rates).
const MAX_PRICE: f64 = 1e6;

/// Set each GPU's price from `rows`: the median of its rows, with the source naming the
/// provider(s) and the date. GPUs without a row keep what they had; with `overwrite` false, so does
/// a GPU that carries its own `usd_per_hour` (a user's `--catalog` entry).
pub fn apply(gpus: &mut [GpuSpec], rows: &[PriceRow], overwrite: bool) {
    for g in gpus.iter_mut() {
        if !overwrite && g.usd_per_hour.is_some() {
            continue;
        }
        let mine: Vec<&PriceRow> = rows.iter().filter(|r| r.gpu == g.id).collect();
        if mine.is_empty() {
            continue;
        }
        let mut rates: Vec<f64> = mine.iter().map(|r| r.usd_per_gpu_hour).collect();
        rates.sort_by(f64::total_cmp);
        g.usd_per_hour = Some(median(&rates));
        let cite = |r: &PriceRow| {
            format!(
                "{} ${} ({}, {})",
                r.provider, r.usd_per_gpu_hour, r.date, r.url
            )
        };
        let (source, date) = match mine.as_slice() {
            [one] => (cite(one), one.date.clone()),
            many => {
                let cites: Vec<String> = many.iter().map(|r| cite(r)).collect();
                // The newest date in ISO form sorts last.
                let newest = many
                    .iter()
                    .map(|r| r.date.as_str())
                    .max()
                    .unwrap_or_default();
                (
                    format!("median of {} providers: {}", many.len(), cites.join("; ")),
                    newest.to_string(),
                )
            }
        };
        g.price_source = Some(source);
        g.price_date = Some(date);
    }
}

/// Median of sorted values (mean of the middle two for an even count); `values` is non-empty.
fn median(values: &[f64]) -> f64 {
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median(&[3.0, 1.0 + 0.5]), 2.25);
        assert_eq!(median(&[2.99]), 2.99);
    }
}
