//! oddhunt side of `bench/iforest.sh`: times Isolation Forest fit + score and k-means on the
//! data `bench/iforest_sklearn.py generate` wrote, and prints one JSON object.
//!
//! ```text
//! iforest_bench DIR KMEANS_ROWS [--threads N] [--repeats R]
//! ```
//!
//! `DIR/x.f64` holds rows × 8 little-endian f64 (row-major), `DIR/labels.u8` one byte per row
//! (1 = injected outlier). Isolation Forest: 100 trees, 256 rows per tree, contamination auto,
//! seed 0, fit on all rows then `score_samples` on all rows, as scikit-learn in the same bench;
//! also the fully extended forest. k-means: k = 8 on the first KMEANS_ROWS rows, `n_init` 1 and
//! 10. CPU seconds are process CPU time (user + system, all threads, from /proc/self/stat at
//! USER_HZ = 100), wall seconds `Instant`; each figure is the median of R runs (default 3).

use oddhunt_models::iforest::IsolationForestParams;
use oddhunt_models::kmeans::KMeansParams;
use oddhunt_models::metrics::roc_auc;
use std::time::Instant;

const N_FEATURES: usize = 8;

/// Process CPU seconds (user + system, all threads) from /proc/self/stat; 0 where unavailable.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Median CPU and wall seconds of `f` over `repeats` runs, and its last result.
fn measure<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let mut cpu = Vec::new();
    let mut wall = Vec::new();
    let mut timed = || {
        let (c0, w0) = (cpu_seconds(), Instant::now());
        let result = f();
        cpu.push(cpu_seconds() - c0);
        wall.push(w0.elapsed().as_secs_f64());
        result
    };
    let mut last = timed();
    for _ in 1..repeats {
        last = timed();
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut cpu), median(&mut wall), last)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: iforest_bench DIR KMEANS_ROWS [--threads N] [--repeats R]".into());
    }
    let dir = std::path::Path::new(&args[1]);
    let kmeans_rows: usize = args[2].parse()?;
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let threads = flag("--threads").unwrap_or(0);
    let repeats = flag("--repeats").unwrap_or(3);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()?;

    let bytes = std::fs::read(dir.join("x.f64"))?;
    let x: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect();
    let labels: Vec<bool> = std::fs::read(dir.join("labels.u8"))?
        .into_iter()
        .map(|b| b == 1)
        .collect();
    let n = labels.len();
    if x.len() != n * N_FEATURES {
        return Err(format!("{} values for {n} labels", x.len()).into());
    }

    let mut out = serde_json::Map::new();
    out.insert("rows".into(), n.into());
    out.insert("threads".into(), rayon::current_num_threads().into());
    out.insert("repeats".into(), repeats.into());
    for (name, extension_level) in [("iforest", 0), ("eif_full", N_FEATURES - 1)] {
        let mut fit_cpu = Vec::new();
        let mut fit_wall = Vec::new();
        let (cpu, wall, scores) = measure(repeats, || {
            let (c0, w0) = (cpu_seconds(), Instant::now());
            let model = IsolationForestParams {
                extension_level,
                ..Default::default()
            }
            .fit(&x, n, N_FEATURES);
            fit_cpu.push(cpu_seconds() - c0);
            fit_wall.push(w0.elapsed().as_secs_f64());
            model.and_then(|m| m.score_samples(&x))
        });
        let scores = scores?;
        let odd: Vec<f64> = scores.iter().map(|s| -s).collect();
        fit_cpu.sort_by(f64::total_cmp);
        fit_wall.sort_by(f64::total_cmp);
        out.insert(
            name.into(),
            serde_json::json!({
                "cpu": cpu,
                "wall": wall,
                "fit_cpu": fit_cpu[fit_cpu.len() / 2],
                "fit_wall": fit_wall[fit_wall.len() / 2],
                "auc": roc_auc(&odd, &labels)?,
            }),
        );
    }

    let xk = &x[..kmeans_rows.min(n) * N_FEATURES];
    for n_init in [1, 10] {
        let (cpu, wall, model) = measure(repeats, || {
            KMeansParams {
                n_clusters: 8,
                n_init,
                ..Default::default()
            }
            .fit(xk, xk.len() / N_FEATURES, N_FEATURES)
        });
        let model = model?;
        out.insert(
            format!("kmeans_n_init_{n_init}"),
            serde_json::json!({
                "cpu": cpu,
                "wall": wall,
                "inertia": model.inertia(),
                "n_iter": model.n_iter(),
                "rows": xk.len() / N_FEATURES,
            }),
        );
    }
    println!("{}", serde_json::Value::Object(out));
    Ok(())
}
