//! Writes a generated Zeek `dns.log` for the dns benchmark (`bench/dns.sh`): a network of
//! `HOSTS` hosts over `DAYS` weekdays with about `QUERIES` look-ups in all, an iodine tunnel, a
//! dnscat2 tunnel and a DGA burst on the last day (labels next to the log as CSV).
//!
//!     cargo run --release -p oddhunt-detect --example dns_log -- OUT.log [QUERIES] [HOSTS] [DAYS] [SEED]

use oddhunt_synth::dns::{generate, DnsOptions};
use oddhunt_synth::Environment;
use rand::SeedableRng;
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .get(1)
        .ok_or("usage: dns_log OUT.log [QUERIES] [HOSTS] [DAYS] [SEED]")?;
    let queries: f64 = args.get(2).map_or(Ok(5_000_000.0), |a| a.parse())?;
    let hosts: usize = args.get(3).map_or(Ok(1000), |a| a.parse())?;
    let days: u32 = args.get(4).map_or(Ok(5), |a| a.parse())?;
    let seed: u64 = args.get(5).map_or(Ok(7), |a| a.parse())?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // A Monday: every day a weekday.
    let start = oddhunt_core::Timestamp::parse("2024-03-04T00:00:00Z")?;
    let env = Environment::new(&mut rng, hosts, hosts, days, start);
    // Workstations make the full rate, servers a third (see `oddhunt_synth::dns`).
    let servers = env
        .hosts
        .iter()
        .filter(|h| h.role != oddhunt_synth::environment::HostRole::Workstation)
        .count() as f64;
    let weight = (hosts as f64 - servers) + servers * 0.33;
    let options = DnsOptions {
        queries_per_host_day: queries / f64::from(days.max(1)) / weight.max(1.0),
        tunnel_day: Some(days - 1),
        dnscat_day: Some(days - 1),
        dga_day: Some(days - 1),
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut labels = Vec::new();
    let written = generate(&env, &mut rng, &options, &mut file, &mut labels)?;
    file.flush()?;
    let mut l = std::fs::File::create(format!("{out}.labels.csv"))?;
    oddhunt_synth::write_labels(&labels, &mut l)?;
    eprintln!("{written} look-ups, {} labels → {out}", labels.len());
    Ok(())
}
