//! What is proved about a network over a domain before counting: the input set as the bound
//! methods see it (`set`), sound pre-activation intervals and the neurons they prove stable
//! (`interval`), and the certified linear algebra they use (`linalg`).
//!
//! It sits below both the bounds and the exact engine (model → domain → analysis → bounds | exact),
//! so that neither imports the other for it: the walk uses the stable neurons to skip hyperplanes,
//! the bounds use the same intervals to count.

pub mod interval;
pub mod linalg;
pub mod set;
