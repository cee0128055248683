//! VNN-LIB input sets: the boxes that the `(assert ...)` constraints on `X_i` describe (`<=`/`>=`
//! against numbers, nested in `and` and `or`). A disjunction of input boxes is a union: each box is
//! a separate domain. Constraints on outputs (`Y_j`) are ignored: regionwalk only needs the inputs.

/// One input box: per-input lower and upper bounds.
pub type InputBoxBounds = (Vec<f64>, Vec<f64>);

/// The file's input box; an error if the file describes a union of several boxes.
pub fn input_box_from_vnnlib(text: &str) -> Result<InputBoxBounds, String> {
    let mut boxes = input_boxes_from_vnnlib(text)?;
    match boxes.len() {
        1 => Ok(boxes.pop().unwrap()),
        n => Err(format!(
            "the file describes a union of {n} input boxes; select one with FILE.vnnlib#K (K = 0..{})",
            n - 1
        )),
    }
}

/// Every input box of the file (a union of boxes when an `or` separates input constraints).
pub fn input_boxes_from_vnnlib(text: &str) -> Result<Vec<InputBoxBounds>, String> {
    let tokens = tokenize(text);
    let mut pos = 0;
    let mut exprs = Vec::new();
    while pos < tokens.len() {
        exprs.push(parse(&tokens, &mut pos)?);
    }
    let inputs = exprs
        .iter()
        .filter_map(|e| match e {
            Expr::List(items) if items.len() >= 2 && items[0].atom() == Some("declare-const") => items[1].atom(),
            _ => None,
        })
        .filter(|name| name.starts_with("X_"))
        .count();
    if inputs == 0 {
        return Err("no input variables (declare-const X_i Real) found".into());
    }
    // Each assert contributes a disjunction of conjunctions of input bounds.
    let mut boxes = vec![(vec![f64::NEG_INFINITY; inputs], vec![f64::INFINITY; inputs])];
    for e in &exprs {
        let Expr::List(items) = e else { continue };
        if items.first().and_then(Expr::atom) != Some("assert") {
            continue;
        }
        let body = items.get(1).ok_or("empty assert")?;
        let mut options = disjuncts(body, inputs)?;
        options.dedup();
        if options.iter().all(|o| o.is_empty()) {
            continue;
        }
        if boxes.len() * options.len() > MAX_BOXES {
            return Err(format!("more than {MAX_BOXES} input boxes"));
        }
        boxes = boxes
            .iter()
            .flat_map(|b| {
                options.iter().map(move |o| {
                    let mut b = b.clone();
                    apply(&mut b, o);
                    b
                })
            })
            .collect();
    }
    for (k, (lower, upper)) in boxes.iter().enumerate() {
        let which = if boxes.len() > 1 { format!("box {k}: ") } else { String::new() };
        for i in 0..inputs {
            if !(lower[i].is_finite() && upper[i].is_finite()) {
                return Err(format!("{which}X_{i} is not bounded on both sides"));
            }
            if lower[i] > upper[i] {
                return Err(format!("{which}X_{i} has an empty range [{}, {}]", lower[i], upper[i]));
            }
        }
    }
    Ok(boxes)
}

/// Most input boxes a file may describe.
const MAX_BOXES: usize = 100_000;

/// A bound `X_i <= v` (`upper = true`) or `X_i >= v`.
type Bound = (usize, bool, f64);

fn apply(b: &mut (Vec<f64>, Vec<f64>), bounds: &[Bound]) {
    for &(i, upper, v) in bounds {
        if upper {
            b.1[i] = b.1[i].min(v);
        } else {
            b.0[i] = b.0[i].max(v);
        }
    }
}

/// The input bounds of an expression in disjunctive form (output constraints dropped).
fn disjuncts(e: &Expr, inputs: usize) -> Result<Vec<Vec<Bound>>, String> {
    let Expr::List(items) = e else { return Ok(vec![vec![]]) };
    let head = items.first().and_then(Expr::atom).ok_or("expected an operator")?;
    match head {
        "and" => {
            let mut acc = vec![vec![]];
            for item in &items[1..] {
                let options = disjuncts(item, inputs)?;
                acc = acc.iter().flat_map(|a| options.iter().map(move |o| [a.clone(), o.clone()].concat())).collect();
            }
            Ok(acc)
        }
        "or" => items[1..].iter().map(|i| disjuncts(i, inputs)).collect::<Result<Vec<_>, _>>().map(|v| v.concat()),
        "<=" | ">=" => {
            let [_, a, b] = &items[..] else { return Err(format!("'{head}' needs two operands")) };
            let (var, value, var_first) = match (a.atom(), b.atom()) {
                (Some(x), Some(v)) if x.starts_with("X_") => (x, v, true),
                (Some(v), Some(x)) if x.starts_with("X_") => (x, v, false),
                _ => return Ok(vec![vec![]]),
            };
            let i: usize = var[2..].parse().map_err(|_| format!("bad variable name '{var}'"))?;
            if i >= inputs {
                return Err(format!("{var} is not declared"));
            }
            let v: f64 = value.parse().map_err(|_| format!("'{value}' is not a number"))?;
            // (<= X v) and (>= v X) bound X from above.
            Ok(vec![vec![(i, (head == "<=") == var_first, v)]])
        }
        _ => Ok(vec![vec![]]),
    }
}

#[derive(Debug)]
enum Expr {
    Atom(String),
    List(Vec<Expr>),
}

impl Expr {
    fn atom(&self) -> Option<&str> {
        match self {
            Expr::Atom(s) => Some(s),
            Expr::List(_) => None,
        }
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for line in text.lines() {
        let line = line.split(';').next().unwrap_or("");
        let spaced = line.replace('(', " ( ").replace(')', " ) ");
        tokens.extend(spaced.split_whitespace().map(str::to_string));
    }
    tokens
}

fn parse(tokens: &[String], pos: &mut usize) -> Result<Expr, String> {
    let t = tokens.get(*pos).ok_or("unexpected end of file")?;
    *pos += 1;
    match t.as_str() {
        "(" => {
            let mut items = Vec::new();
            while tokens.get(*pos).map(String::as_str) != Some(")") {
                if *pos >= tokens.len() {
                    return Err("unbalanced parentheses".into());
                }
                items.push(parse(tokens, pos)?);
            }
            *pos += 1;
            Ok(Expr::List(items))
        }
        ")" => Err("unexpected ')'".into()),
        atom => Ok(Expr::Atom(atom.to_string())),
    }
}
