//! Kubernetes resource quantities (`250m`, `1.5`, `128Mi`, `1G`, `1e3`) as numbers, by the
//! grammar of `k8s.io/apimachinery/pkg/api/resource`: a signed decimal number, then a binary-SI
//! suffix (`Ki` … `Ei`), a decimal-SI suffix (`n`, `u`, `m`, none, `k`, `M`, `G`, `T`, `P`, `E`)
//! or a decimal exponent (`e3`, `E-2`). `1E` is one exa, `1E3` is a thousand, as in Go.
//!
//! The portal (pod metrics against requests and limits) and the demo cluster (its metrics
//! server and scheduler) both read quantities with this one file; the simulator includes it by
//! path because it must not depend on the product crate. Hand-written because the values are
//! only ever shown or compared as `f64`: the crate for this (`kube_quantity`) parses through
//! `f64` as well and would add `nom` and `rust_decimal` to the tree for two functions.

/// A quantity in base units (cores, bytes, …); `None` if it does not follow the grammar.
pub fn parse(q: &str) -> Option<f64> {
    scaled(q, 0)
}

/// CPU in cores (`250m` → 0.25).
pub fn cores(q: &str) -> Option<f64> {
    scaled(q, 0)
}

/// CPU in millicores (`250m` → 250).
pub fn millicores(q: &str) -> Option<f64> {
    scaled(q, 3)
}

/// Bytes (`128Mi` → 134217728).
pub fn bytes(q: &str) -> Option<f64> {
    scaled(q, 0)
}

/// The quantity times 10^`shift`, with one rounding for decimal suffixes (`250m` at shift 3 is
/// exactly 250).
fn scaled(q: &str, shift: i32) -> Option<f64> {
    let q = q.trim();
    let (number, suffix) = q.split_at(number_len(q)?);
    let value: f64 = number.parse().ok()?;
    let binary = |power: i32| {
        Some(value * 1024f64.powi(power) * 10f64.powi(shift)).filter(|v| v.is_finite())
    };
    let exponent = match suffix {
        "Ki" => return binary(1),
        "Mi" => return binary(2),
        "Gi" => return binary(3),
        "Ti" => return binary(4),
        "Pi" => return binary(5),
        "Ei" => return binary(6),
        "n" => -9,
        "u" => -6,
        "m" => -3,
        "" => 0,
        "k" => 3,
        "M" => 6,
        "G" => 9,
        "T" => 12,
        "P" => 15,
        "E" => 18,
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            exponent.parse::<i32>().ok()?
        }
    };
    let e = exponent.checked_add(shift)?;
    let v = if e >= 0 {
        value * 10f64.powi(e)
    } else {
        value / 10f64.powi(e.checked_neg()?)
    };
    Some(v).filter(|v| v.is_finite())
}

/// The length of the signed decimal number at the start of `q` (`-1.5`, `.5`, `2.`), if any.
fn number_len(q: &str) -> Option<usize> {
    let b = q.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    i += int;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        frac = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += 1 + frac;
    }
    (int + frac > 0).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_suffix_of_the_grammar() {
        assert_eq!(cores("250m"), Some(0.25));
        assert_eq!(millicores("250m"), Some(250.0));
        assert_eq!(millicores("2"), Some(2000.0));
        assert_eq!(millicores("0.5"), Some(500.0));
        assert_eq!(millicores("1500000n"), Some(1.5));
        assert_eq!(cores("100u"), Some(100e-6));
        assert_eq!(bytes("128Mi"), Some(134_217_728.0));
        assert_eq!(bytes("2048Ki"), Some(2_097_152.0));
        assert_eq!(bytes("1Pi"), Some(1_125_899_906_842_624.0));
        assert_eq!(bytes("1Ei"), Some(1_152_921_504_606_846_976.0));
        assert_eq!(bytes("1G"), Some(1e9));
        assert_eq!(bytes("2P"), Some(2e15));
        assert_eq!(bytes("1E"), Some(1e18));
        assert_eq!(bytes("1e6"), Some(1e6));
        assert_eq!(bytes("1E3"), Some(1e3));
        assert_eq!(bytes("5e-3"), Some(5e-3));
        assert_eq!(bytes("1.5E+2"), Some(150.0));
        assert_eq!(bytes(".5k"), Some(500.0));
        assert_eq!(bytes("2."), Some(2.0));
        assert_eq!(bytes("-1Ki"), Some(-1024.0));
        assert_eq!(bytes(" 1k "), Some(1e3));
    }

    #[test]
    fn refuses_what_is_not_a_quantity() {
        for q in [
            "",
            "junk",
            "Mi",
            "1.2.3",
            "1KiB",
            "1ki",
            "inf",
            "NaN",
            "1e",
            "1e+",
            "1e1.5",
            "1 Mi",
            "--1",
            "1e999999",
            "1e99999999999",
            "1e400Ei",
        ] {
            assert_eq!(parse(q), None, "{q:?}");
        }
    }
}
