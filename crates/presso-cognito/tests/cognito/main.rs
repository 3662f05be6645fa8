//! The identity provider driven as the apps, the robot and the AWS CLI drive it: one test
//! binary, so the RSA key is generated once.

mod admin;
mod persistence;
mod sign_in;
mod support;
mod tokens;
