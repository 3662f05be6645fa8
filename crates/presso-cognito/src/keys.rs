//! The RS256 signing key: generated once per data directory, published as a JWKS.
//!
//! Key generation is slow (a 2048-bit RSA key takes seconds in debug builds), so a key is made
//! once and stored with the user pools; hosts and tests can also hand one in. This module never
//! decides what goes into a token, only how it is signed and checked.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::VerifyError;

const KEY_BITS: usize = 2048;

/// An RSA private key with its key id. Cheap to clone.
#[derive(Clone)]
pub struct SigningKey {
    der: std::sync::Arc<Vec<u8>>,
    kid: String,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate an RSA key: {0}")]
    Generate(String),
    #[error("stored signing key is unreadable: {0}")]
    Decode(String),
}

impl SigningKey {
    /// Generates a fresh 2048-bit key from the operating system's randomness.
    pub fn generate() -> Result<Self, KeyError> {
        let mut rng = rsa::rand_core::OsRng;
        let key = RsaPrivateKey::new(&mut rng, KEY_BITS)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        Self::from_private(&key)
    }

    /// Reads a PKCS#1 DER private key (what [`SigningKey::to_pkcs1_der`] wrote).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let key =
            RsaPrivateKey::from_pkcs1_der(der).map_err(|e| KeyError::Decode(e.to_string()))?;
        Self::from_private(&key)
    }

    pub fn to_pkcs1_der(&self) -> Vec<u8> {
        self.der.as_ref().clone()
    }

    fn from_private(key: &RsaPrivateKey) -> Result<Self, KeyError> {
        let der = key
            .to_pkcs1_der()
            .map_err(|e| KeyError::Decode(e.to_string()))?
            .as_bytes()
            .to_vec();
        let n = key.n().to_bytes_be();
        let e = key.e().to_bytes_be();
        // The key id is a digest of the public key, so it is stable across restarts and
        // changes whenever the key does (a verifier's JWKS cache then misses, as it should).
        let mut hasher = Sha256::new();
        hasher.update(&n);
        hasher.update(b".");
        hasher.update(&e);
        let kid = URL_SAFE_NO_PAD.encode(&hasher.finalize()[..24]);
        Ok(Self {
            der: std::sync::Arc::new(der),
            kid,
            n,
            e,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as one JWK (`kty`, `alg`, `use`, `kid`, `n`, `e`).
    pub fn jwk(&self) -> Value {
        json!({
            "alg": "RS256",
            "e": URL_SAFE_NO_PAD.encode(&self.e),
            "kid": self.kid,
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(&self.n),
            "use": "sig",
        })
    }

    /// The JWKS document: `{"keys": [<jwk>]}`.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk()] })
    }

    pub(crate) fn sign(&self, claims: &Map<String, Value>) -> Result<String, String> {
        let header = Header {
            typ: None,
            alg: Algorithm::RS256,
            kid: Some(self.kid.clone()),
            ..Header::default()
        };
        let key = EncodingKey::from_rsa_der(&self.der);
        jsonwebtoken::encode(&header, claims, &key).map_err(|e| e.to_string())
    }

    /// Checks the signature and the key id; time and issuer are the caller's to check, on its
    /// own clock.
    pub(crate) fn verify_signature(&self, token: &str) -> Result<Map<String, Value>, VerifyError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 || header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(VerifyError::BadSignature);
        }
        let key = DecodingKey::from_rsa_raw_components(&self.n, &self.e);
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => VerifyError::BadSignature,
                    _ => VerifyError::Malformed(e.to_string()),
                }
            })?;
        Ok(data.claims)
    }
}
