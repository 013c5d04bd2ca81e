//! The biometric store per student and area sync: every pull device of an area ends with the
//! same users, fingerprints, faces and photos, the roster deciding who is removed.

mod biometric_store;
