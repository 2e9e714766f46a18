//! oddhunt-detect: the detectors.
//!
//! Each detector decides which events and features it uses, how it scores its subjects and how
//! it explains a finding; all share the life in [`detector`] (accumulate → fit → score →
//! explain) and the thresholding and exclusions in [`pipeline`].
//!
//! | detector | finds |
//! |---|---|
//! | [`masquerade`] | rare process names a small edit away from common ones |
//! | [`sequence`] | sessions of admin commands or processes whose sequence is rare (Markov chain) |
//! | [`cmdline`] | process command lines odd for their executable, parent and log (rarity in context; the seed's autoencoder) |
//! | [`proccount`] | hours in which a host or account ran an odd mix of processes (feature hashing + autoencoder) |
//! | [`dns`] | registered domains looked up like DNS tunnelling, DGA or C2 (Isolation Forest + k-means) |
//! | [`web`] | web clients that scan, brute-force or exploit (Isolation Forest + k-means) |
//! | [`exeprev`] | executables with an odd prevalence: rare, user-writable folders, talking (Isolation Forest) |
//! | [`iforest_table`] (`iforest`) | rows of any numeric feature table (Isolation Forest) |

pub mod cmdline;
pub mod detector;
pub mod dns;
pub mod exeprev;
pub mod features;
pub mod iforest_table;
pub mod masquerade;
pub mod pipeline;
pub mod proccount;
pub mod sequence;
pub mod web;

pub use detector::{DetectError, Detector, Fitted, Model, NoProgress, Progress, Scorer, Trainer};

use oddhunt_core::modelfile::ModelFile;

/// Every detector, with default settings.
pub fn all() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(masquerade::Masquerade::default()),
        Box::new(sequence::Sequence::default()),
        Box::new(cmdline::Cmdline::default()),
        Box::new(proccount::Proccount::default()),
        Box::new(dns::Dns::default()),
        Box::new(web::Web::default()),
        Box::new(exeprev::ExePrev::default()),
        Box::new(iforest_table::IForest::default()),
    ]
}

/// The detector called `name`, with default settings.
pub fn by_name(name: &str) -> Option<Box<dyn Detector>> {
    all().into_iter().find(|d| d.name() == name)
}

/// A loaded model with the detector that trained it.
pub type LoadedModel = (Box<dyn Detector>, Box<dyn Model>);

/// Loads the model in `file` with the detector that trained it.
pub fn load_model(file: &ModelFile) -> Result<LoadedModel, DetectError> {
    let detector = by_name(&file.manifest.detector).ok_or_else(|| {
        DetectError::Other(format!(
            "{}: trained by detector {:?}, which this oddhunt does not have",
            file.origin(),
            file.manifest.detector
        ))
    })?;
    let model = detector.load(file)?;
    Ok((detector, model))
}
