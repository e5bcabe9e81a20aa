"""The project's parity rule for the interop scripts (tests/test_support.h,
kParityRtol and kParityAtol): outputs match the C++ ones up to float32
rounding at their scale, max|got - want| <= RTOL * max|want| + ATOL."""
import sys

RTOL = 1e-5
ATOL = 1e-7


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def close(got, want, what):
    """`got` and `want`: tensors or arrays of the same shape (anything with
    .shape whose float64 copy supports -, abs() and max())."""
    check(tuple(got.shape) == tuple(want.shape),
          f"{what}: shape {list(got.shape)} == {list(want.shape)}")
    diff = float(abs(got - want).max())
    scale = float(abs(want).max())
    bound = RTOL * scale + ATOL
    check(diff <= bound, f"{what}: max difference {diff} > {bound} ({RTOL} x max|expected| "
                         f"{scale} + {ATOL})")
    return diff
