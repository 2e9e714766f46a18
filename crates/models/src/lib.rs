//! oddhunt-models: log-agnostic learning.
//!
//! Everything here works on plain strings, numbers and matrices and knows nothing of security
//! semantics: `oddhunt-detect` decides which events and features go in. Each model follows the
//! estimator shape (a settings struct with defaults, `fit` returns a model, the model scores) and
//! is serialisable so a trained model lives in an oddhunt model file.

// Markov chains over sessions (msticpy anomalous_sequence port) and the sessionizer.
pub mod markov;
pub mod sessionize;

// Isolation Forest / Extended Isolation Forest, k-means, standard scaling, evaluation metrics.
pub mod iforest;
pub mod kmeans;
pub mod metrics;
pub mod scale;

// A small dense-network core and scikit-learn-compatible feature hashing.
pub mod hashing;
pub mod nn;
