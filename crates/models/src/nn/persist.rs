//! Saving and loading a network's weights as safetensors.
//!
//! The weights are one safetensors blob (little-endian `f32` tensors named as
//! [`Network::tensors`]: `embedding.embeddings`, `dense_0.kernel`, `dense_0.bias`, ...) that a
//! detector stores as a `safetensors` section of its oddhunt model file, next to the
//! [`Architecture`] in the manifest. The blob also carries the architecture as JSON metadata
//! (`oddhunt.architecture`), so a blob handed to the wrong architecture is refused. Loading
//! checks every name, dtype, shape and value (finite) and never panics on a bad blob.

use super::network::{Architecture, Network};
use super::NnError;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;

/// Metadata key holding the architecture JSON.
const ARCHITECTURE_KEY: &str = "oddhunt.architecture";

impl Network {
    /// The weights as a safetensors blob, with the architecture in its metadata.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, NnError> {
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .tensors()
            .map(|(name, shape, values)| {
                let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                (name.to_owned(), shape.to_vec(), data)
            })
            .collect();
        let mut views = Vec::with_capacity(bytes.len());
        for (name, shape, data) in &bytes {
            let view = TensorView::new(Dtype::F32, shape.clone(), data)
                .map_err(|e| NnError::Weights(format!("tensor {name}: {e}")))?;
            views.push((name.clone(), view));
        }
        let architecture = serde_json::to_string(&self.architecture)
            .map_err(|e| NnError::Weights(format!("architecture: {e}")))?;
        let metadata = HashMap::from([(ARCHITECTURE_KEY.to_owned(), architecture)]);
        safetensors::serialize(views, Some(metadata)).map_err(|e| NnError::Weights(e.to_string()))
    }

    /// Loads weights written by [`Network::to_safetensors`] for `architecture`. Refuses a blob
    /// that is not safetensors, was written for another architecture, lacks or adds tensors,
    /// has a wrong dtype or shape, or holds non-finite values.
    pub fn from_safetensors(bytes: &[u8], architecture: &Architecture) -> Result<Self, NnError> {
        let mut network = Network::zeroed(architecture.clone())?;
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| NnError::Weights(format!("not a safetensors blob: {e}")))?;
        let (_, metadata) = SafeTensors::read_metadata(bytes)
            .map_err(|e| NnError::Weights(format!("not a safetensors blob: {e}")))?;
        if let Some(stored) = metadata
            .metadata()
            .as_ref()
            .and_then(|m| m.get(ARCHITECTURE_KEY))
        {
            let stored: Architecture = serde_json::from_str(stored).map_err(|e| {
                NnError::Weights(format!("metadata {ARCHITECTURE_KEY} does not parse: {e}"))
            })?;
            if &stored != architecture {
                return Err(NnError::Weights(format!(
                    "weights were saved for another architecture ({stored:?}), expected {architecture:?}"
                )));
            }
        }
        let expected: Vec<&str> = network
            .layout
            .tensors
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        if let Some(extra) = file
            .names()
            .into_iter()
            .find(|name| !expected.contains(name))
        {
            return Err(NnError::Weights(format!("unexpected tensor {extra}")));
        }
        for slot in network.layout.tensors.clone() {
            let view = file
                .tensor(&slot.name)
                .map_err(|_| NnError::Weights(format!("missing tensor {}", slot.name)))?;
            if view.dtype() != Dtype::F32 {
                return Err(NnError::Weights(format!(
                    "tensor {} is {:?}, expected F32",
                    slot.name,
                    view.dtype()
                )));
            }
            if view.shape() != slot.shape.as_slice() {
                return Err(NnError::Weights(format!(
                    "tensor {} has shape {:?}, expected {:?}",
                    slot.name,
                    view.shape(),
                    slot.shape
                )));
            }
            let target = &mut network.parameters[slot.range.clone()];
            let data = view.data();
            if data.len() != target.len() * 4 {
                return Err(NnError::Weights(format!(
                    "tensor {} has {} bytes, expected {}",
                    slot.name,
                    data.len(),
                    target.len() * 4
                )));
            }
            for (i, (value, chunk)) in target.iter_mut().zip(data.chunks_exact(4)).enumerate() {
                let v = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                if !v.is_finite() {
                    return Err(NnError::Weights(format!(
                        "tensor {} value {i} is {v}",
                        slot.name
                    )));
                }
                *value = v;
            }
        }
        Ok(network)
    }
}
