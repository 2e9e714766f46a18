//! The model file (`.oddhunt`): one self-describing, versioned container per trained model.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `ODDHUNT\x1a` |
//! | 4 | container format version (u32) |
//! | 8 + n | manifest length (u64), manifest: UTF-8 JSON ([`Manifest`]) |
//! | 8 + m | payload length (u64), payload: the sections, back to back |
//! | 32 | SHA-256 of everything before it |
//!
//! The manifest says which detector and settings produced the model, the oddhunt version, a
//! training summary (events, subjects, time range, sources), the training score distribution for
//! thresholds, and where each payload section lies and how it is encoded (`json+zstd` for
//! counts and tables, `safetensors` for network weights, `raw`). Loading parses data only —
//! nothing in a model file is executed — and refuses a file that is not a model, a newer format,
//! a truncated or corrupted file, each with its own message. Writing goes to a temporary file in
//! the same folder and is renamed into place, so a crash never leaves half a model.

use crate::threshold::ScoreDistribution;
use crate::time::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// First bytes of every model file.
pub const MAGIC: &[u8; 8] = b"ODDHUNT\x1a";
/// The container version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Model-file errors.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    /// I/O failure.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a model file at all.
    #[error(
        "{path}: not an oddhunt model file (no ODDHUNT header); train one with `oddhunt train`"
    )]
    NotAModel {
        /// The file.
        path: String,
    },
    /// Written by a newer oddhunt.
    #[error("{path}: model file format v{found} is newer than this oddhunt reads (v{supported}); upgrade oddhunt or retrain the model")]
    Newer {
        /// The file.
        path: String,
        /// Its version.
        found: u32,
        /// Ours.
        supported: u32,
    },
    /// Shorter than its header says.
    #[error("{path}: model file is truncated ({what})")]
    Truncated {
        /// The file.
        path: String,
        /// Which part is missing.
        what: &'static str,
    },
    /// Checksum mismatch.
    #[error("{path}: model file is corrupted (checksum mismatch); retrain it or restore a copy")]
    Corrupted {
        /// The file.
        path: String,
    },
    /// The manifest or a section does not parse, or a section is missing.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// What training saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Events read by the detector.
    pub events: u64,
    /// Subjects (names, sessions, domains, windows, ...) in the model.
    pub subjects: u64,
    /// Earliest event time.
    pub first_seen: Option<Timestamp>,
    /// Latest event time.
    pub last_seen: Option<Timestamp>,
    /// Input sources (file names or queries), at most a few dozen kept.
    pub sources: Vec<String>,
    /// Records skipped while reading the training input.
    pub skipped_records: u64,
    /// Wall-clock seconds spent fitting.
    pub fit_seconds: f64,
}

/// Where a payload section lies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Section name, e.g. `counts`, `weights`.
    pub name: String,
    /// Encoding: `json+zstd`, `safetensors` or `raw`.
    pub encoding: String,
    /// Offset in the payload.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
}

/// The manifest: everything about the model except its bulk data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Container version.
    pub format_version: u32,
    /// The oddhunt version that wrote it.
    pub oddhunt_version: String,
    /// Detector name.
    pub detector: String,
    /// The detector's settings (flags as given and defaults).
    pub settings: serde_json::Value,
    /// When it was written.
    pub created: Option<Timestamp>,
    /// Training summary.
    pub training: TrainingSummary,
    /// Training score distribution, for `--threshold-basis train`.
    pub score_distribution: Option<ScoreDistribution>,
    /// Payload sections.
    pub sections: Vec<Section>,
}

/// A model file in memory.
#[derive(Clone, Debug)]
pub struct ModelFile {
    /// The manifest.
    pub manifest: Manifest,
    payload: Vec<u8>,
    origin: String,
}

impl ModelFile {
    /// A new, empty model file for `detector`.
    pub fn new(detector: &str, settings: serde_json::Value) -> Self {
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .map(Timestamp::from_unix_nanos);
        ModelFile {
            manifest: Manifest {
                format_version: FORMAT_VERSION,
                oddhunt_version: env!("CARGO_PKG_VERSION").to_string(),
                detector: detector.to_string(),
                settings,
                created,
                training: TrainingSummary::default(),
                score_distribution: None,
                sections: Vec::new(),
            },
            payload: Vec::new(),
            origin: "<memory>".into(),
        }
    }

    fn invalid(&self, message: String) -> ModelFileError {
        ModelFileError::Invalid {
            path: self.origin.clone(),
            message,
        }
    }

    /// Adds a section of raw bytes with the given encoding label.
    pub fn put_bytes(&mut self, name: &str, encoding: &str, bytes: &[u8]) {
        self.manifest.sections.retain(|s| s.name != name);
        self.manifest.sections.push(Section {
            name: name.to_string(),
            encoding: encoding.to_string(),
            offset: self.payload.len() as u64,
            length: bytes.len() as u64,
        });
        self.payload.extend_from_slice(bytes);
    }

    /// Adds a section holding `value` as zstd-compressed JSON.
    pub fn put_json<T: Serialize>(&mut self, name: &str, value: &T) -> Result<(), ModelFileError> {
        let json = serde_json::to_vec(value)
            .map_err(|e| self.invalid(format!("cannot encode section {name}: {e}")))?;
        let packed = zstd::bulk::compress(&json, 9)
            .map_err(|e| self.invalid(format!("cannot compress section {name}: {e}")))?;
        self.put_bytes(name, "json+zstd", &packed);
        Ok(())
    }

    /// The bytes and encoding of a section.
    pub fn get_bytes(&self, name: &str) -> Result<(&[u8], &str), ModelFileError> {
        let section = self
            .manifest
            .sections
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| {
                self.invalid(format!(
                    "model of detector {} has no section {name:?}",
                    self.manifest.detector
                ))
            })?;
        let start = usize::try_from(section.offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(section.length).unwrap_or(usize::MAX));
        let bytes = self
            .payload
            .get(start..end)
            .ok_or_else(|| self.invalid(format!("section {name:?} lies outside the payload")))?;
        Ok((bytes, &section.encoding))
    }

    /// Reads a `json+zstd` section.
    pub fn get_json<T: DeserializeOwned>(&self, name: &str) -> Result<T, ModelFileError> {
        let (bytes, encoding) = self.get_bytes(name)?;
        if encoding != "json+zstd" {
            return Err(self.invalid(format!(
                "section {name:?} is {encoding}, expected json+zstd"
            )));
        }
        // Bound decompression so a hostile file cannot expand into all memory.
        const MAX_SECTION: u64 = 4 << 30;
        let mut json = Vec::new();
        zstd::stream::Decoder::new(bytes)
            .and_then(|d| std::io::Read::take(d, MAX_SECTION + 1).read_to_end(&mut json))
            .map_err(|e| self.invalid(format!("section {name:?} does not decompress: {e}")))?;
        if json.len() as u64 > MAX_SECTION {
            return Err(self.invalid(format!("section {name:?} expands beyond 4 GiB")));
        }
        serde_json::from_slice(&json)
            .map_err(|e| self.invalid(format!("section {name:?} does not parse: {e}")))
    }

    /// Encodes the container.
    pub fn to_bytes(&self) -> Vec<u8> {
        let manifest = serde_json::to_vec_pretty(&self.manifest).unwrap_or_default();
        let mut out = Vec::with_capacity(manifest.len() + self.payload.len() + 64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(manifest.len() as u64).to_le_bytes());
        out.extend_from_slice(&manifest);
        out.extend_from_slice(&(self.payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.payload);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Decodes a container; `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self, ModelFileError> {
        let path = origin.to_string();
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(ModelFileError::NotAModel { path });
        }
        let truncated = |what| ModelFileError::Truncated {
            path: origin.to_string(),
            what,
        };
        let mut pos = MAGIC.len();
        let version = u32::from_le_bytes(
            bytes
                .get(pos..pos + 4)
                .ok_or_else(|| truncated("no version"))?
                .try_into()
                .map_err(|_| truncated("no version"))?,
        );
        pos += 4;
        if version > FORMAT_VERSION {
            return Err(ModelFileError::Newer {
                path,
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if version == 0 {
            return Err(ModelFileError::Invalid {
                path,
                message: "format version 0 does not exist".into(),
            });
        }
        let read_len = |pos: usize, what| -> Result<usize, ModelFileError> {
            let raw = bytes.get(pos..pos + 8).ok_or_else(|| truncated(what))?;
            let n = u64::from_le_bytes(raw.try_into().map_err(|_| truncated(what))?);
            usize::try_from(n).map_err(|_| truncated(what))
        };
        let manifest_len = read_len(pos, "no manifest length")?;
        pos += 8;
        let manifest_end = pos
            .checked_add(manifest_len)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| truncated("manifest cut short"))?;
        let manifest_bytes = &bytes[pos..manifest_end];
        pos = manifest_end;
        let payload_len = read_len(pos, "no payload length")?;
        pos += 8;
        let payload_end = pos
            .checked_add(payload_len)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| truncated("payload cut short"))?;
        let payload = &bytes[pos..payload_end];
        let checksum = bytes
            .get(payload_end..payload_end + 32)
            .ok_or_else(|| truncated("checksum missing"))?;
        if Sha256::digest(&bytes[..payload_end]).as_slice() != checksum {
            return Err(ModelFileError::Corrupted { path });
        }
        if bytes.len() > payload_end + 32 {
            return Err(ModelFileError::Invalid {
                path,
                message: "unexpected bytes after the checksum".into(),
            });
        }
        let manifest: Manifest =
            serde_json::from_slice(manifest_bytes).map_err(|e| ModelFileError::Invalid {
                path: path.clone(),
                message: format!("manifest does not parse: {e}"),
            })?;
        Ok(ModelFile {
            manifest,
            payload: payload.to_vec(),
            origin: path,
        })
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Self, ModelFileError> {
        let bytes = std::fs::read(path).map_err(|source| ModelFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        ModelFile::from_bytes(&bytes, &path.display().to_string())
    }

    /// Writes the model file atomically (temporary file + rename).
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        let io = |source| ModelFileError::Io {
            path: path.display().to_string(),
            source,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&self.to_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }

    /// The name this model was loaded from.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ModelFile {
        let mut m = ModelFile::new("masquerade", serde_json::json!({"similarity": 0.85}));
        m.manifest.training.events = 10;
        m.manifest.score_distribution = Some(ScoreDistribution::from_scores(&[0.1, 0.2, 0.3]));
        m.put_json("counts", &vec![("cmd.exe", 3u64), ("svchost.exe", 40)])
            .unwrap();
        m.put_bytes("weights", "raw", &[1, 2, 3, 4]);
        m
    }

    #[test]
    fn round_trip() {
        let m = sample();
        let bytes = m.to_bytes();
        let back = ModelFile::from_bytes(&bytes, "m.oddhunt").unwrap();
        assert_eq!(back.manifest, m.manifest);
        let counts: Vec<(String, u64)> = back.get_json("counts").unwrap();
        assert_eq!(counts[1], ("svchost.exe".to_string(), 40));
        assert_eq!(back.get_bytes("weights").unwrap().0, &[1, 2, 3, 4]);
        assert!(back
            .get_json::<u8>("nope")
            .unwrap_err()
            .to_string()
            .contains("no section"));
    }

    #[test]
    fn refuses_bad_files() {
        let bytes = sample().to_bytes();
        let msg = |b: &[u8]| {
            ModelFile::from_bytes(b, "m.oddhunt")
                .unwrap_err()
                .to_string()
        };
        assert!(msg(b"hello world, not a model").contains("not an oddhunt model"));
        assert!(msg(&bytes[..bytes.len() - 40]).contains("truncated"));
        assert!(msg(&bytes[..10]).contains("truncated"));
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        assert!(msg(&flipped).contains("corrupted"));
        let mut newer = bytes.clone();
        newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert!(msg(&newer).contains("newer"));
        let mut longer = bytes;
        longer.push(0);
        assert!(msg(&longer).contains("after the checksum"));
    }

    #[test]
    fn saves_atomically() {
        let dir = std::env::temp_dir().join(format!("oddhunt-mf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.oddhunt");
        sample().save(&path).unwrap();
        let back = ModelFile::load(&path).unwrap();
        assert_eq!(back.manifest.detector, "masquerade");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
