//! Exact counting: [`count`] picks the engine, the region walk ([`walk`], any domain) or the box
//! partition ([`partition`], boxes and L-inf balls of at most 8 inputs); both return a
//! [`WalkResult`] ([`result`]: options, budgets, regions); the whole space of a one-hidden-layer
//! network is listed by deletion–restriction, without an LP ([`whole`]). After a count: linear regions
//! ([`merge`]) and the exact rational re-check ([`certify`]). [`oracle`] holds the independent
//! references tests compare the engines with.
//!
//! Rooms and their direction: `result` ← `walk` (frontier, one region's expansion, geometry,
//! vertices, row-space reduction, checkpoints) ← `partition` (it cuts cells with the walk's
//! double description) and `whole` (it runs in the walk's row space and hands on to the walk) ←
//! this module's [`count`]. The dataflow walk lives in `crate::cluster`.

pub mod certify;
pub(crate) mod layer_step;
pub mod merge;
pub mod oracle;
pub mod partition;
pub mod regions_file;
pub mod result;
pub mod walk;
pub mod whole;

pub use result::{
    Completeness, Edge, EdgeSink, Engine, Identity, Progress, ProgressFn, Region, RegionSink, StopReason, WalkOptions,
    WalkResult,
};
pub use walk::{resume, Checkpoint};

use crate::domain::Domain;
use crate::model::Network;
use crate::Result;

/// Counts the activation regions of `net` that meet `domain` with the engine `options.engine`
/// names: [`Engine::Auto`] partitions where the partition applies ([`partition::applies`]) and
/// walks elsewhere. Both give the same regions; the result says which counted.
pub fn count(net: &Network, domain: &Domain, options: &WalkOptions) -> Result<WalkResult> {
    if whole::applies(net, domain, options) {
        return whole::count(net, domain, options);
    }
    let partitioned = partition::applies(net, domain, options);
    match options.engine {
        Engine::Auto | Engine::Partition if partitioned => partition::partition(net, domain, options),
        Engine::Partition => Err(crate::Error::Settings(
            "the box partition counts bounded boxes (and L-inf balls) of at most 8 inputs, without \
             edges, checkpoints or --highs-only; use the walk for this domain"
                .into(),
        )),
        Engine::Arrangement => Err(crate::Error::Settings(
            "the arrangement engine counts the whole space of a network with one hidden layer of ReLUs, \
             without edges, checkpoints or --highs-only; use the walk for this problem"
                .into(),
        )),
        Engine::Auto | Engine::Walk => walk::walk(net, domain, options),
    }
}
