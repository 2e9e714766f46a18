//! Whole-network gradient checks: `Network::gradients` against central finite differences of
//! `Network::loss`, for every parameter of small networks covering every layer kind (embedding,
//! dense with linear, tanh and leaky ReLU activations) and both losses. (Each layer and loss is
//! also checked on its own in the unit tests beside the code.)
//!
//! Finite differences are meaningless across a kink, so the inputs keep clear of them: MAE
//! targets sit at least 0.2 away from the predictions, and the leaky-ReLU network is the first
//! seed whose pre-activations all sit at least 0.02 from zero (checked with an independent
//! `f64` forward pass), far more than a 1e-3 step can move them.

use oddhunt_models::nn::{Activation, Architecture, DenseSpec, Input, InputLayer, Loss, Network};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn check(network: &mut Network, input: Input, target: &[f32], loss: Loss) {
    let (value, analytic) = network.gradients(input, target, loss).expect("gradients");
    let reference = network.loss(input, target, loss).expect("loss");
    assert!((value - reference).abs() < 1e-6 * reference.abs().max(1.0));
    let scale = analytic.iter().fold(0.0f32, |m, g| m.max(g.abs()));
    assert!(scale > 1e-3, "gradients too small to check: {scale}");
    let eps = 1e-3f32;
    for (i, &analytic) in analytic.iter().enumerate() {
        let keep = network.parameters()[i];
        network.parameters_mut()[i] = keep + eps;
        let plus = network.loss(input, target, loss).expect("loss");
        network.parameters_mut()[i] = keep - eps;
        let minus = network.loss(input, target, loss).expect("loss");
        network.parameters_mut()[i] = keep;
        let numeric = (plus - minus) / (2.0 * f64::from(eps));
        let error = (f64::from(analytic) - numeric).abs();
        assert!(
            error <= 2e-3 * f64::from(scale) + 1e-2 * numeric.abs(),
            "{loss:?} parameter {i}: analytic {analytic}, numeric {numeric} (largest gradient {scale})"
        );
    }
}

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// Targets at least 0.2 from the predictions (either side), so no MAE residual crosses zero.
fn targets_away_from(predicted: &[f32], rng: &mut ChaCha8Rng) -> Vec<f32> {
    predicted
        .iter()
        .map(|p| {
            let offset = rng.random_range(0.2f32..0.5);
            if rng.random_bool(0.5) {
                p + offset
            } else {
                p - offset
            }
        })
        .collect()
}

/// Pre-activations of every dense layer for a values network, in f64 (independent of the
/// crate's forward pass).
fn preactivations(network: &Network, values: &[f32]) -> Vec<f64> {
    let tensors: Vec<(Vec<usize>, Vec<f32>)> = network
        .tensors()
        .map(|(_, shape, v)| (shape.to_vec(), v.to_vec()))
        .collect();
    let width = network.architecture().input_width();
    let mut all = Vec::new();
    for row in values.chunks(width) {
        let mut x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
        for (layer, spec) in tensors.chunks(2).zip(&network.architecture().dense) {
            let (shape, kernel) = &layer[0];
            let bias = &layer[1].1;
            let z: Vec<f64> = (0..shape[1])
                .map(|j| {
                    f64::from(bias[j])
                        + (0..shape[0])
                            .map(|i| x[i] * f64::from(kernel[i * shape[1] + j]))
                            .sum::<f64>()
                })
                .collect();
            all.extend(&z);
            x = match spec.activation {
                Activation::LeakyRelu { alpha } => z
                    .iter()
                    .map(|&v| if v > 0.0 { v } else { f64::from(alpha) * v })
                    .collect(),
                Activation::Tanh => z.iter().map(|v| v.tanh()).collect(),
                Activation::Linear => z,
            };
        }
        // The last layer's activations are the output: compare with the crate's forward pass.
        let ours = network.predict(Input::Values(row)).expect("predict");
        for (a, b) in ours.iter().zip(&x) {
            assert!((f64::from(*a) - b).abs() < 1e-5, "forward {a} vs f64 {b}");
        }
    }
    all
}

#[test]
fn embedding_tanh_network_gradients_match_finite_differences() {
    let architecture = Architecture {
        input: InputLayer::Embedding {
            positions: 3,
            vocab: 5,
            dim: 2,
        },
        dense: vec![
            DenseSpec {
                units: 4,
                activation: Activation::Tanh,
            },
            DenseSpec {
                units: 3,
                activation: Activation::Linear,
            },
            DenseSpec {
                units: 3,
                activation: Activation::Tanh,
            },
        ],
    };
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    // Repeated ids across rows and positions, so embedding gradients accumulate.
    let ids: Vec<u8> = (0..4 * 3).map(|i| (i * 3 % 5) as u8).collect();
    for loss in [Loss::Mae, Loss::Mse] {
        let mut network = Network::new(architecture.clone(), 5).expect("valid");
        // Larger weights than the initialisers' so every layer's gradient stands well above
        // float32 rounding noise.
        network.parameters_mut().iter_mut().for_each(|w| *w *= 2.0);
        let predicted = network.predict(Input::Bytes(&ids)).expect("predict");
        let target = targets_away_from(&predicted, &mut rng);
        check(&mut network, Input::Bytes(&ids), &target, loss);
    }
}

#[test]
fn leaky_relu_network_gradients_match_finite_differences() {
    let architecture = Architecture::dense_autoencoder(5, &[4, 3], Activation::KERAS_LEAKY_RELU);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let values = random(&mut rng, 3 * 5);
    let mut network = (0..200)
        .map(|seed| {
            let mut network = Network::new(architecture.clone(), seed).expect("valid");
            // Non-zero biases (Keras starts them at zero), so the bias path is exercised.
            for (i, w) in network.parameters_mut().iter_mut().enumerate() {
                *w += 0.1 * ((i * 7 % 11) as f32 - 5.0) / 5.0;
            }
            network
        })
        .find(|network| {
            preactivations(network, &values)
                .iter()
                .all(|z| z.abs() > 0.02)
        })
        .expect("a seed with pre-activations clear of the kink");
    // Both signs occur, so both slopes of the leaky ReLU are exercised.
    let z = preactivations(&network, &values);
    assert!(z.iter().any(|&v| v < 0.0) && z.iter().any(|&v| v > 0.0));
    let predicted = network.predict(Input::Values(&values)).expect("predict");
    check(&mut network, Input::Values(&values), &values, Loss::Mse);
    let target = targets_away_from(&predicted, &mut rng);
    check(&mut network, Input::Values(&values), &target, Loss::Mae);
}
