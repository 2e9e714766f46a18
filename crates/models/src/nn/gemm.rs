//! The one matrix product the network needs, as a safe wrapper over `matrixmultiply::sgemm`.
//!
//! Every dense layer's forward and backward pass is `C = op(A) · op(B) (+ C)` on row-major `f32`
//! slices, where `op` optionally transposes by swapping strides. `matrixmultiply` was chosen by
//! measurement (`../shared/STACK.md` §4): fastest at the 256-row batches used here, pure Rust,
//! run-time AVX2/FMA dispatch, and a 23 CPU-s clean build.

/// Whether an operand is used as stored (row-major) or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// Use the matrix as stored.
    Plain,
    /// Use its transpose (the same memory read with swapped strides).
    Transposed,
}

/// `c = op(a) · op(b) + beta · c`, with `op(a)` of shape `m × k`, `op(b)` `k × n` and `c`
/// `m × n`, all row-major and densely packed. `beta` is 0 (overwrite) or 1 (accumulate).
///
/// Panics if a slice is shorter than its shape says: shapes come from a validated
/// architecture, never from input data, so a mismatch is a bug in this module.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    op_a: Op,
    b: &[f32],
    op_b: Op,
    beta: f32,
    c: &mut [f32],
) {
    assert!(a.len() >= m * k, "gemm: A has {} < {m}×{k}", a.len());
    assert!(b.len() >= k * n, "gemm: B has {} < {k}×{n}", b.len());
    assert!(c.len() >= m * n, "gemm: C has {} < {m}×{n}", c.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // An empty sum: the product contributes nothing.
        c[..m * n].iter_mut().for_each(|v| *v *= beta);
        return;
    }
    // Row/column strides (in elements) of op(A) (m × k) and op(B) (k × n). A stored row-major
    // m × k has strides (k, 1); its stored form when transposed is k × m, read as (1, m).
    let (rsa, csa) = match op_a {
        Op::Plain => (k, 1),
        Op::Transposed => (1, m),
    };
    let (rsb, csb) = match op_b {
        Op::Plain => (n, 1),
        Op::Transposed => (1, k),
    };
    // SAFETY: sgemm reads A at indices i*rsa + l*csa for i < m, l < k, whose maximum is
    // (m-1)*k + (k-1) = m*k - 1 (plain) or (m-1) + (k-1)*m = m*k - 1 (transposed), inside `a`
    // (asserted above); likewise for B (k*n - 1 < b.len()). It writes C at i*n + j <= m*n - 1 <
    // c.len(), and the strides (n, 1) never make two C elements alias. `c` is a `&mut` borrow,
    // so it cannot overlap `a` or `b`. The dimensions are non-zero here and fit isize because
    // they index existing slices.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive reference product of row-major matrices with optional transposes.
    #[allow(clippy::too_many_arguments)]
    fn naive(m: usize, k: usize, n: usize, a: &[f32], ta: Op, b: &[f32], tb: Op) -> Vec<f32> {
        let at = |i: usize, l: usize| match ta {
            Op::Plain => a[i * k + l],
            Op::Transposed => a[l * m + i],
        };
        let bt = |l: usize, j: usize| match tb {
            Op::Plain => b[l * n + j],
            Op::Transposed => b[j * k + l],
        };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| at(i, l) * bt(l, j)).sum();
            }
        }
        c
    }

    #[test]
    fn all_transpose_combinations_match_naive_product() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.73).cos()).collect();
        for ta in [Op::Plain, Op::Transposed] {
            for tb in [Op::Plain, Op::Transposed] {
                let mut c = vec![1.0; m * n];
                gemm(m, k, n, &a, ta, &b, tb, 1.0, &mut c);
                let expected = naive(m, k, n, &a, ta, &b, tb);
                for (got, want) in c.iter().zip(&expected) {
                    assert!((got - (want + 1.0)).abs() < 1e-5, "{ta:?} {tb:?}");
                }
            }
        }
    }
}
