//! The Pareto front of candidates measured on two figures where more is better (throughput per GPU
//! and speed per user): the ones no other candidate beats on both.

/// Indices of the front of `points` (x, y), by rising x. A point is on it when no other point has
/// x and y at least as large and one of them larger; of exact duplicates the first is kept.
pub fn front(points: &[(f64, f64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    // Highest x first; at equal x the highest y, so the sweep below keeps only it.
    order.sort_by(|&a, &b| {
        points[b]
            .0
            .total_cmp(&points[a].0)
            .then(points[b].1.total_cmp(&points[a].1))
            .then(a.cmp(&b))
    });
    let mut best_y = f64::NEG_INFINITY;
    let mut kept = vec![];
    for i in order {
        if points[i].1 > best_y {
            best_y = points[i].1;
            kept.push(i);
        }
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::front;

    #[test]
    fn the_front_keeps_what_nothing_beats_on_both() {
        // (3, 1) and (1, 3) trade off; (2, 2) too; (1, 1) and (2, 1) are beaten by (2, 2);
        // (3, 0.5) by (3, 1).
        let p = [
            (1.0, 1.0),
            (3.0, 1.0),
            (2.0, 2.0),
            (1.0, 3.0),
            (2.0, 1.0),
            (3.0, 0.5),
        ];
        assert_eq!(front(&p), [3, 2, 1]);
        assert_eq!(front(&[(1.0, 1.0), (1.0, 1.0)]), [0]);
        assert!(front(&[]).is_empty());
    }
}
