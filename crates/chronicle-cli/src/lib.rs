//! The `chronicle` binary's library half: the HTTP API ([`http`]) and the mapping of engine
//! errors to exit codes ([`exit`]), kept here so tests and benchmarks can start the server
//! in-process.

pub mod exit;
pub mod http;
