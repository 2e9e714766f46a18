//! Training behaviour: learning, anomaly ranking, determinism across thread counts, validation
//! split, early stopping, progress hooks, persistence, on-the-fly scaled-id targets and input
//! errors.

use oddhunt_models::nn::{
    fit, Activation, Architecture, BatchProgress, EarlyStopping, EpochReport, Input, Loss, Network,
    NnError, RowError, Target, TrainConfig, TrainObserver,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Windows of 16 hashed counts drawn from three "normal" profiles plus noise.
fn normal_windows(rows: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let profiles: [[f32; 16]; 3] = [
        [
            1., 0., 0.5, 0., 0., 1., 0., 0., 0.2, 0., 0., 0., 0.7, 0., 0., 0.,
        ],
        [
            0., 0.8, 0., 0., 0.6, 0., 0., 0.3, 0., 0., 1., 0., 0., 0., 0.4, 0.,
        ],
        [
            0.3, 0., 0., 0.9, 0., 0., 0.5, 0., 0., 0.6, 0., 0.2, 0., 0.8, 0., 0.,
        ],
    ];
    let mut out = Vec::with_capacity(rows * 16);
    for _ in 0..rows {
        let profile = &profiles[rng.random_range(0..3)];
        let scale = rng.random_range(0.8f32..1.2);
        out.extend(
            profile
                .iter()
                .map(|v| v * scale + rng.random_range(-0.02f32..0.02)),
        );
    }
    out
}

fn proccount() -> Architecture {
    Architecture::dense_autoencoder(16, &[8, 4, 8], Activation::KERAS_LEAKY_RELU)
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 32,
        loss: Loss::Mse,
        learning_rate: 0.01,
        ..TrainConfig::default()
    }
}

#[test]
fn dense_autoencoder_learns_and_ranks_an_odd_window_first() {
    let windows = normal_windows(2000, 1);
    let mut network = Network::new(proccount(), 7).expect("valid");
    let history = fit(
        &mut network,
        Input::Values(&windows),
        &windows,
        &config(15),
        &mut (),
    )
    .expect("fit");
    let first = history.epochs[0].loss;
    let last = history.epochs.last().expect("epochs").loss;
    assert!(last < first * 0.5, "loss {first} -> {last}");

    let mut test = normal_windows(200, 2);
    // One window unlike any profile.
    let odd = [
        0., 0., 0., 0., 0., 0., 0., 1., 0., 1., 0., 1., 0., 0., 0., 1.,
    ];
    test.extend_from_slice(&odd);
    let scores = network
        .row_errors(Input::Values(&test), &test, RowError::Euclidean)
        .expect("scores");
    let odd_score = scores[200];
    let max_normal = scores[..200].iter().cloned().fold(0.0f32, f32::max);
    assert!(
        odd_score > max_normal,
        "odd {odd_score}, normal max {max_normal}"
    );
}

#[test]
fn byte_autoencoder_scores_an_unusual_command_line_higher() {
    let max_length = 24;
    let pad = |s: &str| {
        let mut bytes = s.as_bytes().to_vec();
        bytes.resize(max_length, 0);
        bytes
    };
    let usual = [
        "svchost.exe -k netsvcs",
        "svchost.exe -k LocalService",
        "conhost.exe 0xffffffff",
        "taskhostw.exe",
    ];
    let mut ids = Vec::new();
    for i in 0..400 {
        ids.extend(pad(usual[i % usual.len()]));
    }
    // Target: the min-max-scaled byte vector, as the cmdline detector trains it.
    let target: Vec<f32> = ids.iter().map(|&b| f32::from(b) / 255.0).collect();
    let mut network = Network::new(Architecture::byte_autoencoder(max_length), 3).expect("valid");
    let train = TrainConfig {
        epochs: 8,
        batch_size: 32,
        loss: Loss::Mae,
        learning_rate: 0.003,
        ..TrainConfig::default()
    };
    let history = fit(&mut network, Input::Bytes(&ids), &target, &train, &mut ()).expect("fit");
    assert!(history.epochs.last().expect("epochs").loss < history.epochs[0].loss);

    let mut probe = Vec::new();
    for s in usual.iter().chain(&["powershell -enc SQBFAFgA"]) {
        probe.extend(pad(s));
    }
    let probe_target: Vec<f32> = probe.iter().map(|&b| f32::from(b) / 255.0).collect();
    let scores = network
        .row_errors(Input::Bytes(&probe), &probe_target, RowError::Mae)
        .expect("scores");
    let odd = scores[usual.len()];
    assert!(
        scores[..usual.len()].iter().all(|&s| s < odd),
        "scores {scores:?}"
    );
}

fn train_in_pool(threads: usize, shards: usize) -> Vec<f32> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    pool.install(|| {
        let windows = normal_windows(500, 4);
        let mut network = Network::new(proccount(), 11).expect("valid");
        let config = TrainConfig {
            shards,
            ..config(3)
        };
        fit(
            &mut network,
            Input::Values(&windows),
            &windows,
            &config,
            &mut (),
        )
        .expect("fit");
        network.parameters().to_vec()
    })
}

#[test]
fn training_is_deterministic_for_a_seed_whatever_the_thread_count() {
    for shards in [1, 2, 3] {
        let one = train_in_pool(1, shards);
        assert_eq!(one, train_in_pool(1, shards), "repeat, shards {shards}");
        assert_eq!(one, train_in_pool(2, shards), "threads, shards {shards}");
    }
    // Different seeds give different models.
    let windows = normal_windows(500, 4);
    let mut other = Network::new(proccount(), 12).expect("valid");
    fit(
        &mut other,
        Input::Values(&windows),
        &windows,
        &config(3),
        &mut (),
    )
    .expect("fit");
    assert_ne!(other.parameters(), train_in_pool(1, 2).as_slice());
}

#[test]
fn predict_is_identical_in_one_and_two_threads() {
    let windows = normal_windows(5000, 5);
    let network = Network::new(proccount(), 1).expect("valid");
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| network.predict(Input::Values(&windows)).expect("predict"))
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn validation_split_takes_the_last_rows_and_reports_val_loss() {
    let windows = normal_windows(1000, 6);
    let mut network = Network::new(proccount(), 2).expect("valid");
    let config = TrainConfig {
        validation_split: 0.2,
        ..config(2)
    };
    let history = fit(
        &mut network,
        Input::Values(&windows),
        &windows,
        &config,
        &mut (),
    )
    .expect("fit");
    let val_loss = history.epochs[1].val_loss.expect("val_loss");
    // Keras: the last 20 % of rows (800..1000), evaluated with the weights after the epoch.
    let expected = network
        .loss(
            Input::Values(&windows[800 * 16..]),
            &windows[800 * 16..],
            Loss::Mse,
        )
        .expect("loss");
    assert!(
        (val_loss - expected).abs() < 1e-9,
        "{val_loss} vs {expected}"
    );
    assert!(history.epochs.iter().all(|e| e.seconds >= 0.0));
}

#[test]
fn early_stopping_stops_after_patience_and_restores_the_best_weights() {
    let windows = normal_windows(600, 7);
    let stopping = EarlyStopping {
        patience: 2,
        // No later epoch can beat the first by this much: epoch 1 stays the best.
        min_delta: 10.0,
        restore_best_weights: true,
    };
    let mut network = Network::new(proccount(), 9).expect("valid");
    let config = TrainConfig {
        validation_split: 0.25,
        early_stopping: Some(stopping),
        ..config(20)
    };
    let history = fit(
        &mut network,
        Input::Values(&windows),
        &windows,
        &config,
        &mut (),
    )
    .expect("fit");
    // Keras: wait reaches patience at epoch 3 (wait counts epochs 2 and 3).
    assert_eq!(history.epochs.len(), 3);
    assert!(history.stopped_early);
    assert_eq!(history.best_epoch, Some(1));
    assert!(history.restored_best_weights);
    let mut one_epoch = Network::new(proccount(), 9).expect("valid");
    let config = TrainConfig {
        epochs: 1,
        early_stopping: None,
        ..config
    };
    fit(
        &mut one_epoch,
        Input::Values(&windows),
        &windows,
        &config,
        &mut (),
    )
    .expect("fit");
    assert_eq!(network.parameters(), one_epoch.parameters());
}

#[test]
fn early_stopping_without_improvement_limit_runs_all_epochs() {
    let windows = normal_windows(600, 8);
    let mut network = Network::new(proccount(), 9).expect("valid");
    let config = TrainConfig {
        early_stopping: Some(EarlyStopping {
            patience: 50,
            min_delta: 0.0,
            restore_best_weights: false,
        }),
        ..config(4)
    };
    let history = fit(
        &mut network,
        Input::Values(&windows),
        &windows,
        &config,
        &mut (),
    )
    .expect("fit");
    assert_eq!(history.epochs.len(), 4);
    assert!(!history.stopped_early);
    assert!(!history.restored_best_weights);
    assert!(history.best_epoch.is_some());
}

#[derive(Default)]
struct Recorder {
    batches: Vec<BatchProgress>,
    epochs: Vec<EpochReport>,
}

impl TrainObserver for Recorder {
    fn on_batch(&mut self, progress: &BatchProgress) {
        self.batches.push(*progress);
    }
    fn on_epoch(&mut self, report: &EpochReport) {
        self.epochs.push(*report);
    }
}

#[test]
fn observers_hear_every_batch_and_epoch() {
    let windows = normal_windows(100, 9);
    let mut network = Network::new(proccount(), 9).expect("valid");
    let mut recorder = Recorder::default();
    let history = fit(
        &mut network,
        Input::Values(&windows),
        &windows,
        &config(2),
        &mut recorder,
    )
    .expect("fit");
    // 100 rows in batches of 32: 4 batches per epoch, the last one of 4 rows.
    assert_eq!(recorder.batches.len(), 8);
    assert_eq!(recorder.batches[3].batches, 4);
    assert_eq!(recorder.batches[3].batch, 4);
    assert_eq!(recorder.batches[7].epoch, 2);
    assert!((recorder.batches[3].loss - recorder.epochs[0].loss).abs() < 1e-12);
    assert_eq!(recorder.epochs, history.epochs);

    // A plain closure hears epochs.
    let mut seen = 0;
    fit(
        &mut network,
        Input::Values(&windows),
        &windows,
        &config(3),
        &mut |report: &EpochReport| {
            seen += 1;
            assert_eq!(report.epoch, seen);
        },
    )
    .expect("fit");
    assert_eq!(seen, 3);
}

#[test]
fn weights_round_trip_through_safetensors() {
    let architecture = Architecture::byte_autoencoder(12);
    let network = Network::new(architecture.clone(), 4).expect("valid");
    let bytes = network.to_safetensors().expect("serialise");
    let loaded = Network::from_safetensors(&bytes, &architecture).expect("load");
    assert_eq!(loaded.parameters(), network.parameters());
    let names: Vec<&str> = loaded.tensors().map(|(name, _, _)| name).collect();
    assert_eq!(
        names[..3],
        ["embedding.embeddings", "dense_0.kernel", "dense_0.bias"]
    );
    let ids: Vec<u8> = (0..36).map(|i| (i * 37 % 256) as u8).collect();
    assert_eq!(
        loaded.predict(Input::Bytes(&ids)).expect("predict"),
        network.predict(Input::Bytes(&ids)).expect("predict")
    );
    // The architecture description itself is serde-able (it goes in the model manifest).
    let json = serde_json::to_string(&architecture).expect("json");
    let back: Architecture = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, architecture);
}

#[test]
fn bad_weight_blobs_are_refused_not_panicked_on() {
    let architecture = proccount();
    let network = Network::new(architecture.clone(), 4).expect("valid");
    let bytes = network.to_safetensors().expect("serialise");
    let refused = |blob: &[u8], arch: &Architecture| match Network::from_safetensors(blob, arch) {
        Err(NnError::Weights(message)) => message,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("accepted a bad blob"),
    };
    assert!(refused(b"", &architecture).contains("not a safetensors"));
    assert!(refused(b"not safetensors at all", &architecture).contains("not a safetensors"));
    for cut in [8, bytes.len() / 2, bytes.len() - 1] {
        refused(&bytes[..cut], &architecture);
    }
    // Another architecture: refused through the stored metadata.
    let other = Architecture::dense_autoencoder(16, &[8, 2, 8], Activation::KERAS_LEAKY_RELU);
    assert!(refused(&bytes, &other).contains("another architecture"));

    // Without metadata, tensor checks still catch a mismatch.
    let strip = |net: &Network| {
        let data: Vec<(String, Vec<usize>, Vec<u8>)> = net
            .tensors()
            .map(|(n, s, v)| {
                (
                    n.to_owned(),
                    s.to_vec(),
                    v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                )
            })
            .collect();
        let views: Vec<(String, safetensors::tensor::TensorView)> = data
            .iter()
            .map(|(n, s, d)| {
                let view = safetensors::tensor::TensorView::new(
                    safetensors::tensor::Dtype::F32,
                    s.clone(),
                    d,
                )
                .expect("view");
                (n.clone(), view)
            })
            .collect();
        safetensors::serialize(views, None).expect("serialise")
    };
    let bare = strip(&network);
    assert_eq!(
        Network::from_safetensors(&bare, &architecture)
            .expect("loads without metadata")
            .parameters(),
        network.parameters()
    );
    assert!(refused(&bare, &other).contains("shape"));
    let wider = Network::new(
        Architecture::dense_autoencoder(16, &[8, 4, 8, 4], Activation::KERAS_LEAKY_RELU),
        1,
    )
    .expect("valid");
    assert!(refused(&strip(&wider), &architecture).contains("unexpected tensor"));

    // A NaN weight is corruption.
    let mut poisoned = network.clone();
    poisoned.tensor_mut("dense_1.bias").expect("tensor")[0] = f32::NAN;
    assert!(refused(&strip(&poisoned), &architecture).contains("NaN"));
}

#[test]
fn bad_inputs_and_settings_are_errors_naming_the_problem() {
    let values_net = Network::new(proccount(), 1).expect("valid");
    let bytes_net = Network::new(Architecture::byte_autoencoder(4), 1).expect("valid");
    assert_eq!(
        values_net.predict(Input::Values(&[0.0; 17])),
        Err(NnError::RaggedInput { len: 17, width: 16 })
    );
    assert!(matches!(
        values_net.predict(Input::Bytes(&[0; 16])),
        Err(NnError::InputKind { .. })
    ));
    let mut nan = vec![0.0f32; 32];
    nan[20] = f32::NAN;
    assert!(matches!(
        values_net.predict(Input::Values(&nan)),
        Err(NnError::NonFinite {
            what: "input",
            row: 1,
            column: 4,
            ..
        })
    ));
    assert!(matches!(
        bytes_net.predict(Input::Ids(&[1, 2, 3, 300])),
        Err(NnError::IdOutOfRange {
            row: 0,
            position: 3,
            id: 300,
            vocab: 256
        })
    ));
    assert_eq!(
        bytes_net.row_errors(Input::Bytes(&[1, 2, 3, 4]), &[0.0; 3], RowError::Mae),
        Err(NnError::TargetShape {
            len: 3,
            rows: 1,
            width: 4
        })
    );
    assert_eq!(
        values_net.predict(Input::Values(&[])).expect("empty"),
        Vec::<f32>::new()
    );

    let windows = normal_windows(10, 1);
    let mut network = values_net.clone();
    for bad in [
        TrainConfig {
            batch_size: 0,
            ..config(1)
        },
        TrainConfig {
            epochs: 0,
            ..config(1)
        },
        TrainConfig {
            validation_split: 1.0,
            ..config(1)
        },
        TrainConfig {
            validation_split: 1e-17,
            ..config(1)
        },
        TrainConfig {
            learning_rate: f32::NAN,
            ..config(1)
        },
        TrainConfig {
            shards: 0,
            ..config(1)
        },
    ] {
        assert!(
            matches!(
                fit(
                    &mut network,
                    Input::Values(&windows),
                    &windows,
                    &bad,
                    &mut ()
                ),
                Err(NnError::Config(_))
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        network.parameters(),
        values_net.parameters(),
        "a refused fit changes nothing"
    );
    assert!(matches!(
        fit(&mut network, Input::Values(&[]), &[], &config(1), &mut ()),
        Err(NnError::Config(_))
    ));

    for bad in [
        Architecture::dense_autoencoder(0, &[4], Activation::Tanh),
        Architecture::dense_autoencoder(4, &[0], Activation::Tanh),
        Architecture::dense_autoencoder(4, &[2], Activation::LeakyRelu { alpha: -0.1 }),
        Architecture::dense_autoencoder(usize::MAX / 2, &[usize::MAX / 2], Activation::Tanh),
        Architecture {
            input: oddhunt_models::nn::InputLayer::Values { width: 3 },
            dense: vec![],
        },
    ] {
        assert!(matches!(
            Network::new(bad, 0),
            Err(NnError::Architecture(_))
        ));
    }
}

#[test]
fn scaled_id_targets_equal_materialised_targets() {
    // Per-position min-max scaling of byte ids, as sklearn's MinMaxScaler over columns: the
    // on-the-fly target must train and score exactly like the stored one.
    let max_length = 10;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut ids: Vec<u8> = (0..300 * max_length)
        .map(|_| rng.random_range(32u8..120))
        .collect();
    // A constant column (all padding): sklearn's scale is 1 there, so its target is 0.
    for row in ids.chunks_mut(max_length) {
        row[max_length - 1] = 0;
    }
    let mut offset = vec![f32::MAX; max_length];
    let mut top = vec![f32::MIN; max_length];
    for row in ids.chunks(max_length) {
        for (p, &b) in row.iter().enumerate() {
            offset[p] = offset[p].min(f32::from(b));
            top[p] = top[p].max(f32::from(b));
        }
    }
    let scale: Vec<f32> = offset
        .iter()
        .zip(&top)
        .map(|(lo, hi)| if hi > lo { 1.0 / (hi - lo) } else { 1.0 })
        .collect();
    let stored: Vec<f32> = ids
        .chunks(max_length)
        .flat_map(|row| {
            row.iter()
                .enumerate()
                .map(|(p, &b)| (f32::from(b) - offset[p]) * scale[p])
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(stored.iter().all(|v| (0.0..=1.0).contains(v)));
    let scaled = Target::ScaledIds {
        offset: &offset,
        scale: &scale,
    };
    let architecture = Architecture::byte_autoencoder(max_length);
    let train = TrainConfig {
        epochs: 2,
        batch_size: 64,
        loss: Loss::Mae,
        validation_split: 0.2,
        ..TrainConfig::default()
    };
    let mut a = Network::new(architecture.clone(), 5).expect("valid");
    let mut b = Network::new(architecture, 5).expect("valid");
    let ha = fit(&mut a, Input::Bytes(&ids), &stored, &train, &mut ()).expect("fit");
    let hb = fit(&mut b, Input::Bytes(&ids), scaled, &train, &mut ()).expect("fit");
    assert_eq!(a.parameters(), b.parameters());
    assert_eq!(ha.epochs[1].val_loss, hb.epochs[1].val_loss);
    assert_eq!(
        a.row_errors(Input::Bytes(&ids), &stored, RowError::Mae)
            .expect("scores"),
        b.row_errors(Input::Bytes(&ids), scaled, RowError::Mae)
            .expect("scores")
    );
    let wide: Vec<u32> = ids.iter().map(|&b| u32::from(b)).collect();
    assert_eq!(
        a.loss(Input::Ids(&wide), scaled, Loss::Mae).expect("loss"),
        a.loss(Input::Bytes(&ids), &stored, Loss::Mae)
            .expect("loss")
    );

    // Mismatches are errors.
    let values = Network::new(proccount(), 1).expect("valid");
    let sixteen = vec![0.0f32; 16];
    let for_values = Target::ScaledIds {
        offset: &sixteen,
        scale: &sixteen,
    };
    assert!(matches!(
        values.row_errors(Input::Values(&sixteen), for_values, RowError::Mae),
        Err(NnError::Target(_))
    ));
    let short = Target::ScaledIds {
        offset: &offset[..3],
        scale: &scale[..3],
    };
    assert!(matches!(
        a.row_errors(Input::Bytes(&ids), short, RowError::Mae),
        Err(NnError::Target(_))
    ));
    let mut bad_scale = scale.clone();
    bad_scale[2] = f32::INFINITY;
    let infinite = Target::ScaledIds {
        offset: &offset,
        scale: &bad_scale,
    };
    assert!(matches!(
        a.loss(Input::Bytes(&ids), infinite, Loss::Mae),
        Err(NnError::Target(_))
    ));
}
