//! The JSON interchange format of the design page:
//! `{"layers": [{"weight": [[...], ...], "bias": [...]}, ...], "input_box": {"lower": [...], "upper": [...]}}`,
//! and for a network lowered from a graph with skip connections, `"carrying": [c_1, ...]`: the
//! number of carrying units at the end of each hidden layer (docs/dag.md), so that a saved graph
//! shows the same patterns when loaded again; for a network with max units (theory §11),
//! `"max_windows": [[[start, end], ...], ...]`: each hidden layer's windows as ranges of its units.

use crate::model::{InputBox, Layer, Network};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct JsonNetwork {
    layers: Vec<JsonLayer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_box: Option<JsonBox>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    carrying: Option<Vec<usize>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_windows: Option<Vec<Vec<[usize; 2]>>>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct JsonLayer {
    weight: Vec<Vec<f64>>,
    bias: Vec<f64>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct JsonBox {
    lower: Vec<f64>,
    upper: Vec<f64>,
}

/// Parses the JSON format; the error message gives the line and column or the layer at fault.
pub fn network_from_json_str(text: &str) -> Result<Network, String> {
    let parsed: JsonNetwork = serde_json::from_str(text).map_err(|e| format!("invalid model JSON: {e}"))?;
    let mut layers = Vec::with_capacity(parsed.layers.len());
    for (l, layer) in parsed.layers.into_iter().enumerate() {
        let rows = layer.weight.len();
        let cols = layer.weight.first().map_or(0, Vec::len);
        if let Some(i) = layer.weight.iter().position(|r| r.len() != cols) {
            return Err(format!(
                "layers[{l}].weight is ragged: row {i} has {} entries, row 0 has {cols}",
                layer.weight[i].len()
            ));
        }
        let flat = layer.weight.into_iter().flatten().collect();
        let weight = Array2::from_shape_vec((rows, cols), flat).map_err(|e| format!("layers[{l}].weight: {e}"))?;
        layers.push(Layer { weight: weight.into(), bias: Array1::from(layer.bias) });
    }
    let input_box = parsed.input_box.map(|b| InputBox { lower: b.lower, upper: b.upper });
    let mut net = Network::new(layers, input_box).map_err(|e| e.to_string())?;
    if let Some(windows) = parsed.max_windows {
        let ranges = windows.iter().map(|layer| layer.iter().map(|&[start, end]| start..end).collect()).collect();
        net = net.with_max_windows(ranges).map_err(|e| format!("max_windows: {e}"))?;
    }
    if let Some(carrying) = parsed.carrying {
        check_carrying(&net, &carrying)?;
        net = net.with_carrying(&carrying);
    }
    Ok(net)
}

/// A carrying unit splits no region, so leaving it out of shown patterns loses nothing: an
/// identity unit (a max window of one candidate, which carries values that may be negative)
/// never changes its argmax, and a carrying ReLU passes one ReLU of the layer before on unchanged
/// (weight 1, bias 0), so that its sign is a function of that ReLU's.
fn check_carrying(net: &Network, carrying: &[usize]) -> Result<(), String> {
    let hidden = net.hidden();
    if carrying.len() != hidden.len() {
        return Err(format!("carrying has {} entries for {} hidden layers", carrying.len(), hidden.len()));
    }
    let windows = net.max_windows();
    for (l, (layer, &c)) in hidden.iter().zip(carrying).enumerate() {
        let rows = layer.weight.nrows();
        if c > rows {
            return Err(format!("carrying[{l}] = {c}: layer {l} has {rows} units"));
        }
        for j in rows - c..rows {
            match windows.of(net.neuron_index(l, j)).map(|w| w.len()) {
                Some(1) => continue,
                Some(_) => return Err(format!("carrying[{l}]: unit {j} of layer {l} is a candidate of a max window")),
                None => {}
            }
            let entries: Vec<(usize, f64)> = layer.weight.row(j).filter(|(_, w)| *w != 0.0).collect();
            let reads_a_relu = match entries.as_slice() {
                [(i, w)] => *w == 1.0 && l > 0 && windows.of(net.neuron_index(l - 1, *i)).is_none(),
                _ => false,
            };
            if !reads_a_relu || layer.bias[j] != 0.0 {
                return Err(format!(
                    "carrying[{l}]: unit {j} of layer {l} does not pass one ReLU of the layer before on unchanged \
                     (the input and max units are carried by max windows of one unit)"
                ));
            }
        }
    }
    Ok(())
}

/// Serialises a network to the JSON format (used by tests and scripts that generate networks).
pub fn network_to_json(net: &Network) -> String {
    let doc = JsonNetwork {
        layers: net
            .layers()
            .iter()
            .map(|l| JsonLayer {
                weight: l.weight.to_dense().outer_iter().map(|r| r.to_vec()).collect(),
                bias: l.bias.to_vec(),
            })
            .collect(),
        input_box: net.input_box().map(|b| JsonBox { lower: b.lower.clone(), upper: b.upper.clone() }),
        carrying: net.graph_units().has_carrying().then(|| net.graph_units().carrying()),
        max_windows: (!net.max_windows().is_empty()).then(|| {
            net.max_windows().per_layer().iter().map(|layer| layer.iter().map(|w| [w.start, w.end]).collect()).collect()
        }),
    };
    serde_json::to_string(&doc).expect("a network always serialises")
}
