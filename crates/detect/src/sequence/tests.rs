//! Unit tests of the sequence detector.
