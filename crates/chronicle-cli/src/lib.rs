//! The `chronicle` binary's library half: the HTTP API ([`http`]) and the mapping of engine
//! errors to exit codes ([`exit`]), kept here so tests and benchmarks can start the server
//! in-process.

/// The allocator of the `chronicle` binary and of everything that links this library (its tests
/// and benchmarks, so they measure what ships). See the workspace's `mimalloc` entry for why.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod exit;
pub mod http;
