"""What the interop scripts share: the project's parity rule
(tests/test_support.h, kParityRtol and kParityAtol: outputs match the C++
ones up to float32 rounding at their scale, max|got - want| <= RTOL *
max|want| + ATOL), and how a check that cannot run here ends."""
import os
import sys

RTOL = 1e-5
ATOL = 1e-7


def skip(reason):
    """Exits 77 (skipped), or 1 where ADAPTIVE_NO_SKIP says nothing may be skipped (CI)."""
    no_skip = os.environ.get("ADAPTIVE_NO_SKIP", "")
    if no_skip not in ("", "0"):
        print(f"FAIL: {reason}, and ADAPTIVE_NO_SKIP={no_skip} makes a skip a failure")
        sys.exit(1)
    print(f"SKIPPED: {reason}")
    sys.exit(77)


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
