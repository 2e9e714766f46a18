//! Keras parity: forward passes and Adam training steps of both autoencoders against Keras 3 on
//! TensorFlow (numbers in `tests/fixtures/nn_keras.json`, written by
//! `bench/nn_keras_fixture.py`; versions recorded in the fixture).
//!
//! Both networks start from the same fixed weights as the script (a SplitMix64 hash of tensor
//! number and element index), see the same inputs, and must produce the same outputs (`allclose` with
//! rtol 1e-5, atol 1e-6), the same epoch loss, and the same weights after three Adam steps (rtol
//! 1e-4, atol 1e-6). Measured: at most 2.4e-7 absolute difference anywhere.

use oddhunt_models::nn::{
    fit, Activation, Architecture, Input, Loss, Network, RowError, TrainConfig,
};
use serde::Deserialize;
use std::collections::HashMap;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nn_keras.json");

#[derive(Deserialize)]
struct Fixture {
    tensorflow: String,
    keras: String,
    cmdline: CmdlineCase,
    proccount: ProccountCase,
}

#[derive(Deserialize)]
struct CmdlineCase {
    max_length: usize,
    ids: Vec<u8>,
    target: Vec<f32>,
    forward: Vec<f32>,
    batch_size: usize,
    epoch_loss: f64,
    trained: HashMap<String, String>,
    after_training_forward: Vec<f32>,
}

#[derive(Deserialize)]
struct ProccountCase {
    values: Vec<f32>,
    forward: Vec<f32>,
    euclidean: Vec<f32>,
    leaky_relu_negative_slope: f32,
    batch_size: usize,
    epoch_loss: f64,
    trained: HashMap<String, String>,
    after_training_forward: Vec<f32>,
}

fn fixture() -> Fixture {
    let text = std::fs::read_to_string(FIXTURE).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"))
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The script's `fixed_weight`: uniform in [-scale, scale) from (tensor, index).
fn fixed_weight(tensor: u64, index: u64, scale: f64) -> f32 {
    let u = (splitmix64((tensor << 32) | index) >> 11) as f64 / (1u64 << 53) as f64;
    ((2.0 * u - 1.0) * scale) as f32
}

/// Loads the script's fixed weights: embedding = tensor 0, dense i = kernel 2i+1, bias 2i+2.
fn set_fixed_weights(network: &mut Network) {
    let shapes: Vec<(String, Vec<usize>)> = network
        .tensors()
        .map(|(name, shape, _)| (name.to_owned(), shape.to_vec()))
        .collect();
    for (name, shape) in shapes {
        let (tensor, scale) = if name == "embedding.embeddings" {
            (0, 0.05)
        } else {
            let (layer, kind) = name
                .strip_prefix("dense_")
                .and_then(|rest| rest.split_once('.'))
                .expect("dense tensor name");
            let i: u64 = layer.parse().expect("layer number");
            if kind == "kernel" {
                (2 * i + 1, (6.0 / (shape[0] + shape[1]) as f64).sqrt())
            } else {
                (2 * i + 2, 0.1)
            }
        };
        let values = network.tensor_mut(&name).expect("tensor exists");
        for (index, value) in values.iter_mut().enumerate() {
            *value = fixed_weight(tensor, index as u64, scale);
        }
    }
}

fn base64_f32(text: &str) -> Vec<f32> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        let value = ALPHABET.iter().position(|&a| a == c).expect("base64 digit") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
        }
    }
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// numpy's `allclose(ours, keras, rtol, atol)`: panics naming the worst element if any
/// `|ours - keras| > atol + rtol·|keras|`. The absolute floor (1e-6, far below the values here,
/// which are 1e-4..1) covers values near zero, where float32 sums in a different order differ by
/// a few ulps of the layer's larger terms.
fn assert_allclose(ours: &[f32], keras: &[f32], rtol: f32, atol: f32, what: &str) {
    assert_eq!(ours.len(), keras.len(), "{what}: lengths differ");
    let (mut worst, mut at) = (0.0f32, 0);
    for (i, (a, b)) in ours.iter().zip(keras).enumerate() {
        let ratio = (a - b).abs() / (atol + rtol * b.abs());
        if ratio > worst {
            (worst, at) = (ratio, i);
        }
    }
    assert!(
        worst <= 1.0,
        "{what}: element {at}: ours {}, keras {} (rtol {rtol}, atol {atol})",
        ours[at],
        keras[at]
    );
}

fn cmdline_network(case: &CmdlineCase) -> Network {
    let mut network =
        Network::new(Architecture::byte_autoencoder(case.max_length), 0).expect("valid");
    set_fixed_weights(&mut network);
    network
}

fn proccount_network(case: &ProccountCase) -> Network {
    let architecture = Architecture::dense_autoencoder(
        16,
        &[8, 4, 8],
        Activation::LeakyRelu {
            alpha: case.leaky_relu_negative_slope,
        },
    );
    let mut network = Network::new(architecture, 0).expect("valid");
    set_fixed_weights(&mut network);
    network
}

#[test]
fn fixture_records_keras_defaults_we_rely_on() {
    let fixture = fixture();
    assert!(fixture.keras.starts_with('3'), "keras {}", fixture.keras);
    assert!(!fixture.tensorflow.is_empty());
    // Keras' LeakyReLU layer default, which Activation::KERAS_LEAKY_RELU encodes.
    assert_eq!(
        Activation::LeakyRelu {
            alpha: fixture.proccount.leaky_relu_negative_slope
        },
        Activation::KERAS_LEAKY_RELU
    );
}

#[test]
fn cmdline_forward_matches_keras() {
    let case = fixture().cmdline;
    let network = cmdline_network(&case);
    let ours = network.predict(Input::Bytes(&case.ids)).expect("predict");
    assert_allclose(&ours, &case.forward, 1e-5, 1e-6, "forward");
}

#[test]
fn proccount_forward_and_distances_match_keras() {
    let case = fixture().proccount;
    let network = proccount_network(&case);
    let ours = network
        .predict(Input::Values(&case.values))
        .expect("predict");
    assert_allclose(&ours, &case.forward, 1e-5, 1e-6, "forward");
    let distances = network
        .row_errors(
            Input::Values(&case.values),
            &case.values,
            RowError::Euclidean,
        )
        .expect("row errors");
    assert_allclose(&distances, &case.euclidean, 1e-5, 1e-6, "distances");
}

fn keras_like_config(batch_size: usize, loss: Loss, shards: usize) -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size,
        shuffle: false,
        loss,
        shards,
        ..TrainConfig::default()
    }
}

fn assert_trained_like_keras(network: &Network, trained: &HashMap<String, String>) {
    assert_eq!(network.tensors().count(), trained.len());
    for (name, _, ours) in network.tensors() {
        let keras = base64_f32(&trained[name]);
        assert_allclose(ours, &keras, 1e-4, 1e-6, name);
    }
}

#[test]
fn cmdline_adam_steps_match_keras() {
    let case = fixture().cmdline;
    for shards in [1, 2] {
        let mut network = cmdline_network(&case);
        let history = fit(
            &mut network,
            Input::Bytes(&case.ids),
            &case.target,
            &keras_like_config(case.batch_size, Loss::Mae, shards),
            &mut (),
        )
        .expect("fit");
        assert_trained_like_keras(&network, &case.trained);
        let loss = history.epochs[0].loss;
        assert!(
            (loss - case.epoch_loss).abs() < 1e-5 * case.epoch_loss.abs().max(1e-2),
            "shards {shards}: epoch loss {loss}, keras {}",
            case.epoch_loss
        );
        let after = network.predict(Input::Bytes(&case.ids)).expect("predict");
        assert_allclose(
            &after,
            &case.after_training_forward,
            1e-4,
            1e-6,
            "after training",
        );
    }
}

#[test]
fn proccount_adam_steps_match_keras() {
    let case = fixture().proccount;
    for shards in [1, 2] {
        let mut network = proccount_network(&case);
        let history = fit(
            &mut network,
            Input::Values(&case.values),
            &case.values,
            &keras_like_config(case.batch_size, Loss::Mse, shards),
            &mut (),
        )
        .expect("fit");
        let loss = history.epochs[0].loss;
        assert!(
            (loss - case.epoch_loss).abs() < 1e-5 * case.epoch_loss.abs().max(1e-2),
            "shards {shards}: epoch loss {loss}, keras {}",
            case.epoch_loss
        );
        assert_trained_like_keras(&network, &case.trained);
        let after = network
            .predict(Input::Values(&case.values))
            .expect("predict");
        assert_allclose(
            &after,
            &case.after_training_forward,
            1e-4,
            1e-6,
            "after training",
        );
    }
}
