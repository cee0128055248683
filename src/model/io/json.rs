//! The JSON interchange format of the design page:
//! `{"layers": [{"weight": [[...], ...], "bias": [...]}, ...], "input_box": {"lower": [...], "upper": [...]}}`.

use crate::model::{InputBox, Layer, Network};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct JsonNetwork {
    layers: Vec<JsonLayer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_box: Option<JsonBox>,
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
    Network::new(layers, input_box).map_err(|e| e.to_string())
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
    };
    serde_json::to_string(&doc).expect("a network always serialises")
}
