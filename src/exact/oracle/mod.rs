//! Independent references the tests compare the engines with, each as simple as it can be and
//! sharing no step with the walk: the layer-wise splitter ([`split`], theory §6.1: branch on every
//! neuron, an LP per branch) and dense sampling ([`sample`]: forward passes at random points, whose
//! patterns every count must hold; the bounds' sampled lower bound uses it too).

pub mod sample;
pub mod split;
