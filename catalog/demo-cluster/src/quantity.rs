//! Kubernetes resource quantities (`250m`, `1.5`, `128Mi`, `1G`), as numbers.

/// CPU in millicores, from a quantity like `250m`, `2`, `0.5` or `1500000n`.
pub fn millicores(q: &str) -> Option<f64> {
    let q = q.trim();
    if let Some(n) = q.strip_suffix('n') {
        return n.parse::<f64>().ok().map(|v| v / 1_000_000.0);
    }
    if let Some(u) = q.strip_suffix('u') {
        return u.parse::<f64>().ok().map(|v| v / 1000.0);
    }
    if let Some(m) = q.strip_suffix('m') {
        return m.parse::<f64>().ok();
    }
    q.parse::<f64>().ok().map(|v| v * 1000.0)
}

/// Bytes, from a quantity like `128Mi`, `1G`, `512k` or `1e6`.
pub fn bytes(q: &str) -> Option<f64> {
    let q = q.trim();
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
        ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("m", 1e-3),
    ];
    for (suffix, mult) in SUFFIXES {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|v| v * mult);
        }
    }
    q.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_and_memory() {
        assert_eq!(millicores("250m"), Some(250.0));
        assert_eq!(millicores("2"), Some(2000.0));
        assert_eq!(millicores("0.5"), Some(500.0));
        assert_eq!(millicores("1500000n"), Some(1.5));
        assert_eq!(bytes("128Mi"), Some(134_217_728.0));
        assert_eq!(bytes("1G"), Some(1e9));
        assert_eq!(bytes("2048Ki"), Some(2_097_152.0));
        assert_eq!(bytes("junk"), None);
    }
}
